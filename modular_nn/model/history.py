"""Keras-style training history."""

from __future__ import annotations

from typing import Any

from modular_nn.errors import TrainingError
from modular_nn.names import link_name_problem


class History:
    """Per-epoch values: ``history["loss"]``, ``history["val_loss"]``, metric lists.

    Attributes:
        history: metric name -> list of per-epoch values.
        epoch: the 1-based epoch numbers the values belong to.
    """

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def append(self, epoch: int, logs: dict[str, float]) -> None:
        """Record the logs of one finished epoch (1-based number)."""
        self.epoch.append(epoch)
        self.add_to_last_epoch(logs)

    def add_to_last_epoch(self, logs: dict[str, float]) -> None:
        """Record values that callbacks added to the last epoch's logs.

        ``TrainingError`` for a name a checkpoint cannot hold (empty, ``.``, ``..``, or
        containing ``/`` or NUL), or a value that is not a number.
        """

        for key, value in logs.items():
            problem = link_name_problem(key)
            if problem:
                raise TrainingError(f"cannot log {key!r}: {problem}")
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise TrainingError(
                    f"cannot log {key!r}: expected a number, received {value!r}"
                ) from None
            self.history.setdefault(key, []).append(number)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready ``{"epoch": [...], "history": {...}}``."""
        return {"epoch": list(self.epoch), "history": {k: list(v) for k, v in self.history.items()}}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> History:
        """Inverse of ``to_dict``."""
        history = cls()
        history.epoch = [int(e) for e in data.get("epoch", [])]
        history.history = {
            str(k): [float(x) for x in v] for k, v in data.get("history", {}).items()
        }
        return history

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={sorted(self.history)})"
