"""Guarded training: ``fit`` stops at a non-finite loss or non-finite weights, keeps the last
finite state, and says where the values went non-finite.

Cost: each step checks only that its loss (a Python float) is finite. Each epoch
``fit`` copies the training state once at its start (``Snapshot``: parameters,
buffers, optimizer slots and step counts, and the generator's state) and checks
once at its end, before the epoch is logged or any callback (a checkpoint) sees
it, that the parameters and buffers are finite. Memory: one more copy of the
parameters, buffers and optimizer slots while ``fit`` runs.

When a check fails, the model is rolled back by restoring the epoch's snapshot
and replaying the epoch's steps (the same batches and dropout masks: the
generator is part of the snapshot) up to the last finite state:

- the loss of step k is NaN or infinite: step k is never applied. If the
  weights it started from are finite, the model keeps them; if not (the update
  of step k-1 overflowed), it goes back to the state before that update, the
  weights that gave the last finite loss.
- the weights are non-finite at the end of an epoch (the epoch's last update
  overflowed while its loss was finite): the model goes back to the state
  before that update.

The state is then exactly what it was after that many steps: parameters,
buffers (batch-norm statistics), optimizer state, ``global_step`` and the
generator, so no rollback ever crosses an epoch boundary. Finally one step is
run again layer by layer, without its update, to name the first layer whose
output went non-finite and the first parameter whose gradient did, going back
from the loss.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from modular_nn.errors import TrainingError

if TYPE_CHECKING:
    from modular_nn.model.model import Model

Batches = Callable[[], Iterator[tuple[np.ndarray, np.ndarray]]]
ADVICE = "Try a smaller learning rate or gradient clipping (global_clipnorm)."


class NonFiniteLoss(TrainingError):
    """A training step's loss is NaN or infinite; raised before its update is applied."""

    def __init__(self, loss: float, epoch: int, step: int) -> None:
        super().__init__(f"the loss became {loss} at epoch {epoch + 1}, step {step + 1}")
        self.loss, self.epoch, self.step = loss, epoch, step


def non_finite(named: dict[str, np.ndarray]) -> list[str]:
    """The names of the arrays holding a NaN or an infinity, in order."""
    return [name for name, a in named.items() if not np.isfinite(a).all()]


class FiniteCheck:
    """``check()``: the names of ``named``'s arrays holding a NaN or an infinity (usually
    none). Small models are copied into one scratch array first: one check, not one per array.
    """

    SMALL = 1 << 16  #: elements

    def __init__(self, named: dict[str, np.ndarray]) -> None:
        self.named, self.arrays = named, list(named.values())
        dtypes = {a.dtype for a in self.arrays}
        total = sum(a.size for a in self.arrays)
        small = len(dtypes) == 1 and 0 < total <= self.SMALL
        self.scratch = np.empty(total, dtypes.pop()) if small else None

    def check(self) -> list[str]:
        if self.scratch is not None:
            np.concatenate([a.ravel() for a in self.arrays], out=self.scratch)
            if np.isfinite(self.scratch).all():
                return []
        elif all(np.isfinite(a).all() for a in self.arrays):
            return []
        return non_finite(self.named)


class Snapshot:
    """A model's whole training state at one moment, in flat buffers allocated once."""

    def __init__(self, model: Model) -> None:
        self.model = model
        arrays = [*model.params.values(), *model.buffers.values()]
        if model.optimizer is not None:
            arrays += [s for slots in model.optimizer.slots.values() for s in slots.values()]
        by_dtype: dict[np.dtype, list[np.ndarray]] = {}
        for array in arrays:
            by_dtype.setdefault(array.dtype, []).append(array)
        self.groups = [
            (group, np.empty(sum(a.size for a in group), dtype))
            for dtype, group in by_dtype.items()
        ]

    def take(self) -> None:
        for group, flat in self.groups:
            np.concatenate([a.ravel() for a in group], out=flat)
        model = self.model
        self.iterations = model.optimizer.iterations if model.optimizer is not None else 0
        self.global_step = model.global_step
        self.rng_state = model.rng.bit_generator.state

    def restore(self) -> None:
        for group, flat in self.groups:
            start = 0
            for array in group:
                array[...] = flat[start : start + array.size].reshape(array.shape)
                start += array.size
        model = self.model
        if model.optimizer is not None:
            model.optimizer.iterations = self.iterations
        model.global_step = self.global_step
        model.rng.bit_generator.state = self.rng_state  # in place: layers share the generator


class TrainingGuard:
    """``fit``'s guard: ``begin_epoch`` before the first step, ``end_epoch`` after the last;
    ``recover`` turns a ``NonFiniteLoss`` into the ``TrainingError`` to raise."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.snapshot = Snapshot(model)
        self.watched = {**model.params, **model.buffers}
        self.finite = FiniteCheck(self.watched)

    def begin_epoch(self, epoch: int, batches: Batches) -> None:
        """Remember the state; ``batches()`` must give this epoch's batches from it."""
        self.epoch, self.batches = epoch, batches
        self.snapshot.take()

    def end_epoch(self, steps: int) -> None:
        """Raise if the epoch's ``steps`` steps left non-finite weights or buffers."""
        if self.finite.check():
            raise self._roll_back(steps, None)

    def recover(self, failure: NonFiniteLoss) -> TrainingError:
        """Roll back after the loss of ``failure.step`` went non-finite; the error to raise."""
        return self._roll_back(failure.step, failure)

    def _roll_back(self, applied: int, failure: NonFiniteLoss | None) -> TrainingError:
        """Go back to the last finite state among the epoch's first ``applied`` steps."""
        kept, bad, batches = self._last_finite(applied)
        if kept is None:  # fit began with non-finite weights: nothing finite to go back to
            self.snapshot.restore()
            batches = self.batches()
        elif kept < applied:
            self.snapshot.restore()
            batches = self.batches()
            for step in range(kept):
                self.model._train_step(*next(batches), [], epoch=self.epoch, step=step)
        rng_state = self.model.rng.bit_generator.state
        where = diagnose(self.model, *next(batches))  # as that step ran, then undone
        self.model.rng.bit_generator.state = rng_state  # reading the batch may have drawn
        return TrainingError(self._describe(applied, kept, failure, bad, where))

    def _last_finite(self, limit: int) -> tuple[int | None, list[str], Iterator[Any]]:
        """Replay the epoch from its snapshot, checking the state after every step: the most
        steps (at most ``limit``) after which weights and buffers are still finite (None if
        they were not at the start), what the next step made non-finite, and the batches."""
        self.snapshot.restore()
        batches = self.batches()
        bad = non_finite(self.watched)
        if bad:
            return None, bad, batches
        for step in range(limit):
            try:
                self.model._train_step(*next(batches), [], epoch=self.epoch, step=step)
            except NonFiniteLoss:  # not with a deterministic replay: it failed later before
                return step, [], batches
            bad = non_finite(self.watched)
            if bad:
                return step, bad, batches
        return limit, [], batches

    def _describe(
        self,
        applied: int,
        kept: int | None,
        failure: NonFiniteLoss | None,
        bad: list[str],
        where: list[str],
    ) -> str:
        epoch = self.epoch + 1
        if failure is not None:
            text = f"the loss became {failure.loss} at epoch {epoch}, step {applied + 1}"
        else:
            text = f"the weights became non-finite at the end of epoch {epoch}"
        if kept is None:
            return (
                f"{text}; the weights were already non-finite when epoch {epoch} began ("
                f"{_names(bad)}): there is no finite state to go back to; set or load finite "
                "weights before calling fit"
            )
        if kept < applied:
            text += f": step {kept + 1} made {_names(bad)} non-finite"
        text += "".join(f"; {w}" for w in where)
        if kept < applied and where[-1].startswith("that step's outputs"):
            part = "update" if any(name in self.model.params for name in bad) else "statistics"
            text += f" (its {part} overflowed)"
        if kept == applied:
            return (
                f"{text}; training stopped before applying that step; the model keeps the "
                f"weights that step started from, the last finite ones. {ADVICE}"
            )
        return (
            f"{text}; training stopped and the model was rolled back to its state before step "
            f"{kept + 1} of epoch {epoch}: the last finite weights, which gave the last finite "
            f"loss. {ADVICE}"
        )


def _names(names: list[str], most: int = 3) -> str:
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def diagnose(model: Model, x: np.ndarray, y: np.ndarray) -> list[str]:
    """Run one training step again, layer by layer and without its update: name the first
    layer whose output is non-finite and the first parameter whose gradient is, going back
    from the loss. Buffers and the generator are put back, so nothing changes but ``grads``.
    """
    buffers = {name: value.copy() for name, value in model.buffers.items()}
    rng_state = model.rng.bit_generator.state
    found: list[str] = []
    try:
        with np.errstate(all="ignore"):
            out = x
            for layer in model.layers:
                out = layer.forward(out, True)
                fused = layer.output_activation if layer is model.layers[-1] else None
                logits = fused.logits if fused is not None and fused is model._fused else None
                if not found and not np.isfinite(out).all():
                    found.append(f"first non-finite output: layer {layer.name!r}")
                elif not found and logits is not None and not np.isfinite(logits).all():
                    found.append(f"first non-finite output: layer {layer.name!r} (its logits)")
            loss, grad = model._loss_and_grad(out, y)
            loss_finite = math.isfinite(loss)
            if not found and not loss_finite:
                found.append(f"every layer's output is finite but the loss is {loss}")
            for layer in reversed(model.layers[model._first_trainable :]):
                grad = layer.backward(grad)
                bad = next((k for k, g in layer.grads.items() if not np.isfinite(g).all()), None)
                if bad is not None:
                    found.append(
                        f"first non-finite gradient going back from the loss: {layer.name}/{bad}"
                    )
                    break
            else:
                found.append(
                    "every gradient is finite"
                    if not loss_finite
                    else f"that step's outputs, loss ({loss:.4g}) and gradients were finite"
                )
    finally:
        for name, value in buffers.items():
            model.buffers[name][...] = value
        model.rng.bit_generator.state = rng_state
    return found
