"""Maximum: the elementwise maximum; the gradient goes to the first input holding it."""

import numpy as np

from modular_nn.layers.maximum import Maximum


def built(count: int) -> Maximum:
    layer = Maximum()
    layer.build([(3,)] * count, np.random.default_rng(0), np.float64)
    return layer


def test_maximum_and_gradient_to_the_winner() -> None:
    layer = built(3)
    a = np.array([[1.0, 5.0, -2.0]])
    b = np.array([[4.0, 0.0, -3.0]])
    c = np.array([[2.0, 1.0, -1.0]])
    np.testing.assert_array_equal(layer.forward([a, b, c]), [[4.0, 5.0, -1.0]])
    grads = layer.backward(np.array([[10.0, 20.0, 30.0]]))
    np.testing.assert_array_equal(grads[0], [[0.0, 20.0, 0.0]])
    np.testing.assert_array_equal(grads[1], [[10.0, 0.0, 0.0]])
    np.testing.assert_array_equal(grads[2], [[0.0, 0.0, 30.0]])


def test_ties_send_the_gradient_to_the_first_input() -> None:
    layer = built(3)
    a = np.array([[1.0, 0.0, 2.0]])
    b = np.array([[1.0, 3.0, 3.0]])
    c = np.array([[1.0, 3.0, 3.0]])
    layer.forward([a, b, c])
    grads = layer.backward(np.ones((1, 3)))
    np.testing.assert_array_equal(grads[0], [[1.0, 0.0, 0.0]])
    np.testing.assert_array_equal(grads[1], [[0.0, 1.0, 1.0]])
    np.testing.assert_array_equal(grads[2], [[0.0, 0.0, 0.0]])


def test_nan_propagates_and_takes_the_gradient() -> None:
    layer = built(2)
    out = layer.forward([np.array([[1.0, 2.0, 0.0]]), np.array([[np.nan, 1.0, 0.0]])])
    np.testing.assert_array_equal(out, [[np.nan, 2.0, 0.0]])
    first, second = layer.backward(np.ones((1, 3)))
    np.testing.assert_array_equal(first, [[0.0, 1.0, 1.0]])
    np.testing.assert_array_equal(second, [[1.0, 0.0, 0.0]])
