"""Minimum: the elementwise minimum; the gradient goes to the first input holding it."""

import numpy as np

from modular_nn.layers.minimum import Minimum


def test_minimum_gradient_to_the_winner_and_ties_to_the_first() -> None:
    layer = Minimum()
    layer.build([(3,)] * 3, np.random.default_rng(0), np.float32)
    a = np.array([[1.0, 5.0, 2.0]], dtype=np.float32)
    b = np.array([[4.0, 0.0, 2.0]], dtype=np.float32)
    c = np.array([[2.0, 1.0, 2.0]], dtype=np.float32)
    out = layer.forward([a, b, c])
    np.testing.assert_array_equal(out, [[1.0, 0.0, 2.0]])
    assert out.dtype == np.float32
    grads = layer.backward(np.array([[10.0, 20.0, 30.0]], dtype=np.float32))
    np.testing.assert_array_equal(grads[0], [[10.0, 0.0, 30.0]])  # a three-way tie: a
    np.testing.assert_array_equal(grads[1], [[0.0, 20.0, 0.0]])
    np.testing.assert_array_equal(grads[2], [[0.0, 0.0, 0.0]])


def test_nan_propagates() -> None:
    layer = Minimum()
    layer.build([(2,), (2,)], np.random.default_rng(0), np.float64)
    out = layer.forward([np.array([[1.0, np.nan]]), np.array([[np.nan, 0.0]])])
    assert np.isnan(out).all()
    first, second = layer.backward(np.ones((1, 2)))
    np.testing.assert_array_equal(first, [[0.0, 1.0]])
    np.testing.assert_array_equal(second, [[1.0, 0.0]])
