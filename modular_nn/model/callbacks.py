"""The callbacks API: hooks into the training loop.

The progress output, early stopping and periodic checkpoints are callbacks
themselves; ``ReduceLROnPlateau`` and ``CSVLogger`` are the others Keras users
expect. A callback gets ``set_model`` first, then the ``on_*`` calls, in this
order, as Keras makes them::

    on_train_begin
      on_epoch_begin(epoch)            # epoch is 0-based and counts the whole run:
                                       # the run's 4th epoch is 3, resumed or not
        on_train_batch_end(step, {"loss": running mean})   # step 0-based, per epoch
      on_epoch_end(epoch, logs)        # logs: loss, metrics, val_* of the epoch
      on_epoch_recorded(epoch, logs)   # the history holds the epoch (checkpoints)
    on_train_end(logs)                 # the last epoch's logs

Setting ``model.stop_training = True`` ends ``fit`` after the current epoch.
Options of the built-in callbacks are checked when they are made: a wrong one
is a ``CallbackError`` (a ``TrainingError``) naming it and a fix.
"""

from __future__ import annotations

import csv
import math
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

from modular_nn.errors import CallbackError, TrainingError
from modular_nn.model.callback_options import (
    CSVLoggerOptions,
    ModelCheckpointOptions,
    ReduceLROnPlateauOptions,
    maximizes,
    validated,
)
from modular_nn.names import checkpoint_name_problem
from modular_nn.spec.early_stopping import EarlyStoppingConfig

if TYPE_CHECKING:
    from modular_nn.model.history import History
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

    def on_epoch_recorded(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """After every callback's ``on_epoch_end``, once ``model.history`` holds the epoch's
        logs with what callbacks added to them: where a callback saves the model."""

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

    def on_epoch_recorded(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        for c in self.callbacks:
            c.on_epoch_recorded(epoch, logs)

    def on_train_batch_end(self, step: int, logs: dict[str, Any] | None = None) -> None:
        for c in self.callbacks:
            c.on_train_batch_end(step, logs)


def format_logs(logs: dict[str, Any]) -> str:
    """``loss: 0.1234 - accuracy: 0.9800``."""
    return " - ".join(f"{key}: {value:.4f}" for key, value in logs.items())


def _duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}m{seconds:02d}s"


class ProgressLogger(Callback):
    """Prints training progress.

    ``mode=1``: a progress bar per epoch, redrawn at most ten times a second
    (``12/45 [=======>......] - ETA: 1.2s - loss: 0.2345``), ending in the
    epoch's line of training and validation values; meant for a terminal.
    ``mode=2``: one plain line per epoch (``Epoch 3/50 - 0.2s - loss: ...``),
    for logs and pipes.
    """

    def __init__(
        self, mode: int, steps: int, epochs_end: int, stream: TextIO | None = None
    ) -> None:
        self.mode, self.steps, self.epochs_end = mode, steps, epochs_end
        self.stream = stream or sys.stdout
        self.width = 30

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.start = time.perf_counter()
        self.last_draw = 0.0
        self.drawn = 0
        if self.mode == 1:
            self.stream.write(f"Epoch {epoch + 1}/{self.epochs_end}\n")

    def _bar(self, done: int) -> str:
        filled = self.width * done // self.steps
        head = ">" if 0 < filled < self.width else ""
        return "=" * (filled - len(head)) + head + "." * (self.width - filled)

    def on_train_batch_end(self, step: int, logs: dict[str, Any] | None = None) -> None:
        if self.mode != 1:
            return
        now = time.perf_counter()
        if step + 1 < self.steps and now - self.last_draw < 0.1:
            return
        self.last_draw = now
        done = step + 1
        eta = (now - self.start) / done * (self.steps - done)
        loss = (logs or {}).get("loss")
        tail = f" - loss: {loss:.4f}" if loss is not None else ""
        line = f"\r{done}/{self.steps} [{self._bar(done)}] - ETA: {_duration(eta)}{tail}"
        self.stream.write(line + " " * max(0, self.drawn - len(line)))
        self.drawn = len(line)
        self.stream.flush()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        seconds = _duration(time.perf_counter() - self.start)
        text = format_logs(logs or {})
        if self.mode == 1:
            line = f"\r{self.steps}/{self.steps} [{'=' * self.width}] {seconds} - {text}"
            self.stream.write(line + " " * max(0, self.drawn - len(line)) + "\n")
        else:
            self.stream.write(f"Epoch {epoch + 1}/{self.epochs_end} - {seconds} - {text}\n")
        self.stream.flush()


def _missing_monitor(callback: str, monitor: str, logs: dict[str, Any]) -> TrainingError:
    """The error for a callback watching a value the run does not log."""
    hint = " (validation values need validation_split or validation data)"
    return TrainingError(
        f"{callback} monitors {monitor!r}, which this run does not report; "
        f"available: {', '.join(logs) or 'none'}" + (hint if monitor.startswith("val_") else "")
    )


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs.

    An epoch improves on the best so far when its value is better by more than
    ``min_delta``. After ``patience`` epochs in a row without improvement
    ``fit`` stops. With ``restore_best_weights`` the parameters and buffers of
    the best epoch are put back when training ends (the optimizer state is
    not), as in Keras. Options: see ``EarlyStoppingConfig``.

    Attributes after training: ``best``, ``best_epoch`` (1-based),
    ``stopped_epoch`` (1-based, None when the run was not cut short).
    """

    def __init__(
        self, *, verbose: bool = False, stream: TextIO | None = None, **options: Any
    ) -> None:
        self.config = validated(EarlyStoppingConfig, "EarlyStopping", options)
        self.verbose, self.stream = verbose, stream
        maximize = maximizes(self.config.monitor, self.config.mode)
        self.sign = -1.0 if maximize else 1.0  # compare sign * value: lower is better

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._reset()
        self.best_weights: dict[str, np.ndarray] | None = None
        self.stopped_epoch: int | None = None
        self._continue_the_run()

    def _reset(self) -> None:
        self.wait, self.best = 0, math.inf * self.sign
        self.best_epoch: int | None = None
        self.last_epoch: int | None = None

    def _continue_the_run(self) -> None:
        """Take up the run's earlier epochs from its history, so that training resumed from
        a checkpoint stops where the uninterrupted run would. A run that had stopped
        starts afresh (a new ``fit`` after early stopping trains on, as in Keras)."""
        history = self.model.history
        if self.replay_stops(history):
            self._reset()
            return
        if history.epoch and self.best_epoch is not None:
            self.last_epoch = history.epoch[-1]
            if not self.config.restore_best_weights:
                return
            kept = self.model.early_stopping_best
            if kept is not None and kept[0] == self.best_epoch:
                self.best_weights = kept[1]  # saved with the checkpoint
            elif self.best_epoch == self.last_epoch:
                self.best_weights = self.model.get_weights()  # they are the best epoch's
            else:  # the best epoch's weights are gone (a file without them): start afresh
                self._reset()

    def replay_stops(self, history: History) -> bool:
        """Replay the epochs ``history`` recorded (from a fresh state); True when this
        callback would have ended that run."""
        self._reset()
        values = history.history.get(self.config.monitor, [])
        if not history.epoch or len(values) != len(history.epoch):
            return False
        stopped = False
        for epoch, value in zip(history.epoch, values):
            if stopped:  # the run stopped there; the next fit started afresh
                self._reset()
            improved = self._observe(epoch, value)
            stopped = not improved and self.wait >= self.config.patience
        return stopped

    def _observe(self, epoch: int, value: float) -> bool:
        """Count epoch ``epoch`` (1-based) with ``value``; True when it improved."""
        if self.sign * value < self.sign * self.best - self.config.min_delta:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            return True
        self.wait += 1
        return False

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        monitor = self.config.monitor
        if monitor not in logs:
            raise _missing_monitor("early stopping", monitor, logs)
        self.last_epoch = epoch + 1
        if self._observe(epoch + 1, float(logs[monitor])):
            if self.config.restore_best_weights:
                self.best_weights = self.model.get_weights()
                self.model.early_stopping_best = (epoch + 1, self.best_weights)
            return
        if self.wait >= self.config.patience:
            self.stopped_epoch = epoch + 1
            self.model.stop_training = True

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        restored = (
            self.best_weights is not None
            and self.best_epoch is not None
            and self.best_epoch != self.last_epoch
        )
        if restored:
            self.model.set_weights(self.best_weights)  # type: ignore[arg-type]
        if self.verbose and self.stopped_epoch is not None:
            monitor = self.config.monitor
            text = (
                f"Epoch {self.stopped_epoch}: early stopping, {monitor} has not improved "
                f"for {self.wait} epoch(s)"
            )
            if restored:
                text += f"; restored the weights of epoch {self.best_epoch} ({monitor}: "
                text += f"{self.best:.4f})"
            (self.stream or sys.stdout).write(text + "\n")


class ModelCheckpoint(Callback):
    """Save the model (``model.save``, HDF5) after epochs, as Keras's ``ModelCheckpoint``.

    Args:
        filepath: where to save, ending in ``.h5`` or ``.hdf5``; ``{epoch}``
            (1-based) and the epoch's logs may appear as format fields:
            ``"run-{epoch:04d}.h5"``, ``"run-{epoch}-{val_loss:.3f}.h5"``. Without a
            field the file is overwritten each time.
        monitor: the logged value ``save_best_only`` watches (default ``val_loss``).
        save_best_only: save only an epoch whose ``monitor`` is better than that of
            every epoch this callback saw before (Keras semantics; no ``min_delta``).
        mode: ``auto`` (larger is better for accuracy, precision, recall, f1, auc,
            r2; smaller otherwise), ``min`` or ``max``.
        every: consider every ``every``-th epoch of the run (epochs 5, 10, ...).
        keep: delete older files beyond the newest ``keep`` (None keeps them all).
        initial_value_threshold: with ``save_best_only``, the value the first saved
            epoch must beat (Keras's option; default: any value).
        verbose: print a line when a file is saved.
    """

    def __init__(
        self,
        filepath: str | os.PathLike[str],
        *,
        monitor: str = "val_loss",
        save_best_only: bool = False,
        mode: str = "auto",
        every: int = 1,
        keep: int | None = None,
        initial_value_threshold: float | None = None,
        verbose: bool = False,
    ) -> None:
        options = validated(
            ModelCheckpointOptions,
            "ModelCheckpoint",
            {"filepath": filepath, "monitor": monitor, "save_best_only": save_best_only,
             "mode": mode, "every": every, "keep": keep,
             "initial_value_threshold": initial_value_threshold},
        )  # fmt: skip
        problem = checkpoint_name_problem(options.filepath)
        if problem:
            raise CallbackError(f"ModelCheckpoint: filepath: {problem}")
        self.options = options
        self.filepath, self.every, self.keep = options.filepath, options.every, options.keep
        self.monitor, self.save_best_only = options.monitor, options.save_best_only
        self.sign = -1.0 if maximizes(options.monitor, options.mode) else 1.0
        threshold = options.initial_value_threshold
        self.best = math.inf * self.sign if threshold is None else threshold
        self.verbose = verbose
        self.saved: list[Path] = []
        self._due: int | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Decide whether this epoch is saved (a subclass may save selectively by calling
        this only for the epochs it wants)."""
        if (epoch + 1) % self.every != 0:
            return
        if self.save_best_only:
            logs = logs or {}
            if self.monitor not in logs:
                raise _missing_monitor("ModelCheckpoint(save_best_only=True)", self.monitor, logs)
            value = float(logs[self.monitor])
            if not self.sign * value < self.sign * self.best:  # NaN never improves
                return
            self.best = value
        self._due = epoch

    def on_epoch_recorded(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        # saved once the history is complete, so that a run resumed from the file logs on
        # exactly as the uninterrupted one (values other callbacks add included)
        if self._due != epoch:
            return
        self._due = None
        if not getattr(self.model, "writes_files", True):
            return  # a data-parallel run: rank 0 writes
        try:
            path = Path(self.filepath.format(epoch=epoch + 1, **(logs or {})))
        except (KeyError, ValueError, IndexError) as exc:
            raise TrainingError(f"cannot format checkpoint path {self.filepath!r}: {exc}") from None
        path.parent.mkdir(parents=True, exist_ok=True)
        self.model.save(path)
        if self.verbose:
            sys.stdout.write(f"Epoch {epoch + 1}: saved {path}\n")
        if path in self.saved:
            self.saved.remove(path)
        self.saved.append(path)
        while self.keep is not None and len(self.saved) > self.keep:
            self.saved.pop(0).unlink(missing_ok=True)


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` stops improving (Keras).

    After ``patience`` epochs in a row whose ``monitor`` is not better than the best so
    far by more than ``min_delta``, the rate the optimizer uses becomes
    ``max(rate * factor, min_lr)`` (never raised: nothing happens once it is at
    ``min_lr``), and ``cooldown`` epochs pass before epochs count again. The rate is
    scaled through the optimizer's ``learning_rate_scale``, applied after its
    ``schedule`` (with a schedule, ``min_lr`` bounds the rate at the reduction; the
    schedule keeps moving it). Each epoch's logs get ``learning_rate``, the rate the
    epoch ended with, before any reduction (as in Keras).

    The counters (wait, cooldown, best) are kept in ``model.reduce_lr_state`` and the
    factor in the optimizer, both saved with checkpoints: a run resumed from one
    (``mnn.load`` then ``fit``) reduces the rate where the whole run does and ends
    with the same weights. A second ``fit`` of the same model continues likewise.

    Args (Keras names and defaults): ``monitor`` ("val_loss"), ``factor`` (0.1, in
    (0, 1)), ``patience`` (10), ``mode`` ("auto": max for accuracy-like names),
    ``min_delta`` (1e-4), ``cooldown`` (0), ``min_lr`` (0), ``verbose``.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: bool | int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
        *,
        stream: TextIO | None = None,
    ) -> None:
        self.config = validated(
            ReduceLROnPlateauOptions,
            "ReduceLROnPlateau",
            {"monitor": monitor, "factor": factor, "patience": patience, "mode": mode,
             "min_delta": min_delta, "cooldown": cooldown, "min_lr": min_lr},
        )  # fmt: skip
        self.verbose, self.stream = bool(verbose), stream
        self.sign = -1.0 if maximizes(self.config.monitor, self.config.mode) else 1.0
        self._reset()

    def _reset(self) -> None:
        self.wait, self.cooldown_counter, self.best = 0, 0, math.inf * self.sign

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Take up the run's counters (a resumed or continued run), or start afresh."""
        state = self.model.reduce_lr_state
        if state is not None and state.get("monitor") == self.config.monitor:
            self.wait, self.cooldown_counter = int(state["wait"]), int(state["cooldown"])
            self.best = float(state["best"])
        else:
            self._reset()

    def _improved(self, value: float) -> bool:
        return self.sign * value < self.sign * self.best - self.config.min_delta

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs if logs is not None else {}
        optimizer = self.model.optimizer
        if optimizer is None:
            return
        monitor = self.config.monitor
        if monitor not in logs:
            raise _missing_monitor("ReduceLROnPlateau", monitor, logs)
        logs["learning_rate"] = rate = float(optimizer.learning_rate)
        value = float(logs[monitor])
        # Keras's order: a cooldown epoch counts down first, then the value is compared
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improved(value):
            self.best, self.wait = value, 0
        elif self.cooldown_counter == 0:
            self.wait += 1
            if self.wait >= self.config.patience and rate > np.float32(self.config.min_lr):
                new = max(rate * self.config.factor, self.config.min_lr)
                optimizer.learning_rate_scale *= new / rate
                self.cooldown_counter, self.wait = self.config.cooldown, 0
                if self.verbose:
                    (self.stream or sys.stdout).write(
                        f"Epoch {epoch + 1}: ReduceLROnPlateau reducing the learning rate to "
                        f"{new:.4g} ({monitor} has not improved for {self.config.patience} "
                        "epoch(s))\n"
                    )
        self.model.reduce_lr_state = {
            "monitor": monitor,
            "wait": self.wait,
            "cooldown": self.cooldown_counter,
            "best": self.best,
        }


class CSVLogger(Callback):
    """Write one row per epoch to a CSV file (Keras's ``CSVLogger``).

    The header is ``epoch`` and the epoch's log keys, sorted (``accuracy, loss,
    val_accuracy, val_loss``); ``epoch`` is 0-based, as Keras writes it. Rows are
    written once every callback has logged its values (``learning_rate`` included) and
    flushed, so the file is complete up to the last epoch even if training is killed.

    Args:
        filename: the CSV file.
        separator: the field separator (one character).
        append: add rows to an existing file (its header is kept and its columns
            followed) instead of starting it afresh.
    """

    def __init__(
        self, filename: str | os.PathLike[str], separator: str = ",", append: bool = False
    ) -> None:
        options = validated(
            CSVLoggerOptions,
            "CSVLogger",
            {"filename": filename, "separator": separator, "append": append},
        )
        self.filename, self.separator, self.append = (
            Path(options.filename),
            options.separator,
            options.append,
        )
        self.keys: list[str] | None = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.keys = None
        if not getattr(self.model, "writes_files", True):
            return
        if self.append and self.filename.exists() and self.filename.stat().st_size:
            with self.filename.open(newline="", encoding="utf-8") as file:
                header = next(csv.reader(file, delimiter=self.separator), None)
            if header and header[0] == "epoch":
                self.keys = header[1:]  # rows follow the file's columns
            return
        try:
            self.filename.parent.mkdir(parents=True, exist_ok=True)
            self.filename.write_text("", encoding="utf-8")
        except OSError as exc:
            raise CallbackError(f"CSVLogger: cannot write {str(self.filename)!r}: {exc}") from None

    def on_epoch_recorded(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if not getattr(self.model, "writes_files", True):
            return
        logs = logs or {}
        rows = []
        if self.keys is None:
            self.keys = sorted(logs)
            rows.append(["epoch", *self.keys])
        rows.append([str(epoch), *(_csv_value(logs.get(key, "")) for key in self.keys)])
        with self.filename.open("a", newline="", encoding="utf-8") as file:
            csv.writer(file, delimiter=self.separator).writerows(rows)


def _csv_value(value: Any) -> str:
    """A logged value as CSV text: numbers in full (``repr``), arrays space-separated."""
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, np.ndarray):
        return " ".join(_csv_value(v) for v in value.ravel().tolist())
    return str(value)
