"""simple_rnn: the cell's formula, its options and layout (shared behaviour:
tests/layers/test_recurrent.py)."""

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.layers.simple_rnn import SimpleRNN


def test_each_step_is_the_elman_formula() -> None:
    layer = SimpleRNN(units=2, activation="relu", bias_initializer="ones")
    layer.build((3, 4), np.random.default_rng(0), np.float64)
    w, u, b = (layer.params[k] for k in ("kernel", "recurrent_kernel", "bias"))
    x = np.random.default_rng(1).standard_normal((5, 3, 4))
    h = np.zeros((5, 2))
    for t in range(3):  # h_t = relu(x_t W + h_{t-1} U + b)
        h = np.maximum(x[:, t] @ w + h @ u + b, 0)
    np.testing.assert_allclose(layer.forward(x, False), h, rtol=1e-12)


def test_layout_and_options() -> None:
    layer = SimpleRNN(units=3)
    assert layer.param_shapes((7, 5)) == {
        "kernel": (5, 3),
        "recurrent_kernel": (3, 3),
        "bias": (3,),
    }
    assert layer.get_config()["activation"] == {"type": "tanh"}
    with pytest.raises(mnn.SpecError, match="recurrent_activation"):
        SimpleRNN(units=3, recurrent_activation="sigmoid")  # Keras's SimpleRNN has none
    with pytest.raises(mnn.SpecError, match="units"):
        SimpleRNN(units=0)
