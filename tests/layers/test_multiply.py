"""Multiply: the product of the inputs; each input's gradient is the product of the others."""

import numpy as np

from modular_nn.layers.multiply import Multiply
from modular_nn.testing import assert_gradients_close, check_layer_gradients


def test_product_and_gradients_exact_where_an_input_is_zero() -> None:
    layer = Multiply()
    layer.build([(3,)] * 3, np.random.default_rng(0), np.float64)
    a = np.array([[0.0, 2.0, -1.0]])
    b = np.array([[3.0, 0.0, 2.0]])
    c = np.array([[2.0, 5.0, 4.0]])
    np.testing.assert_array_equal(layer.forward([a, b, c]), [[0.0, 0.0, -8.0]])
    grad_a, grad_b, grad_c = layer.backward(np.ones((1, 3)))
    np.testing.assert_array_equal(grad_a, b * c)  # not y / a, which is 0 / 0 at a = 0
    np.testing.assert_array_equal(grad_b, a * c)
    np.testing.assert_array_equal(grad_c, a * b)


def test_gradients_with_zeros_in_the_inputs() -> None:
    x = [np.array([[0.0, 1.5], [2.0, -1.0]]), np.array([[0.5, 0.0], [0.0, 3.0]])]
    assert_gradients_close(check_layer_gradients(Multiply(), [(2,), (2,)], x=x))
