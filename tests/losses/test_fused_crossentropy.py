"""The fused softmax + cross-entropy value: from the softmax output, exact on underflow."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.losses.softmax_crossentropy import log_softmax

rng = np.random.default_rng(3)


def softmax_and(loss_name: str) -> tuple:
    registry = mnn.get_registry()
    return registry.create("activations", "softmax"), registry.create("losses", loss_name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("scale", [1.0, 20.0])
def test_value_matches_the_log_softmax_of_the_logits(dtype: type, scale: float) -> None:
    z = (rng.standard_normal((64, 10)) * scale).astype(dtype)
    labels = rng.integers(0, 10, 64)
    exact = -log_softmax(z.astype(np.float64))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    act, sparse = softmax_and("sparse_categorical_crossentropy")
    value = sparse.forward_logits(z, act.forward(z), labels)
    assert value == pytest.approx(exact[np.arange(64), labels].mean(), rel=tol)
    act, dense = softmax_and("categorical_crossentropy")
    onehot = np.eye(10, dtype=dtype)[labels]
    value = dense.forward_logits(z, act.forward(z), onehot)
    assert value == pytest.approx(exact[np.arange(64), labels].mean(), rel=tol)


def test_categorical_value_is_exact_when_probabilities_underflow() -> None:
    z = np.array([[1e4, -1e4, 0.0], [0.0, 1.0, 2.0]], dtype=np.float32)
    act, loss = softmax_and("categorical_crossentropy")
    targets = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = loss.forward_logits(z, act.forward(z), targets)
        grad = loss.backward_logits()
    expected = (2e4 - log_softmax(np.array([0.0, 1.0, 2.0]))[2]) / 2
    assert value == pytest.approx(expected, rel=1e-6)
    assert np.isfinite(grad).all() and grad.dtype == np.float32


def test_fused_gradients_keep_float32() -> None:
    z = rng.standard_normal((8, 5)).astype(np.float32)
    for name, targets in (
        ("sparse_categorical_crossentropy", rng.integers(0, 5, 8)),
        ("categorical_crossentropy", np.eye(5, dtype=np.float32)[rng.integers(0, 5, 8)]),
    ):
        act, loss = softmax_and(name)
        loss.forward_logits(z, act.forward(z), targets)
        assert loss.backward_logits().dtype == np.float32, name
