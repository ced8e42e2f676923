"""GlobalAvgPool2D: gradients, shapes, keepdims."""

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.layers.global_avg_pool2d import GlobalAvgPool2D
from modular_nn.testing import assert_gradients_close, check_layer_gradients


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("keepdims", [False, True])
def test_gradients(training: bool, keepdims: bool) -> None:
    layer = GlobalAvgPool2D(keepdims=keepdims)
    assert_gradients_close(check_layer_gradients(layer, (4, 5, 3), training=training))


@pytest.mark.parametrize("keepdims,expected", [(False, (3,)), (True, (1, 1, 3))])
def test_shapes_and_values(keepdims: bool, expected: tuple[int, ...]) -> None:
    layer = GlobalAvgPool2D(keepdims=keepdims)
    assert layer.build((4, 5, 3), np.random.default_rng(0), np.float32) == expected
    x = np.random.default_rng(1).standard_normal((2, 4, 5, 3)).astype(np.float32)
    y = layer.forward(x, True)
    assert y.shape == (2, *expected) and y.dtype == np.float32
    np.testing.assert_allclose(y.reshape(2, 3), x.mean(axis=(1, 2)), rtol=1e-6)
    dx = layer.backward(np.ones_like(y))
    assert dx.shape == x.shape and dx.flags.writeable
    np.testing.assert_allclose(dx, 1 / 20)


def test_needs_images() -> None:
    with pytest.raises(mnn.ShapeError, match="height, width, channels"):
        GlobalAvgPool2D().compute_output_shape((10, 3))
