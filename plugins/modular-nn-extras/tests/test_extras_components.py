"""Each component against its formula (the conformance kit covers the generic contract)."""

from __future__ import annotations

import numpy as np
from modular_nn_extras import GLU, BinaryFocal, Highway, Lion, LogCosh, Swish

from modular_nn.losses.binary_crossentropy import BinaryCrossentropy


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_swish_formula_and_silu_case():
    x = np.linspace(-4, 4, 9)
    np.testing.assert_allclose(Swish(beta=2.0).forward(x), x * sigmoid(2 * x))
    np.testing.assert_allclose(Swish().forward(x), x * sigmoid(x))  # beta = 1 is SiLU


def test_highway_with_a_closed_gate_passes_the_input_through():
    layer = Highway(gate_bias=-30.0)
    layer.build((4,), np.random.default_rng(0), np.float64)
    layer.params["gate_kernel"][...] = 0
    x = np.random.default_rng(1).standard_normal((3, 4))
    np.testing.assert_allclose(layer.forward(x), x, atol=1e-12)


def test_highway_formula():
    layer = Highway(activation="tanh")
    layer.build((3,), np.random.default_rng(0), np.float64)
    p = layer.params
    x = np.random.default_rng(1).standard_normal((2, 3))
    h = np.tanh(x @ p["kernel"] + p["bias"])
    t = sigmoid(x @ p["gate_kernel"] + p["gate_bias"])
    np.testing.assert_allclose(layer.forward(x), t * h + (1 - t) * x)
    np.testing.assert_array_equal(p["gate_bias"], -1.0)


def test_glu_formula():
    layer = GLU(units=2)
    layer.build((3,), np.random.default_rng(0), np.float64)
    p = layer.params
    x = np.random.default_rng(1).standard_normal((4, 3))
    expected = (x @ p["kernel"] + p["bias"]) * sigmoid(x @ p["gate_kernel"] + p["gate_bias"])
    np.testing.assert_allclose(layer.forward(x), expected)


def test_lion_moves_each_coordinate_by_the_learning_rate():
    lion = Lion(learning_rate=0.1, beta_1=0.9, beta_2=0.99)
    param, grad = np.array([1.0, -2.0, 3.0]), np.array([0.5, -4.0, 0.0])
    lion.bind({"w": param}, {"w": grad})
    lion.step()
    np.testing.assert_allclose(param, [0.9, -1.9, 3.0])  # sign(0.1 g) = sign(g)
    np.testing.assert_allclose(lion.slots["w"]["m"], 0.01 * grad)


def test_log_cosh_matches_its_definition_and_does_not_overflow():
    pred, true = np.array([[0.5, -2.0], [1000.0, 0.0]]), np.zeros((2, 2))
    loss = LogCosh()
    value = loss.forward(pred[:1], true[:1])
    np.testing.assert_allclose(value, np.mean(np.log(np.cosh(pred[:1]))))
    big = loss.forward(pred, true)  # cosh(1000) overflows; log cosh(1000) = 1000 - log 2
    expected = np.mean([np.log(np.cosh(0.5)), np.log(np.cosh(2.0)), 1000 - np.log(2), 0.0])
    np.testing.assert_allclose(big, expected)


def test_focal_without_focusing_is_half_the_cross_entropy():
    rng = np.random.default_rng(0)
    p, y = rng.uniform(0.05, 0.95, (6, 1)), rng.integers(0, 2, (6, 1)).astype(float)
    focal = BinaryFocal(gamma=0.0, alpha=0.5).forward(p, y)
    np.testing.assert_allclose(focal, 0.5 * BinaryCrossentropy().forward(p, y))
    easy = BinaryFocal(gamma=2.0, alpha=0.5).forward(np.array([[0.95]]), np.array([[1.0]]))
    assert easy < 0.5 * BinaryCrossentropy().forward(np.array([[0.95]]), np.array([[1.0]])) / 100
