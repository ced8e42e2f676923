"""SiLU: values."""

import numpy as np

from modular_nn.activations.silu import SiLU


def test_values() -> None:
    x = np.array([-800.0, -1.0, 0.0, 2.0, 800.0])
    np.testing.assert_allclose(SiLU()(x), [0.0, -1 / (1 + np.e), 0.0, 2 / (1 + np.exp(-2)), 800])
