"""Each component against its formula (the conformance kit covers the generic contract)."""

from __future__ import annotations

import numpy as np
import pytest
from modular_nn_extras import GLU, BinaryFocal, GatedSum, Highway, Lion, LogCosh, Swish

from modular_nn.errors import ShapeError
from modular_nn.losses.binary_crossentropy import BinaryCrossentropy
from modular_nn.testing import assert_gradients_close, check_layer_gradients


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


def test_gated_sum_formula_and_its_two_inputs():
    layer = GatedSum()
    assert GatedSum.takes_several_inputs() and GatedSum.input_count == (2, 2)
    assert layer.build([(3,), (3,)], np.random.default_rng(0), np.float64) == (3,)
    p = layer.params
    assert p["kernel"].shape == (3, 3) and p["bias"].shape == (3,)
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    g = sigmoid(a @ p["kernel"] + p["bias"])
    np.testing.assert_allclose(layer.forward([a, b]), g * a + (1 - g) * b)
    grad_a, grad_b = layer.backward(np.ones((4, 3)))
    assert grad_a.shape == grad_b.shape == (4, 3)
    np.testing.assert_allclose(grad_b, 1 - g)  # b only feeds the output, through 1 - g


def test_gated_sum_with_a_saturated_gate_picks_one_input():
    layer = GatedSum()
    layer.build([(2,), (2,)], np.random.default_rng(0), np.float32)
    layer.params["kernel"][...] = 0
    a = np.array([[1.0, 2.0]], dtype=np.float32)
    b = np.array([[5.0, 6.0]], dtype=np.float32)
    layer.params["bias"][...] = 40.0
    out = layer.forward([a, b])
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, a)
    layer.params["bias"][...] = -40.0
    np.testing.assert_allclose(layer.forward([a, b]), b)


@pytest.mark.parametrize("shape", [(4,), (2, 3)])
@pytest.mark.parametrize("training", [True, False])
def test_gated_sum_gradients_of_both_inputs_and_both_parameters(shape, training):
    results = check_layer_gradients(GatedSum(), [shape, shape], training=training)
    assert set(results) == {"input[0]", "input[1]", "kernel", "bias"}
    assert_gradients_close(results)


def test_gated_sum_refuses_inputs_of_different_shapes():
    with pytest.raises(
        ShapeError, match=r"two inputs of the same shape, received \(3,\) and \(4,\)"
    ):
        GatedSum().compute_output_shape([(3,), (4,)])


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
