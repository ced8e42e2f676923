"""Softplus: values without overflow or loss of precision."""

import numpy as np

from modular_nn.activations.softplus import Softplus


def test_values() -> None:
    x = np.array([-800.0, -40.0, 0.0, 1.0, 800.0])
    y = Softplus()(x)
    np.testing.assert_allclose(y, [0.0, np.exp(-40.0), np.log(2), np.log1p(np.e), 800.0])
    assert y[1] > 0  # log1p keeps the tiny positive value
