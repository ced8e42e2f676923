"""Keras-style training history."""

from __future__ import annotations

from typing import Any

import numpy as np

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
        for key, value in logs.items():
            self.history.setdefault(key, []).append(float(value))

    def add_to_last_epoch(self, logs: dict[str, Any]) -> None:
        """Record values that callbacks added to the last epoch's logs: the real numbers
        under names a checkpoint can hold (not empty, ``.`` or ``..``, without ``/`` or
        NUL); anything else stays in the callbacks' ``logs`` only."""
        for key, value in logs.items():
            if _loggable(key, value):
                self.history.setdefault(key, []).append(float(value))

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


def _loggable(key: Any, value: Any) -> bool:
    if link_name_problem(key) is not None or np.ndim(value) != 0:
        return False
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True
