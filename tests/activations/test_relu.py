"""ReLU's chunked ``positive_part`` gives exactly ``np.maximum(x, 0)``."""

from __future__ import annotations

import numpy as np
import pytest

from modular_nn.activations.relu import CHUNK, ReLU, positive_part


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize(
    "shape", [(), (0,), (1,), (7, 3), (CHUNK,), (CHUNK + 1,), (3, CHUNK // 2 + 5), (2, 5, 7, 3)]
)
def test_positive_part_equals_maximum_with_zero(dtype: type, shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    out = positive_part(x)
    expected = np.maximum(x, 0)
    assert out.dtype == expected.dtype and out.shape == expected.shape
    np.testing.assert_array_equal(out, expected)
    assert not np.shares_memory(out, x)


def test_positive_part_keeps_nan_inf_and_leaves_its_input_alone() -> None:
    x = np.array([np.nan, -np.inf, np.inf, -1.0, -0.0, 0.0, 2.5], dtype=np.float32)
    before = x.copy()
    out = positive_part(x)
    np.testing.assert_array_equal(out, [np.nan, 0, np.inf, 0, 0, 0, 2.5])
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize(
    "x",
    [
        np.arange(-5, 5).reshape(2, 5),  # integers keep their dtype
        np.linspace(-1, 1, 24).reshape(4, 6).T,  # not C-contiguous
        np.linspace(-1, 1, 24)[::3],  # strided
    ],
)
def test_positive_part_other_inputs_fall_back_to_maximum(x: np.ndarray) -> None:
    out = positive_part(x)
    expected = np.maximum(x, 0)
    assert out.dtype == expected.dtype
    np.testing.assert_array_equal(out, expected)


def test_relu_forward_and_backward() -> None:
    relu = ReLU()
    x = np.array([[-2.0, 0.0, 3.0], [1.5, -0.5, 0.25]], dtype=np.float32)
    np.testing.assert_array_equal(relu.forward(x), [[0, 0, 3], [1.5, 0, 0.25]])
    grad = relu.backward(np.full_like(x, 2.0))
    assert grad.dtype == np.float32
    np.testing.assert_array_equal(grad, [[0, 0, 2], [2, 0, 2]])


def test_positive_part_in_place_writes_into_its_input() -> None:
    x = np.array([[-1.0, 2.0], [0.5, -3.0]], dtype=np.float32)
    out = positive_part(x, in_place=True)
    assert out is x
    np.testing.assert_array_equal(x, [[0, 2], [0.5, 0]])
    frozen = np.array([-1.0, 1.0])
    frozen.flags.writeable = False
    assert positive_part(frozen, in_place=True) is not frozen  # read-only: a new array


def test_relu_forward_in_place_and_its_backward() -> None:
    relu = ReLU()
    z = np.array([[-2.0, 0.0, 3.0]], dtype=np.float64)
    y = relu.apply_owned(z)
    assert y is z
    np.testing.assert_array_equal(y, [[0, 0, 3]])
    np.testing.assert_array_equal(relu.backward(np.ones_like(y)), [[0, 0, 1]])
    kept = np.array([[-2.0, 4.0]])
    assert relu.apply(kept) is not kept and kept[0, 0] == -2.0  # in place only when owned


def test_relu_of_a_scalar_is_a_scalar_as_np_maximum_gives() -> None:
    assert ReLU()(-2.0) == 0.0 and np.ndim(ReLU()(3.0)) == 0
    assert positive_part(np.float32(-1.5)) == 0.0
