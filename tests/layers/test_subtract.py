"""Subtract: exactly two inputs, y = x_1 - x_2."""

import numpy as np
import pytest

from modular_nn.errors import ShapeError
from modular_nn.layers.subtract import Subtract


def test_difference_and_its_gradients() -> None:
    layer = Subtract()
    layer.build([(2,), (2,)], np.random.default_rng(0), np.float32)
    a = np.array([[5.0, 1.0]], dtype=np.float32)
    b = np.array([[2.0, 3.0]], dtype=np.float32)
    np.testing.assert_array_equal(layer.forward([a, b]), [[3.0, -2.0]])
    grad_a, grad_b = layer.backward(np.array([[1.0, -4.0]], dtype=np.float32))
    np.testing.assert_array_equal(grad_a, [[1.0, -4.0]])
    np.testing.assert_array_equal(grad_b, [[-1.0, 4.0]])


def test_three_inputs_are_refused() -> None:
    with pytest.raises(ShapeError, match=r"^subtract expects exactly 2 inputs, received 3: "):
        Subtract().compute_output_shape([(2,), (2,), (2,)])
