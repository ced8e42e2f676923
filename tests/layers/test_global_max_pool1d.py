"""GlobalMaxPool1D: padded steps never win, ties, PyTorch parity (shared: test_global_pooling)."""

import numpy as np
import pytest

from modular_nn.layers.global_max_pool1d import GlobalMaxPool1D

#: real steps of 4 sequences of 6 steps: full, right-padded, holes, all padding
MASK = np.array([[1] * 6, [1, 1, 1, 0, 0, 0], [0, 1, 0, 1, 1, 0], [0] * 6], dtype=bool)


def test_padded_steps_never_win() -> None:
    layer = GlobalMaxPool1D()
    layer.build((6, 3), np.random.default_rng(0), np.float32)
    x = np.random.default_rng(1).standard_normal((4, 6, 3)).astype(np.float32)
    x[~MASK] = 100.0
    layer.input_mask = MASK
    y = layer.forward(x, True)
    assert y.shape == (4, 3) and y.dtype == np.float32
    for row in range(3):
        np.testing.assert_array_equal(y[row], x[row, MASK[row]].max(axis=0))
    np.testing.assert_array_equal(y[3], 0)  # all padding: 0
    dx = layer.backward(np.ones_like(y))
    assert dx.dtype == np.float32
    np.testing.assert_array_equal(dx[~MASK], 0)  # and no gradient to padding
    np.testing.assert_array_equal(dx.sum(axis=1), [[1, 1, 1]] * 3 + [[0, 0, 0]])


def test_without_a_mask_it_is_the_maximum_and_ties_go_to_the_first() -> None:
    layer = GlobalMaxPool1D(keepdims=True)
    assert layer.build((4, 2), np.random.default_rng(0), np.float64) == (1, 2)
    x = np.array([[[0.0, 1.0], [2.0, 1.0], [2.0, -1.0], [0.0, 1.0]]])
    y = layer.forward(x, True)
    np.testing.assert_array_equal(y, [[[2.0, 1.0]]])
    dx = layer.backward(np.ones_like(y))
    np.testing.assert_array_equal(dx[0], [[0, 1], [1, 0], [0, 0], [0, 0]])


def test_matches_pytorch() -> None:
    torch = pytest.importorskip("torch", reason="torch is needed to compare with max pooling")
    rng = np.random.default_rng(0)
    layer = GlobalMaxPool1D()
    layer.build((7, 3), rng, np.float64)
    x = rng.standard_normal((2, 7, 3))
    y = layer.forward(x, True)
    g = rng.standard_normal(y.shape)
    dx = layer.backward(g)
    xt = torch.tensor(x.transpose(0, 2, 1), requires_grad=True)
    yt = torch.nn.functional.adaptive_max_pool1d(xt, 1)[:, :, 0]
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(y, yt.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy().transpose(0, 2, 1), atol=1e-12)
