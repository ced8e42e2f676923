"""lstm: the cell's formula (gate order i, f, c, o), unit_forget_bias and layout
(shared behaviour: tests/layers/test_recurrent.py)."""

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.activations.sigmoid import stable_sigmoid as sigmoid
from modular_nn.layers.lstm import LSTM


def test_each_step_is_the_lstm_formula_with_gates_i_f_c_o() -> None:
    layer = LSTM(units=2, bias_initializer={"type": "normal", "stddev": 1.0})
    layer.build((3, 4), np.random.default_rng(0), np.float64)
    w, u, b = (layer.params[k] for k in ("kernel", "recurrent_kernel", "bias"))
    x = np.random.default_rng(1).standard_normal((5, 3, 4))
    h = c = np.zeros((5, 2))
    for t in range(3):
        i, f, g, o = np.split(x[:, t] @ w + h @ u + b, 4, axis=-1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
    np.testing.assert_allclose(layer.forward(x, False), h, rtol=1e-12)


@pytest.mark.parametrize("unit_forget_bias", [True, False])
def test_unit_forget_bias_starts_the_forget_gate_at_one(unit_forget_bias: bool) -> None:
    layer = LSTM(units=3, unit_forget_bias=unit_forget_bias)
    layer.build((2, 4), np.random.default_rng(0), np.float32)
    bias = layer.params["bias"]
    assert bias.shape == (12,) and bias.dtype == np.float32
    np.testing.assert_array_equal(bias[3:6], 1.0 if unit_forget_bias else 0.0)
    np.testing.assert_array_equal(np.delete(bias, np.s_[3:6]), 0)


def test_layout_and_options() -> None:
    layer = LSTM(units=3)
    assert layer.param_shapes((7, 5)) == {
        "kernel": (5, 12),
        "recurrent_kernel": (3, 12),
        "bias": (12,),
    }
    config = layer.get_config()
    assert config["recurrent_activation"] == {"type": "sigmoid"}
    assert config["unit_forget_bias"] is True
    assert config["recurrent_initializer"] == {"type": "orthogonal", "gain": 1.0}
    with pytest.raises(mnn.SpecError, match="did you mean 'sigmoid'"):
        LSTM(units=3, recurrent_activation="sigmoidd")
