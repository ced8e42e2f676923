"""The callbacks API: hooks into the training loop.

Progress output and, later, early stopping and periodic checkpoints are
callbacks themselves. A callback gets ``set_model`` first, then the ``on_*``
calls; setting ``model.stop_training = True`` ends ``fit`` after the epoch.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from modular_nn.model.model import Model


class Callback:
    """Base class: override the hooks you need. ``logs`` are per-epoch or per-batch values."""

    model: Model

    def set_model(self, model: Model) -> None:
        self.model = model

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None: ...

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None: ...

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None: ...

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None: ...

    def on_train_batch_end(self, step: int, logs: dict[str, Any] | None = None) -> None: ...


class CallbackList(Callback):
    """Calls every callback in order."""

    def __init__(self, callbacks: list[Callback], model: Model) -> None:
        self.callbacks = list(callbacks)
        for callback in self.callbacks:
            callback.set_model(model)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        for c in self.callbacks:
            c.on_train_begin(logs)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        for c in self.callbacks:
            c.on_train_end(logs)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        for c in self.callbacks:
            c.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        for c in self.callbacks:
            c.on_epoch_end(epoch, logs)

    def on_train_batch_end(self, step: int, logs: dict[str, Any] | None = None) -> None:
        for c in self.callbacks:
            c.on_train_batch_end(step, logs)


def format_logs(logs: dict[str, Any]) -> str:
    """``loss: 0.1234 - accuracy: 0.9800``."""
    return " - ".join(f"{key}: {value:.4f}" for key, value in logs.items())


class ProgressLogger(Callback):
    """Prints training progress: ``mode=1`` a progress bar per epoch, ``mode=2`` one line."""

    def __init__(
        self, mode: int, steps: int, epochs_end: int, stream: TextIO | None = None
    ) -> None:
        self.mode, self.steps, self.epochs_end = mode, steps, epochs_end
        self.stream = stream or sys.stdout
        self.width = 30

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.start = time.perf_counter()
        self.last_draw = 0.0
        if self.mode == 1:
            self.stream.write(f"Epoch {epoch + 1}/{self.epochs_end}\n")

    def on_train_batch_end(self, step: int, logs: dict[str, Any] | None = None) -> None:
        if self.mode != 1:
            return
        now = time.perf_counter()
        if step + 1 < self.steps and now - self.last_draw < 0.1:
            return
        self.last_draw = now
        done = int(self.width * (step + 1) / self.steps)
        bar = "=" * done + "." * (self.width - done)
        loss = (logs or {}).get("loss")
        tail = f" - loss: {loss:.4f}" if loss is not None else ""
        self.stream.write(f"\r{step + 1}/{self.steps} [{bar}]{tail}")
        self.stream.flush()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        seconds = time.perf_counter() - self.start
        text = format_logs(logs or {})
        if self.mode == 1:
            self.stream.write(
                f"\r{self.steps}/{self.steps} [{'=' * self.width}] {seconds:.1f}s - {text}\n"
            )
        else:
            self.stream.write(f"Epoch {epoch + 1}/{self.epochs_end} - {seconds:.1f}s - {text}\n")
        self.stream.flush()
