"""Shared fixtures: a small trained model with dropout and batch norm, its checkpoint, and a
comparison of two models' whole training state."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import modular_nn as mnn


def _spec(**changes: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": "tiny",
        "input_shape": [4],
        "seed": 7,
        "layers": [
            {"type": "dense", "units": 6, "activation": "relu"},
            {"type": "dropout", "rate": 0.25},
            {"type": "batch_norm"},
            {"type": "dense", "units": 1, "activation": "sigmoid"},
        ],
        "loss": "binary_crossentropy",
        "optimizer": {"type": "adam", "learning_rate": 0.01},
        "training": {"batch_size": 8, "shuffle": True},
    }
    spec.update(changes)
    return spec


@pytest.fixture
def tiny_spec() -> Callable[..., dict[str, Any]]:
    """``tiny_spec(**changes)``: the spec of a small binary classifier."""
    return _spec


@pytest.fixture
def xy() -> tuple[np.ndarray, np.ndarray]:
    """40 samples of 4 features and a binary target."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((40, 4))
    return x, (x[:, 0] + x[:, 1] > 0).astype(float)[:, None]


@pytest.fixture
def trained(xy: tuple[np.ndarray, np.ndarray]) -> mnn.Model:
    """The tiny model after two epochs."""
    model = mnn.build_model(_spec())
    model.fit(*xy, epochs=2, verbose=0)
    return model


@pytest.fixture
def checkpoint(trained: mnn.Model, tmp_path: Path) -> Path:
    """The trained tiny model saved to ``tmp_path / "run.h5"``."""
    path = tmp_path / "run.h5"
    trained.save(path)
    return path


def state_differences(model: mnn.Model, other: mnn.Model) -> list[str]:
    """What differs, bit for bit, between two models' training states: weights and buffers,
    optimizer slots and step, epochs done, global step, history and generator state."""
    diffs: list[str] = []

    def arrays(label: str, mine: dict[str, np.ndarray], theirs: dict[str, np.ndarray]) -> None:
        if mine.keys() != theirs.keys():
            diffs.append(f"{label} names: {sorted(mine)} != {sorted(theirs)}")
        for key in mine.keys() & theirs.keys():
            a, b = mine[key], theirs[key]
            if a.dtype != b.dtype or a.shape != b.shape or a.tobytes() != b.tobytes():
                diffs.append(f"{label} {key}")

    def slots(m: mnn.Model) -> tuple[int, dict[str, np.ndarray]]:
        if m.optimizer is None:
            return 0, {}
        state = m.optimizer.state_dict()
        flat = {f"{p}/{s}": v for p, named in state["slots"].items() for s, v in named.items()}
        return state["iterations"], flat

    arrays("weight", model.get_weights(), other.get_weights())
    (steps, mine), (other_steps, theirs) = slots(model), slots(other)
    arrays("optimizer slot", mine, theirs)
    for label, a, b in [
        ("optimizer iterations", steps, other_steps),
        ("epochs_done", model.epochs_done, other.epochs_done),
        ("global_step", model.global_step, other.global_step),
        ("history", model.history.to_dict(), other.history.to_dict()),
        ("generator state", model.rng.bit_generator.state, other.rng.bit_generator.state),
    ]:
        if a != b:
            diffs.append(label)
    return diffs


@pytest.fixture
def same_state() -> Callable[[mnn.Model, mnn.Model], bool]:
    """``same_state(a, b)``: weights, optimizer state, step counts, history and generator equal."""
    return lambda a, b: not state_differences(a, b)


@pytest.fixture
def assert_same_state() -> Callable[[mnn.Model, mnn.Model], None]:
    """``assert_same_state(a, b)``: fails listing every part of the states that differs."""

    def check(model: mnn.Model, other: mnn.Model) -> None:
        diffs = state_differences(model, other)
        assert not diffs, f"training states differ in: {', '.join(diffs)}"

    return check
