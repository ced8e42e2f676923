"""The first training step checks every layer's shapes and gradient arrays, naming the
layer and both shapes, so a faulty (third-party) layer is reported where it is wrong."""

from __future__ import annotations

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.layers.dense import Dense


class Twice(mnn.Layer):
    type_name = "test.twice"

    def forward(self, x, training=False):
        return x * 2

    def backward(self, grad_out):
        return grad_out * 2


class WrongBackwardShape(Twice):
    type_name = "test.wrong_backward_shape"

    def backward(self, grad_out):
        return grad_out[:, :-1] * 2


class WrongForwardShape(Twice):
    type_name = "test.wrong_forward_shape"

    def forward(self, x, training=False):
        return np.concatenate([x, x], axis=-1)


class ReplacesGrads(Dense):
    type_name = "test.replaces_grads"

    def backward(self, grad_out):
        grad_in = super().backward(grad_out)
        self.grads["bias"] = self.grads["bias"] * 1
        return grad_in


def model_with(layer):
    return mnn.Model(
        [Dense(units=4), layer, Dense(units=1)], input_shape=(3,), loss="mse", optimizer="sgd"
    )


DATA = np.ones((5, 3)), np.zeros((5, 1))


def test_a_backward_of_the_wrong_shape_is_named_with_both_shapes():
    model = model_with(WrongBackwardShape())
    with pytest.raises(mnn.ShapeError) as info:
        model.fit(*DATA, epochs=1, verbose=0)
    message = str(info.value)
    assert "layer 'test.wrong_backward_shape_1'" in message
    assert "(5, 3)" in message and "(5, 4)" in message


def test_a_forward_disagreeing_with_compute_output_shape_is_named():
    model = model_with(WrongForwardShape())
    with pytest.raises(mnn.ShapeError, match=r"'test.wrong_forward_shape_1'.*\(5, 8\).*\(5, 4\)"):
        model.train_on_batch(*DATA)


def test_replacing_a_gradient_array_is_an_error_not_silent_non_learning():
    model = mnn.Model([ReplacesGrads(units=1)], input_shape=(3,), loss="mse", optimizer="sgd")
    with pytest.raises(mnn.TrainingError, match=r"replaced grads\['bias'\]"):
        model.train_on_batch(*DATA)


def test_a_correct_layer_trains_and_is_checked_once():
    model = model_with(Twice())
    first = model.train_on_batch(*DATA)
    assert model._verify_next_step is False
    assert model.train_on_batch(*DATA) < first
    model.compile(optimizer="adam")  # rewiring checks the next step again
    assert model._verify_next_step is True
