"""AvgPool2D: 'same' averages real elements only, PyTorch parity (shared: test_pooling)."""

import numpy as np
import pytest

from modular_nn.layers.avg_pool2d import AvgPool2D


def test_same_padding_averages_only_real_elements() -> None:
    layer = AvgPool2D(pool_size=2, padding="same")
    layer.build((3, 3, 1), np.random.default_rng(0), np.float64)
    y = layer.forward(np.ones((1, 3, 3, 1)))
    np.testing.assert_array_equal(y, np.ones((1, 2, 2, 1)))  # not diluted by zero padding


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
