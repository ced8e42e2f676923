"""GlobalAvgPool1D: the mean over real steps, dtype (shared checks: test_global_pooling)."""

import numpy as np

from modular_nn.layers.global_avg_pool1d import GlobalAvgPool1D

#: real steps of 4 sequences of 6 steps: full, right-padded, holes, all padding
MASK = np.array([[1] * 6, [1, 1, 1, 0, 0, 0], [0, 1, 0, 1, 1, 0], [0] * 6], dtype=bool)


def test_masked_average_is_over_the_real_steps_only() -> None:
    layer = GlobalAvgPool1D()
    layer.build((6, 3), np.random.default_rng(0), np.float32)
    x = np.random.default_rng(1).standard_normal((4, 6, 3)).astype(np.float32)
    layer.input_mask = MASK
    y = layer.forward(x, True)
    assert y.shape == (4, 3) and y.dtype == np.float32
    for row in range(3):
        np.testing.assert_allclose(y[row], x[row, MASK[row]].mean(axis=0), rtol=1e-6)
    np.testing.assert_array_equal(y[3], 0)  # all padding: 0, no division by zero
    changed = x.copy()
    changed[~MASK] = 1e6  # padded steps do not count
    np.testing.assert_array_equal(layer.forward(changed, True), y)
    dx = layer.backward(np.ones_like(y))
    assert dx.dtype == np.float32
    np.testing.assert_array_equal(dx[~MASK], 0)
    np.testing.assert_allclose(dx[1, :3], 1 / 3)
    np.testing.assert_allclose(dx[2, MASK[2]], 1 / 3)


def test_without_a_mask_it_is_the_mean() -> None:
    layer = GlobalAvgPool1D(keepdims=True)
    assert layer.build((5, 2), np.random.default_rng(0), np.float32) == (1, 2)
    x = np.random.default_rng(1).standard_normal((3, 5, 2)).astype(np.float32)
    y = layer.forward(x, True)
    assert y.shape == (3, 1, 2) and y.dtype == np.float32
    np.testing.assert_allclose(y[:, 0], x.mean(axis=1), rtol=1e-6)
    dx = layer.backward(np.ones_like(y))
    assert dx.flags.writeable and dx.dtype == np.float32
    np.testing.assert_allclose(dx, 1 / 5)
