"""Guarded training: ``fit`` stops at a non-finite loss or non-finite weights, keeps the last
finite state, and says where the values went non-finite.

Cost: each step checks only that its loss (a Python float) is finite. Each epoch
``fit`` copies the training state once (``Snapshot``: parameters, buffers,
optimizer slots, step counts and the generator's state) and checks once, at the
epoch's end and before the epoch is logged or any callback (a checkpoint) sees
it, that the parameters and buffers are finite. Memory: one more copy of that
state while ``fit`` runs (two for models of up to ``TrainingGuard.SMALL``
numbers, where the end-of-epoch copy doubles as the next epoch's snapshot).

When a check fails, the model is rolled back by restoring the epoch's snapshot
and replaying the epoch's steps (the same batches and dropout masks: the
generator is part of the snapshot), checking the state after each, up to the
last finite state:

- the loss of step k is NaN or infinite: step k is never applied. The model
  keeps the state step k started from if its weights and buffers are finite;
  if an earlier step of the epoch had made them non-finite (an update that
  overflowed while its loss was finite, batch statistics that overflowed), it
  goes back to the state before that step, whose loss was finite.
- the weights or buffers are non-finite at the end of an epoch: likewise, the
  state before the step that made them so.

The state is then exactly what it was after that many steps: parameters,
buffers (batch-norm statistics), optimizer state, ``global_step`` and the
generator; since every epoch ends checked, no rollback crosses an epoch
boundary. Finally the step that failed (or that made the state non-finite) is
run again layer by layer, without its update, to name the first layer whose
output went non-finite and the first parameter whose gradient did, going back
from the loss. Replaying assumes callbacks change nothing in the middle of an
epoch (a learning rate changed by ``schedule`` is replayed; one changed by a
callback after some step is not).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from modular_nn.errors import TrainingError
from modular_nn.model.callbacks import (
    CSVLogger,
    EarlyStopping,
    ModelCheckpoint,
    ProgressLogger,
    ReduceLROnPlateau,
)
from modular_nn.model.inputs import all_finite

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
    return [name for name, a in named.items() if not all_finite(a)]


_add = np.add.reduce


class Snapshot:
    """A model's whole training state at one moment, in flat buffers allocated once.

    Parameters and buffers come first in each buffer, so ``finite()`` checks them at once.
    """

    def __init__(self, model: Model) -> None:
        self.model = model
        watched = [*model.params.values(), *model.buffers.values()]
        slots = []
        if model.optimizer is not None:
            slots = [s for arrays in model.optimizer.slots.values() for s in arrays.values()]
        by_dtype: dict[np.dtype, tuple[list[np.ndarray], list[np.ndarray]]] = {}
        for index, array in enumerate(watched + slots):
            by_dtype.setdefault(array.dtype, ([], []))[index >= len(watched)].append(array)
        self.groups = []
        for dtype, (first, rest) in by_dtype.items():
            arrays = first + rest
            flat = np.empty(sum(a.size for a in arrays), dtype)
            views = [a.reshape(-1) for a in arrays]  # reused: the arrays change in place
            if not all(np.shares_memory(v, a) for v, a in zip(views, arrays)):
                views = None  # some array has no flat view: ravel it each time
            self.groups.append((arrays, views, flat, flat[: sum(a.size for a in first)]))
        self.size = sum(flat.size for _, _, flat, _ in self.groups)

    def take(self) -> None:
        for arrays, views, flat, _ in self.groups:
            np.concatenate(views or [a.ravel() for a in arrays], out=flat)
        model = self.model
        self.iterations = model.optimizer.iterations if model.optimizer is not None else 0
        self.global_step = model.global_step
        self.rng_state = model.rng.bit_generator.state

    def finite(self) -> bool:
        """Whether the parameters and buffers taken are all finite (a float64 sum of them is:
        a NaN or an infinity makes it non-finite; it may overflow only on float64 weights
        near the largest float, and callers check those exactly)."""
        for _, _, _, watched in self.groups:
            if not math.isfinite(_add(watched, dtype=np.float64)):
                return False
        return True

    def restore(self) -> None:
        for arrays, _, flat, _ in self.groups:
            start = 0
            for array in arrays:
                array[...] = flat[start : start + array.size].reshape(array.shape)
                start += array.size
        model = self.model
        if model.optimizer is not None:
            model.optimizer.iterations = self.iterations
        model.global_step = self.global_step
        model.rng.bit_generator.state = self.rng_state  # in place: layers share the generator


class TrainingGuard:
    """``fit``'s guard: ``begin_epoch`` before the first step, ``end_epoch`` after the last;
    ``recover`` turns a ``NonFiniteLoss`` into the ``TrainingError`` to raise.

    A small model (up to ``SMALL`` numbers of state) whose callbacks are all known not
    to change it keeps two snapshots: the copy checked at the end of an epoch is the next
    epoch's snapshot, so an epoch of one tiny batch pays for one copy, not two.
    """

    SMALL = 1 << 16
    #: Callbacks that change neither weights, optimizer slots nor the generator mid-run
    #: (ReduceLROnPlateau changes the rate between epochs only).
    PASSIVE = (ProgressLogger, EarlyStopping, ModelCheckpoint, ReduceLROnPlateau, CSVLogger)

    def __init__(self, model: Model, callbacks: Sequence[Any] = ()) -> None:
        self.model = model
        self.snapshot = Snapshot(model)
        self.watched = {**model.params, **model.buffers}
        passive = all(type(callback) in self.PASSIVE for callback in callbacks)
        small = self.snapshot.size <= self.SMALL
        self.spare = Snapshot(model) if small and passive else None
        self.pending = False  # the spare holds this epoch's start

    def begin_epoch(self, epoch: int, batches: Batches) -> None:
        """Remember the state; ``batches()`` must give this epoch's batches from it."""
        self.epoch, self.batches = epoch, batches
        if self.pending:  # taken at the end of the last epoch; nothing changed since
            self.snapshot, self.spare = self.spare, self.snapshot  # type: ignore[assignment]
            self.pending = False
        else:
            self.snapshot.take()

    def end_epoch(self, steps: int) -> None:
        """Raise if the epoch's ``steps`` steps left non-finite weights or buffers."""
        if self.spare is not None:
            self.spare.take()
            self.pending = self.spare.finite() or not non_finite(self.watched)
            if self.pending:
                return
        elif not non_finite(self.watched):
            return
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


def diagnose(model: Model, xs: Any, ys: Any) -> list[str]:
    """Run one training step again, node by node and without its update: name the first
    layer whose output is non-finite and the first parameter whose gradient is, going back
    from the loss. Buffers and the generator are put back, so nothing changes but ``grads``.
    """
    xs = xs if isinstance(xs, list) else [xs]
    ys = ys if isinstance(ys, list) else [ys]
    buffers = {name: value.copy() for name, value in model.buffers.items()}
    rng_state = model.rng.bit_generator.state
    found: list[str] = []
    engine = model.engine
    fused = {id(head.fused) for head in model.heads.heads if head.fused is not None}
    try:
        with np.errstate(all="ignore"):

            def observe(step: Any, out: Any) -> None:
                activation = step.layer.output_activation
                logits = activation.logits if id(activation) in fused else None  # type: ignore[union-attr]
                if not found and not all_finite(out):
                    found.append(f"first non-finite output: layer {step.name!r}")
                elif not found and logits is not None and not all_finite(logits):
                    found.append(f"first non-finite output: layer {step.name!r} (its logits)")

            outs = engine.forward(xs, True, observe=observe)
            loss, grads, _ = model.heads.loss_and_grads(outs, ys, engine.output_masks)
            loss_finite = math.isfinite(loss)
            if not found and not loss_finite:
                found.append(f"every layer's output is finite but the loss is {loss}")
            bad_grad: list[str] = []

            def check(step: Any, grad_in: Any) -> None:
                if bad_grad:
                    return
                bad = next((k for k, g in step.layer.grads.items() if not all_finite(g)), None)
                if bad is not None:
                    owner = engine.plan.nodes[engine.steps.index(step)].owner
                    bad_grad.append(
                        f"first non-finite gradient going back from the loss: {owner}/{bad}"
                    )

            engine.backward(grads, check=check)
            if bad_grad:
                found.append(bad_grad[0])
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
