"""AvgPool2D: gradients, shapes, 'same' padding averages real elements only, PyTorch parity."""

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.layers.avg_pool2d import AvgPool2D
from modular_nn.testing import assert_gradients_close, check_layer_gradients

POOLS = [
    (2, None, "valid"),
    (2, None, "same"),
    (3, 1, "same"),
    (3, 2, "valid"),
    ((2, 3), (1, 2), "same"),
    (2, 3, "valid"),
]


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("pool_size,strides,padding", POOLS)
def test_gradients(training, pool_size, strides, padding) -> None:
    layer = AvgPool2D(pool_size=pool_size, strides=strides, padding=padding)
    assert_gradients_close(check_layer_gradients(layer, (7, 8, 2), batch=2, training=training))


@pytest.mark.parametrize("pool_size,strides,padding", POOLS)
@pytest.mark.parametrize("hw", [(8, 8), (7, 9), (4, 5)])
def test_inferred_shape_is_the_forward_shape(pool_size, strides, padding, hw) -> None:
    layer = AvgPool2D(pool_size=pool_size, strides=strides, padding=padding)
    inferred = layer.compute_output_shape((*hw, 3))
    assert layer.build((*hw, 3), np.random.default_rng(0), np.float32) == inferred
    x = np.random.default_rng(1).standard_normal((2, *hw, 3)).astype(np.float32)
    y = layer.forward(x, True)
    assert y.shape == (2, *inferred) and y.dtype == np.float32
    assert layer.backward(np.ones_like(y)).shape == x.shape


def test_same_padding_averages_only_real_elements() -> None:
    layer = AvgPool2D(pool_size=2, padding="same")
    layer.build((3, 3, 1), np.random.default_rng(0), np.float64)
    y = layer.forward(np.ones((1, 3, 3, 1)))
    np.testing.assert_array_equal(y, np.ones((1, 2, 2, 1)))  # not diluted by zero padding


def test_window_larger_than_input_is_a_shape_error() -> None:
    with pytest.raises(mnn.ShapeError, match="at least as large as the window"):
        AvgPool2D(pool_size=4).compute_output_shape((3, 8, 1))


@pytest.mark.parametrize("pool_size,strides,pad", [(2, 2, 0), (3, 2, 0), (3, 1, 1), (3, 2, 1)])
def test_matches_pytorch(pool_size, strides, pad) -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    layer = AvgPool2D(pool_size=pool_size, strides=strides, padding="same" if pad else "valid")
    layer.build((9, 9, 3), rng, np.float32)
    x = rng.standard_normal((2, 9, 9, 3)).astype(np.float32)
    y = layer.forward(x, True)
    g = rng.standard_normal(y.shape).astype(np.float32)
    dx = layer.backward(g)
    assert layer.window.pads == ((pad, pad), (pad, pad))
    xt = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    yt = torch.nn.functional.avg_pool2d(
        xt, pool_size, strides, padding=pad, count_include_pad=False
    )
    yt.backward(torch.tensor(g.transpose(0, 3, 1, 2)))
    np.testing.assert_allclose(y, yt.detach().numpy().transpose(0, 2, 3, 1), atol=1e-5)
    np.testing.assert_allclose(dx, xt.grad.numpy().transpose(0, 2, 3, 1), atol=1e-5)
