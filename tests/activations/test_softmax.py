"""``stable_softmax``: the transposed path for tall arrays of few columns agrees with the
general one."""

from __future__ import annotations

import numpy as np
import pytest

from modular_nn.activations.softmax import NARROW_ROWS, stable_softmax


def general_softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 1e-6), (np.float64, 1e-14)])
@pytest.mark.parametrize(
    "shape", [(NARROW_ROWS + 1, 1), (512, 10), (33, NARROW_ROWS), (64, NARROW_ROWS + 1), (4, 3)]
)
def test_softmax_rows_agree_with_the_general_formula(
    dtype: type, rtol: float, shape: tuple[int, int]
) -> None:
    x = (np.random.default_rng(0).standard_normal(shape) * 20).astype(dtype)
    for axis in (-1, 1):
        p = stable_softmax(x, axis)
        assert p.dtype == dtype and p.shape == shape and p.flags.c_contiguous
        np.testing.assert_allclose(p, general_softmax(x), rtol=rtol, atol=1e-30)
        np.testing.assert_allclose(p.sum(axis=-1), 1, rtol=10 * rtol)


def test_narrow_softmax_is_stable_and_leaves_its_input_alone() -> None:
    x = np.array([[1000.0, 0.0, -1000.0]] * 40, dtype=np.float32)
    before = x.copy()
    p = stable_softmax(x)
    np.testing.assert_array_equal(x, before)
    np.testing.assert_allclose(p, np.tile([1.0, 0.0, 0.0], (40, 1)))
    nan_row = x.copy()
    nan_row[3, 1] = np.nan
    assert np.isnan(stable_softmax(nan_row)[3]).all()
    assert np.isfinite(stable_softmax(nan_row)[[0, 4]]).all()


def test_narrow_softmax_of_integers_is_float64() -> None:
    x = np.arange(60).reshape(20, 3)
    p = stable_softmax(x)
    assert p.dtype == np.float64
    np.testing.assert_allclose(p, general_softmax(x.astype(np.float64)), rtol=1e-14)
