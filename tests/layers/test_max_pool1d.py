"""MaxPool1D: values, ties, -inf padding, PyTorch parity (shared checks: test_pooling1d)."""

import numpy as np
import pytest

from modular_nn.layers.max_pool1d import MaxPool1D

CASES = [(2, None, "valid"), (3, 2, "valid"), (2, 1, "same"), (3, 1, "same"), (4, 3, "same")]


def test_values_and_default_strides() -> None:
    layer = MaxPool1D()
    layer.build((5, 1), np.random.default_rng(0), np.float64)
    x = np.array([1.0, 3.0, 2.0, 0.0, 9.0]).reshape(1, 5, 1)
    np.testing.assert_array_equal(layer.forward(x)[0, :, 0], [3, 2])  # the last step is dropped


@pytest.mark.parametrize("strides", [None, 1])
def test_ties_send_the_gradient_to_the_first_maximum_only(strides) -> None:
    layer = MaxPool1D(pool_size=2, strides=strides)
    layer.build((6, 2), np.random.default_rng(0), np.float64)
    x = np.zeros((1, 6, 2))  # all zero, as after a ReLU: every window ties
    y = layer.forward(x, True)
    dx = layer.backward(np.ones_like(y))
    assert dx.sum() == y.size  # each window passes its gradient on exactly once
    assert dx[0, -1].sum() == 0  # never the window's second step


def test_same_padding_never_picks_padding() -> None:
    layer = MaxPool1D(pool_size=2, padding="same")
    layer.build((3, 1), np.random.default_rng(0), np.float64)
    x = -np.arange(1.0, 4.0).reshape(1, 3, 1)  # all negative: zero padding would win
    np.testing.assert_array_equal(layer.forward(x, True)[0, :, 0], [-1, -3])


@pytest.mark.parametrize("pool_size,strides,padding", CASES)
def test_matches_pytorch(pool_size, strides, padding) -> None:
    torch = pytest.importorskip("torch", reason="torch is needed to compare with max_pool1d")
    rng = np.random.default_rng(0)
    layer = MaxPool1D(pool_size=pool_size, strides=strides, padding=padding)
    layer.build((11, 3), rng, np.float64)
    x = np.maximum(rng.standard_normal((2, 11, 3)), 0)  # ReLU-like ties
    y = layer.forward(x, True)
    g = rng.standard_normal(y.shape)
    dx = layer.backward(g)
    (_, _), (left, right) = layer.window.pads
    xt = torch.tensor(x.transpose(0, 2, 1), requires_grad=True)
    padded = torch.nn.functional.pad(xt, (left, right), value=-float("inf"))
    yt = torch.nn.functional.max_pool1d(padded, pool_size, strides or pool_size)
    yt.backward(torch.tensor(g.transpose(0, 2, 1)))
    np.testing.assert_allclose(y, yt.detach().numpy().transpose(0, 2, 1), atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy().transpose(0, 2, 1), atol=1e-12)


def test_symmetric_same_padding_matches_pytorch_padding() -> None:
    torch = pytest.importorskip("torch", reason="torch is needed to compare with max_pool1d")
    layer = MaxPool1D(pool_size=3, strides=1, padding="same")
    layer.build((7, 2), np.random.default_rng(0), np.float64)
    assert layer.window.pads[1] == (1, 1)
    x = np.random.default_rng(1).standard_normal((2, 7, 2))
    yt = torch.nn.functional.max_pool1d(torch.tensor(x.transpose(0, 2, 1)), 3, 1, padding=1)
    np.testing.assert_allclose(layer.forward(x), yt.numpy().transpose(0, 2, 1), atol=1e-12)
