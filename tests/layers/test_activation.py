"""The standalone activation layer."""

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.layers.activation import ActivationLayer
from modular_nn.testing import assert_gradients_close, check_layer_gradients


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh", "softmax", "linear"])
def test_gradients(name: str) -> None:
    assert_gradients_close(check_layer_gradients(ActivationLayer(activation=name), (4,)))


def test_applies_the_activation() -> None:
    layer = ActivationLayer(activation="relu")
    layer.build((3,), np.random.default_rng(0), np.float32)
    np.testing.assert_array_equal(layer.forward(np.array([[-1.0, 0.0, 2.0]])), [[0.0, 0.0, 2.0]])
    assert layer.params == {}


def test_activation_is_required() -> None:
    with pytest.raises(mnn.SpecError, match="activation"):
        ActivationLayer()
