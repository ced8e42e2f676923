"""Dropout: inverted scaling in training, identity in evaluation, gradients."""

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.layers.dropout import Dropout
from modular_nn.testing import assert_gradients_close, check_layer_gradients


def built(rate: float) -> Dropout:
    layer = Dropout(rate=rate)
    layer.build((1000,), np.random.default_rng(0), np.float32)
    return layer


def test_identity_in_evaluation() -> None:
    x = np.random.default_rng(1).standard_normal((4, 1000)).astype(np.float32)
    np.testing.assert_array_equal(built(0.5).forward(x, training=False), x)


def test_scales_kept_units_by_inverse_keep_probability() -> None:
    x = np.ones((20, 1000), dtype=np.float32)
    y = built(0.25).forward(x, training=True)
    kept = y[y != 0]
    np.testing.assert_allclose(kept, 1 / 0.75, rtol=1e-6)
    assert (y == 0).mean() == pytest.approx(0.25, abs=0.01)
    assert y.dtype == np.float32


@pytest.mark.parametrize("training", [True, False])
def test_gradients(training: bool) -> None:
    assert_gradients_close(check_layer_gradients(Dropout(rate=0.4), (6,), training=training))


def test_rate_must_be_below_one() -> None:
    with pytest.raises(mnn.SpecError, match="rate"):
        Dropout(rate=1.0)
