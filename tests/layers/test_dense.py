"""Dense: gradients, shapes, initialization, dtype, options."""

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.layers.dense import Dense
from modular_nn.testing import assert_gradients_close, check_layer_gradients


@pytest.mark.parametrize("activation", ["linear", "relu", "sigmoid", "tanh", "softmax"])
def test_gradients(activation: str) -> None:
    assert_gradients_close(check_layer_gradients(Dense(units=4, activation=activation), (5,)))


def test_gradients_without_bias_and_on_3d_inputs() -> None:
    assert_gradients_close(check_layer_gradients(Dense(units=3, use_bias=False), (5,)))
    assert_gradients_close(check_layer_gradients(Dense(units=3, activation="tanh"), (2, 5)))


def test_kernel_layout_and_he_normal_scale() -> None:
    layer = Dense(units=300)
    layer.build((400,), np.random.default_rng(0), np.float32)
    assert layer.params["kernel"].shape == (400, 300)
    assert layer.params["bias"].shape == (300,)
    assert layer.params["kernel"].dtype == np.float32
    assert layer.params["kernel"].std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    assert not layer.params["bias"].any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_keeps_dtype(dtype: type) -> None:
    layer = Dense(units=3, activation="sigmoid")
    layer.build((4,), np.random.default_rng(0), dtype)
    y = layer.forward(np.ones((2, 4), dtype=dtype), True)
    g = layer.backward(np.ones_like(y))
    assert y.dtype == dtype and g.dtype == dtype and layer.grads["kernel"].dtype == dtype


def test_bad_options_are_spec_errors() -> None:
    with pytest.raises(mnn.SpecError, match="units"):
        Dense(units=0)
    with pytest.raises(mnn.SpecError, match="did you mean 'relu'"):
        Dense(units=2, activation="relux")
    with pytest.raises(mnn.SpecError, match="unknown option"):
        Dense(units=2, unit=3)


def test_initializer_options() -> None:
    layer = Dense(
        units=2, kernel_initializer="ones", bias_initializer={"type": "normal", "stddev": 1}
    )
    layer.build((3,), np.random.default_rng(0), np.float64)
    np.testing.assert_array_equal(layer.params["kernel"], np.ones((3, 2)))
    assert layer.get_config()["bias_initializer"] == {"type": "normal", "mean": 0.0, "stddev": 1.0}
