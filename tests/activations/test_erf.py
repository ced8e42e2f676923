"""The vectorised erf behind exact GELU: accuracy against math.erf, special values."""

import math

import numpy as np

from modular_nn.activations.erf import erf


def test_matches_math_erf_to_about_1e_15() -> None:
    x = np.concatenate([np.linspace(-7, 7, 20001), [1e-300, -1e-12, 1.99999, 2.0, 2.00001]])
    expected = np.array([math.erf(v) for v in x])
    assert np.abs(erf(x) - expected).max() < 1e-14
    tail = x[np.abs(x) > 2]  # the complement keeps relative accuracy where it is small
    rel = np.abs((1 - np.abs(erf(tail))) - np.array([math.erfc(abs(v)) for v in tail]))
    assert (rel <= 1e-12 * np.array([math.erfc(abs(v)) for v in tail]) + 1e-16).all()


def test_special_values_and_dtypes() -> None:
    y = erf(np.array([0.0, np.inf, -np.inf, np.nan, 6.0, -30.0]))
    np.testing.assert_array_equal(y[:3], [0.0, 1.0, -1.0])
    assert np.isnan(y[3]) and y[4] == 1.0 and y[5] == -1.0
    x32 = np.linspace(-4, 4, 101, dtype=np.float32)
    assert erf(x32).dtype == np.float32
    np.testing.assert_allclose(erf(x32), [math.erf(v) for v in x32], atol=2e-7)
    assert erf(np.arange(3)).dtype == np.float64
    np.testing.assert_array_equal(erf(-x32), -erf(x32))
