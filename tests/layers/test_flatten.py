"""Flatten: gradients, shapes, C order."""

import numpy as np
import pytest

from modular_nn.layers.flatten import Flatten
from modular_nn.testing import assert_gradients_close, check_layer_gradients


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(4,), (3, 2, 2), (2, 3, 1, 2)])
def test_gradients(training: bool, shape: tuple[int, ...]) -> None:
    assert_gradients_close(check_layer_gradients(Flatten(), shape, training=training))


def test_shape_and_row_major_order() -> None:
    layer = Flatten()
    assert layer.build((2, 3, 4), np.random.default_rng(0), np.float32) == (24,)
    x = np.arange(48, dtype=np.float32).reshape(2, 2, 3, 4)
    y = layer.forward(x, True)
    np.testing.assert_array_equal(y, x.reshape(2, 24))
    assert layer.backward(y).shape == x.shape
