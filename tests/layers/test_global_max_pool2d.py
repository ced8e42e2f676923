"""GlobalMaxPool2D: gradients, values, ties, shapes, keepdims, PyTorch parity."""

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.layers.global_max_pool2d import GlobalMaxPool2D
from modular_nn.testing import assert_gradients_close, check_layer_gradients


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("keepdims", [False, True])
def test_gradients(training: bool, keepdims: bool) -> None:
    layer = GlobalMaxPool2D(keepdims=keepdims)
    assert_gradients_close(check_layer_gradients(layer, (4, 5, 3), training=training))


@pytest.mark.parametrize("keepdims,expected", [(False, (3,)), (True, (1, 1, 3))])
def test_shapes_values_and_float32(keepdims: bool, expected: tuple[int, ...]) -> None:
    layer = GlobalMaxPool2D(keepdims=keepdims)
    assert layer.build((4, 5, 3), np.random.default_rng(0), np.float32) == expected
    x = np.random.default_rng(1).standard_normal((2, 4, 5, 3)).astype(np.float32)
    y = layer.forward(x, True)
    assert y.shape == (2, *expected) and y.dtype == np.float32
    np.testing.assert_array_equal(y.reshape(2, 3), x.max(axis=(1, 2)))
    dx = layer.backward(np.ones_like(y))
    assert dx.shape == x.shape and dx.dtype == np.float32
    np.testing.assert_array_equal(dx.sum(axis=(1, 2)), 1)
    np.testing.assert_array_equal(dx, x == x.max(axis=(1, 2), keepdims=True))


def test_ties_send_the_gradient_to_the_first_position() -> None:
    layer = GlobalMaxPool2D()
    layer.build((2, 2, 1), np.random.default_rng(0), np.float64)
    x = np.zeros((1, 2, 2, 1))  # every position ties, as after a ReLU
    dx = layer.backward(np.ones_like(layer.forward(x, True)))
    np.testing.assert_array_equal(dx[0, :, :, 0], [[1, 0], [0, 0]])


def test_matches_pytorch() -> None:
    torch = pytest.importorskip("torch", reason="torch is needed to compare with max pooling")
    rng = np.random.default_rng(0)
    layer = GlobalMaxPool2D()
    layer.build((5, 4, 3), rng, np.float64)
    x = rng.standard_normal((2, 5, 4, 3))
    y = layer.forward(x, True)
    g = rng.standard_normal(y.shape)
    dx = layer.backward(g)
    xt = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    yt = torch.nn.functional.adaptive_max_pool2d(xt, 1)[:, :, 0, 0]
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(y, yt.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy().transpose(0, 2, 3, 1), atol=1e-12)


def test_needs_images_and_takes_an_empty_batch() -> None:
    with pytest.raises(mnn.ShapeError, match=r"height, width, channels.*received input shape"):
        GlobalMaxPool2D().compute_output_shape((10, 3))
    assert not GlobalMaxPool2D.supports_masking
    layer = GlobalMaxPool2D()
    layer.build((3, 3, 2), np.random.default_rng(0), np.float32)
    y = layer.forward(np.zeros((0, 3, 3, 2), np.float32), True)
    assert y.shape == (0, 2) and layer.backward(y).shape == (0, 3, 3, 2)
