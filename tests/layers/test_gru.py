"""gru: the reset_after formula (gate order z, r, h), its (2, 3*units) bias and layout
(shared behaviour: tests/layers/test_recurrent.py)."""

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.activations.sigmoid import stable_sigmoid as sigmoid
from modular_nn.layers.gru import GRU


def test_each_step_is_the_reset_after_formula_with_gates_z_r_h() -> None:
    layer = GRU(units=2, bias_initializer={"type": "normal", "stddev": 1.0})
    layer.build((3, 4), np.random.default_rng(0), np.float64)
    w, u, b = (layer.params[k] for k in ("kernel", "recurrent_kernel", "bias"))
    x = np.random.default_rng(1).standard_normal((5, 3, 4))
    h = np.zeros((5, 2))
    for t in range(3):
        xz, xr, xh = np.split(x[:, t] @ w + b[0], 3, axis=-1)
        uz, ur, uh = np.split(h @ u + b[1], 3, axis=-1)  # reset applied after the product
        z, r = sigmoid(xz + uz), sigmoid(xr + ur)
        h = z * h + (1 - z) * np.tanh(xh + r * uh)
    np.testing.assert_allclose(layer.forward(x, False), h, rtol=1e-12)


def test_bias_rows_are_input_and_recurrent() -> None:
    layer = GRU(units=3, bias_initializer="ones")
    layer.build((2, 4), np.random.default_rng(0), np.float32)
    assert layer.params["bias"].shape == (2, 9)
    assert layer.param_shapes((7, 5)) == {
        "kernel": (5, 9),
        "recurrent_kernel": (3, 9),
        "bias": (2, 9),
    }
    assert "bias" not in GRU(units=3, use_bias=False).param_shapes((7, 5))


def test_options() -> None:
    config = GRU(units=3).get_config()
    assert config["recurrent_activation"] == {"type": "sigmoid"}
    assert "unit_forget_bias" not in config
    with pytest.raises(mnn.SpecError, match="reset_after"):
        GRU(units=3, reset_after=False)  # reset_after is always true here
