"""Optimizer and training state in checkpoints: what makes a resumed run bit-identical.

Optimizer: its ``iterations`` and every slot array (Adam's ``m``/``v``, SGD's
``velocity``) at ``/optimizer/slots/<layer>/<param>/<slot>``, and its
``learning_rate_scale`` when a callback changed it. Training: epochs done, the
global step, the model's random generator state (JSON, since PCG64's state holds
128-bit integers), the history, and callbacks' state (early stopping's best
weights, ``ReduceLROnPlateau``'s counters).

``read_*`` functions check and read everything into memory and return a
callable that applies it, so a load changes nothing until all of it is read.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import h5py
import numpy as np

from modular_nn.checkpoint.format import (
    ATTR_MONITOR,
    ATTR_TYPE,
    EARLY_STOPPING,
    EARLY_STOPPING_EPOCH,
    EARLY_STOPPING_WEIGHTS,
    EPOCHS_DONE,
    GLOBAL_STEP,
    HISTORY,
    HISTORY_EPOCH,
    HISTORY_KEYS,
    HISTORY_METRICS,
    OPTIMIZER,
    OPTIMIZER_ITERATIONS,
    OPTIMIZER_LR_SCALE,
    OPTIMIZER_SLOTS,
    PROCESSES,
    REDUCE_LR,
    REDUCE_LR_BEST,
    REDUCE_LR_COOLDOWN,
    REDUCE_LR_WAIT,
    RNG_STATE,
    TRAINING,
)
from modular_nn.checkpoint.reader import CheckpointReader
from modular_nn.checkpoint.weights import copy_into, match_arrays, model_weights, read_planned
from modular_nn.checkpoint.writer import set_text_attr, write_array, write_int, write_text
from modular_nn.errors import CheckpointError
from modular_nn.names import link_name_problem

if TYPE_CHECKING:
    from modular_nn.components.optimizer import Optimizer

Apply = Callable[[], None]


# ----- optimizer -------------------------------------------------------------------------
def write_optimizer(file: h5py.File, optimizer: Optimizer | None) -> None:
    """``/optimizer`` (type attribute, iterations, slots); nothing for a model without one."""
    if optimizer is None:
        return
    group = file.create_group(OPTIMIZER)
    set_text_attr(group, ATTR_TYPE, optimizer.type_name)
    state = optimizer.state_dict()
    write_int(file, OPTIMIZER_ITERATIONS, state["iterations"])
    scale = float(state.get("learning_rate_scale", 1.0))
    if scale != 1.0:  # written only when a callback changed it: other files stay as they were
        write_array(file, OPTIMIZER_LR_SCALE, np.float64(scale))
    slots = file.create_group(OPTIMIZER_SLOTS)
    for param, arrays in state["slots"].items():
        for slot, value in arrays.items():
            write_array(slots, f"{param}/{slot}", value)


def read_optimizer(reader: CheckpointReader, optimizer: Optimizer | None) -> Apply:
    """Check and read the optimizer state the spec's optimizer expects."""
    if optimizer is None:
        if reader.has(OPTIMIZER):
            raise reader.error("it has an /optimizer group but its spec has no optimizer")
        return lambda: None
    group = reader.group(OPTIMIZER)
    recorded = reader.text_attr(group, ATTR_TYPE)
    if recorded != optimizer.type_name:
        raise reader.error(
            f"/optimizer holds the state of {recorded!r}, but the spec's optimizer is "
            f"{optimizer.type_name!r}"
        )
    iterations = reader.read_int(OPTIMIZER_ITERATIONS)
    scale = _read_positive(reader, OPTIMIZER_LR_SCALE) if reader.has(OPTIMIZER_LR_SCALE) else 1.0
    targets = {
        f"{param}/{slot}": value
        for param, slots in optimizer.slots.items()
        for slot, value in slots.items()
    }
    report, planned = match_arrays(reader, OPTIMIZER_SLOTS, targets)
    if not report.ok:
        raise reader.error(
            f"the optimizer state does not match the {optimizer.type_name!r} optimizer of "
            f"its spec:\n{report.describe()}"
        )
    pairs = read_planned(reader, planned)

    def apply() -> None:
        copy_into(pairs)
        optimizer.iterations = iterations
        optimizer.learning_rate_scale = scale

    return apply


# ----- training state ----------------------------------------------------------------------
def write_training(file: h5py.File, model: Any) -> None:
    """Epochs done, global step, the generator state and the history under ``/training``."""
    file.create_group(TRAINING)
    write_int(file, EPOCHS_DONE, model.epochs_done)
    write_int(file, GLOBAL_STEP, model.global_step)
    write_int(file, PROCESSES, getattr(model, "processes", 1))
    write_text(file, RNG_STATE, json.dumps(model.rng.bit_generator.state))
    file.create_group(HISTORY)
    write_array(file, HISTORY_EPOCH, np.asarray(model.history.epoch, dtype=np.int64))
    write_text(file, HISTORY_KEYS, json.dumps(list(model.history.history)))
    metrics = file.create_group(HISTORY_METRICS)
    for key, values in model.history.history.items():
        problem = link_name_problem(key)
        if problem:
            raise CheckpointError(f"cannot save the history entry {key!r}: {problem}")
        write_array(metrics, key, np.asarray(values, dtype=np.float64))
    if model.early_stopping_best is not None:
        best_epoch, weights = model.early_stopping_best
        file.create_group(EARLY_STOPPING)
        write_int(file, EARLY_STOPPING_EPOCH, best_epoch)
        group = file.create_group(EARLY_STOPPING_WEIGHTS)
        for key, value in weights.items():
            write_array(group, key, value)
    state = getattr(model, "reduce_lr_state", None)
    if state is not None:
        group = file.create_group(REDUCE_LR)
        set_text_attr(group, ATTR_MONITOR, state["monitor"])
        write_int(file, REDUCE_LR_WAIT, state["wait"])
        write_int(file, REDUCE_LR_COOLDOWN, state["cooldown"])
        write_array(file, REDUCE_LR_BEST, np.float64(state["best"]))


def read_training(reader: CheckpointReader, model: Any) -> Apply:
    """Check and read ``/training``; the returned callable restores it into ``model``."""
    reader.group(TRAINING)
    epochs_done = reader.read_int(EPOCHS_DONE)
    global_step = reader.read_int(GLOBAL_STEP)
    processes = reader.read_int(PROCESSES, minimum=1) if reader.has(PROCESSES) else 1
    rng_state = _rng_state(reader, model.rng)
    history = read_history(reader, type(model.history))
    best = _read_early_stopping(reader, model)
    reduce_lr = _read_reduce_lr(reader)

    def apply() -> None:
        model.epochs_done = epochs_done
        model.global_step = global_step
        model.processes = processes
        # In place: the layers (dropout) share this very generator object.
        model.rng.bit_generator.state = rng_state
        model.history = history
        model.early_stopping_best = best
        model.reduce_lr_state = reduce_lr

    return apply


def _read_reduce_lr(reader: CheckpointReader) -> dict[str, Any] | None:
    """ReduceLROnPlateau's counters, if the file has them (``model.reduce_lr_state``)."""
    if not reader.has(REDUCE_LR):
        return None
    group = reader.group(REDUCE_LR)
    best = reader.read_array(reader.dataset(REDUCE_LR_BEST), "float", ())
    if np.isnan(best):
        raise reader.error(f"/{REDUCE_LR_BEST} is NaN, expected a number or an infinity")
    return {
        "monitor": reader.text_attr(group, ATTR_MONITOR),
        "wait": reader.read_int(REDUCE_LR_WAIT),
        "cooldown": reader.read_int(REDUCE_LR_COOLDOWN),
        "best": float(best),
    }


def _read_positive(reader: CheckpointReader, path: str) -> float:
    """A scalar float dataset that must be finite and positive."""
    value = float(reader.read_array(reader.dataset(path), "float", ()))
    if not (np.isfinite(value) and value > 0):
        raise reader.error(f"dataset /{path} is {value}, expected a finite number above 0")
    return value


def _read_early_stopping(
    reader: CheckpointReader, model: Any
) -> tuple[int, dict[str, np.ndarray]] | None:
    """The best epoch and its weights that early stopping kept, if the file has them."""
    if not reader.has(EARLY_STOPPING):
        return None
    best_epoch = reader.read_int(EARLY_STOPPING_EPOCH, minimum=1)
    targets = model_weights(model)
    report, planned = match_arrays(reader, EARLY_STOPPING_WEIGHTS, targets)
    if not report.ok:
        raise reader.error(
            f"its early-stopping weights do not match its spec:\n{report.describe()}"
        )
    values = read_planned(reader, planned)
    weights = {
        name: np.array(value, dtype=target.dtype)
        for (name, _, target), (_, value) in zip(planned, values)
    }
    return best_epoch, weights


def _rng_state(reader: CheckpointReader, rng: np.random.Generator) -> dict[str, Any]:
    state = reader.read_json(RNG_STATE)
    expected = type(rng.bit_generator).__name__
    if not isinstance(state, dict) or state.get("bit_generator") != expected:
        received = state.get("bit_generator") if isinstance(state, dict) else state
        raise reader.error(
            f"/{RNG_STATE} must be the state of a {expected} generator, received: "
            f"{str(received)[:80]!r}"
        )
    try:  # validate on a scratch generator, so the model's is only touched by apply()
        type(rng.bit_generator)().state = state
    except (TypeError, ValueError, KeyError, OverflowError) as exc:
        raise reader.error(f"/{RNG_STATE} is not a valid {expected} state: {exc}") from None
    return state


def read_history(reader: CheckpointReader, history_class: type) -> Any:
    """The training history under ``/training/history``, metrics in their logged order, as
    a ``history_class`` (``modular_nn.History``: the checkpoint package does not import the
    model package, which sits above it)."""
    reader.group(HISTORY)
    epochs = reader.read_array(reader.dataset(HISTORY_EPOCH), "int")
    if epochs.ndim != 1:
        raise reader.error(f"/{HISTORY_EPOCH} must be one-dimensional, has shape {epochs.shape}")
    history = history_class()
    history.epoch = [int(e) for e in epochs]
    for key, dataset in sorted(reader.datasets_under(HISTORY_METRICS).items()):
        values = reader.read_array(dataset, "float")
        if values.ndim != 1:
            raise reader.error(f"{dataset.name} must be one-dimensional, has shape {values.shape}")
        history.history[key] = [float(v) for v in values]
    if reader.has(HISTORY_KEYS):  # restore the logged order (HDF5 lists names sorted)
        order = reader.read_json(HISTORY_KEYS)
        names = isinstance(order, list) and all(isinstance(key, str) for key in order)
        if names and sorted(order) == sorted(history.history):
            history.history = {key: history.history[key] for key in order}
    return history
