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


def _same_state(model: mnn.Model, other: mnn.Model) -> bool:
    weights, expected = model.get_weights(), other.get_weights()
    slots, other_slots = model.optimizer.state_dict(), other.optimizer.state_dict()
    return (
        weights.keys() == expected.keys()
        and all(np.array_equal(weights[k], expected[k]) for k in expected)
        and slots["iterations"] == other_slots["iterations"]
        and slots["slots"].keys() == other_slots["slots"].keys()
        and all(
            np.array_equal(slots["slots"][p][s], other_slots["slots"][p][s])
            for p in other_slots["slots"]
            for s in other_slots["slots"][p]
        )
        and (model.epochs_done, model.global_step) == (other.epochs_done, other.global_step)
        and model.history.history == other.history.history
        and model.rng.bit_generator.state == other.rng.bit_generator.state
    )


@pytest.fixture
def same_state() -> Callable[[mnn.Model, mnn.Model], bool]:
    """``same_state(a, b)``: weights, optimizer state, step counts, history and generator equal."""
    return _same_state
