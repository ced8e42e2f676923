"""Per-channel bias addition and gradients grouped into long rows agree with broadcasting."""

from __future__ import annotations

import numpy as np
import pytest

from modular_nn.layers.channels import (
    ROW_TARGET,
    add_bias,
    bias_gradient,
    channel_sum,
    rows_per_group,
)


def test_rows_per_group_divides_the_rows_and_reaches_the_target() -> None:
    assert rows_per_group(50176, 16) == 98  # not 64: 64 * 16 floats = 4096 bytes
    assert rows_per_group(12544, 32) == 49  # not 32, nor 48: 6144 bytes
    assert rows_per_group(512, 512) == 1  # long rows already
    assert rows_per_group(7919, 16) == 1  # a prime number of rows: nothing divides
    for rows, channels in [(12544, 32), (1000, 10), (96, 3), (50176, 16)]:
        for itemsize in (4, 8):
            k = rows_per_group(rows, channels, itemsize)
            assert rows % k == 0
            assert k == 1 or (k * channels >= ROW_TARGET and k * channels * itemsize % 256)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(64, 28, 28, 16), (512, 10), (7919, 16), (3, 5), (0, 4)])
def test_add_bias_and_bias_gradient_match_broadcasting(dtype: type, shape: tuple) -> None:
    rng = np.random.default_rng(0)
    z = rng.standard_normal(shape).astype(dtype)
    bias = rng.standard_normal(shape[-1]).astype(dtype)
    expected = z + bias
    add_bias(z, bias)
    np.testing.assert_array_equal(z, expected)  # the same additions, only grouped
    out = np.empty(shape[-1], dtype)
    bias_gradient(z, out)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, z.reshape(-1, shape[-1]).sum(axis=0), rtol=rtol, atol=1e-4)


def test_add_bias_on_a_strided_array_falls_back_to_broadcasting() -> None:
    z = np.zeros((64, 32))[:, ::2]  # not contiguous: the grouped view would be a copy
    add_bias(z, np.arange(16.0))
    np.testing.assert_array_equal(z, np.tile(np.arange(16.0), (64, 1)))


@pytest.mark.parametrize("shape", [(64, 28, 28, 16), (512, 256), (5, 3)])
def test_channel_sum_returns_the_per_channel_sums(shape: tuple) -> None:
    a = np.random.default_rng(2).standard_normal(shape)
    np.testing.assert_allclose(channel_sum(a), a.reshape(-1, shape[-1]).sum(axis=0), rtol=1e-12)
