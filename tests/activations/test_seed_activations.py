"""The seed notebook's activations (and softmax): values, stability, gradients."""

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.testing import assert_gradients_close, check_activation_gradient

SEED_ACTIVATIONS = ["linear", "sigmoid", "relu", "tanh", "softmax"]


def make(name: str, **options: object) -> mnn.Activation:
    return mnn.get_registry().create("activations", {"type": name, **options})


@pytest.mark.parametrize("name", SEED_ACTIVATIONS)
def test_gradient_matches_finite_differences(name: str) -> None:
    assert_gradients_close(check_activation_gradient(make(name), (5, 7)))


def test_seed_printed_values() -> None:
    x = np.array([2.0])
    assert make("sigmoid")(x)[0] == pytest.approx(0.8808, abs=1e-4)
    assert make("relu")(x)[0] == pytest.approx(2.0)
    assert make("tanh")(x)[0] == pytest.approx(0.9640, abs=1e-4)


def test_sigmoid_extremes_are_exact() -> None:
    y = make("sigmoid")(np.array([-1e4, 0.0, 1e4]))
    np.testing.assert_allclose(y, [0.0, 0.5, 1.0])


def test_softmax_rows_sum_to_one_on_any_axis() -> None:
    x = np.random.default_rng(0).standard_normal((3, 4, 5))
    for axis in (-1, 1):
        y = make("softmax", axis=axis)(x)
        np.testing.assert_allclose(y.sum(axis=axis), 1.0)
    assert_gradients_close(check_activation_gradient(make("softmax", axis=1), (3, 4, 5)))


def test_relu_derivative_comes_from_forward() -> None:
    act = make("relu")
    act.forward(np.array([-1.0, 2.0, 0.5]))
    np.testing.assert_array_equal(act.backward(np.array([10.0, 10.0, 10.0])), [0.0, 10.0, 10.0])
