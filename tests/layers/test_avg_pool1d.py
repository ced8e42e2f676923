"""AvgPool1D: values, padding excluded from the count, PyTorch parity (shared: test_pooling1d)."""

import numpy as np
import pytest

from modular_nn.layers.avg_pool1d import AvgPool1D

CASES = [(2, None, "valid"), (3, 2, "valid"), (2, 1, "same"), (3, 1, "same"), (4, 3, "same")]


def test_values_and_default_strides() -> None:
    layer = AvgPool1D()
    layer.build((5, 1), np.random.default_rng(0), np.float64)
    x = np.array([1.0, 3.0, 2.0, 0.0, 9.0]).reshape(1, 5, 1)
    np.testing.assert_array_equal(layer.forward(x)[0, :, 0], [2, 1])


def test_same_padding_is_left_out_of_the_count() -> None:
    layer = AvgPool1D(pool_size=2, padding="same")
    layer.build((3, 1), np.random.default_rng(0), np.float64)
    x = np.array([2.0, 4.0, 6.0]).reshape(1, 3, 1)
    y = layer.forward(x, True)
    np.testing.assert_array_equal(y[0, :, 0], [3, 6])  # the last window holds one real step
    np.testing.assert_array_equal(layer.backward(np.ones_like(y))[0, :, 0], [0.5, 0.5, 1])


@pytest.mark.parametrize("pool_size,strides,padding", CASES)
def test_matches_pytorch(pool_size, strides, padding) -> None:
    torch = pytest.importorskip("torch", reason="torch is needed to compare with avg_pool1d")
    rng = np.random.default_rng(0)
    layer = AvgPool1D(pool_size=pool_size, strides=strides, padding=padding)
    layer.build((11, 3), rng, np.float64)
    x = rng.standard_normal((2, 11, 3))
    y = layer.forward(x, True)
    g = rng.standard_normal(y.shape)
    dx = layer.backward(g)
    (_, _), (left, right) = layer.window.pads
    xt = torch.tensor(x.transpose(0, 2, 1), requires_grad=True)
    step = strides or pool_size
    if left == right:  # torch's own padding, left out of the count
        yt = torch.nn.functional.avg_pool1d(
            xt, pool_size, step, padding=left, count_include_pad=False
        )
    else:  # uneven 'same' padding: window sums over the number of real steps in each
        pad = torch.nn.functional.pad
        sums = torch.nn.functional.avg_pool1d(pad(xt, (left, right)), pool_size, step)
        ones = torch.ones_like(xt[:1, :1])
        counts = torch.nn.functional.avg_pool1d(pad(ones, (left, right)), pool_size, step)
        yt = sums / counts
    yt.backward(torch.tensor(g.transpose(0, 2, 1)))
    np.testing.assert_allclose(y, yt.detach().numpy().transpose(0, 2, 1), atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy().transpose(0, 2, 1), atol=1e-12)
