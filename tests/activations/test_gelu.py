"""GELU: exact (erf) and tanh-approximate forms."""

import math

import numpy as np
import pytest

from modular_nn.activations.gelu import GELU
from modular_nn.testing import assert_gradients_close, check_activation_gradient


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("approximate", [False, True])
def test_gradients_in_both_forms(approximate: bool, seed: int) -> None:
    gelu = GELU(approximate=approximate)
    assert_gradients_close(check_activation_gradient(gelu, (8, 10), seed=seed))


def test_exact_values_use_the_normal_cdf() -> None:
    x = np.array([-3.0, -1.0, 0.0, 0.5, 2.0])
    expected = [v * 0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x]
    np.testing.assert_allclose(GELU()(x), expected, rtol=1e-14, atol=1e-16)
    assert GELU().get_config() == {"approximate": False}


def test_approximation_is_close_to_exact() -> None:
    x = np.linspace(-5, 5, 101)
    assert np.abs(GELU(approximate=True)(x) - GELU()(x)).max() < 1e-3
