"""The kit catches broken components: each planted bug fails exactly the property it breaks,
and the message says by how much. Broken components are registered as throwaway plugins
in a registry of their own, so the process-wide one never sees them."""

from __future__ import annotations

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.activations.relu import ReLU
from modular_nn.activations.tanh import Tanh
from modular_nn.layers.dense import Dense
from modular_nn.losses.mse import MeanSquaredError
from modular_nn.optimizers.sgd import SGD
from modular_nn.registry import builtins_only_registry
from modular_nn.testing import ConformanceError, assert_conforms, check_component


class WrongBackward(Dense):
    """Dense whose input gradient forgets the kernel's transpose scaling (halved)."""

    type_name = "broken.wrong_backward"
    example_options = {"units": 3}
    example_input_shape = (4,)

    def backward(self, grad_out):
        grad_in = super().backward(grad_out)
        return None if grad_in is None else grad_in * 0.5


class WrongEvaluationBackward(Dense):
    """Dense scaled by 2 in evaluation mode whose backward forgets that scale."""

    type_name = "broken.wrong_eval_backward"
    example_options = {"units": 3}
    example_input_shape = (4,)

    def forward(self, x, training=False):
        out = super().forward(x, training)
        return out if training else out * 2


class WrongKernelGradient(Dense):
    type_name = "broken.wrong_kernel_grad"
    example_options = {"units": 3}
    example_input_shape = (4,)

    def backward(self, grad_out):
        grad_in = super().backward(grad_out)
        self.grads["kernel"] *= -1
        return grad_in


class LyingShape(Dense):
    """Says it outputs ``units + 1`` features; forward produces ``units``."""

    type_name = "broken.lying_shape"
    example_options = {"units": 3}
    example_input_shape = (4,)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.config.units + 1)


class ReplacesGrads(Dense):
    type_name = "broken.replaces_grads"
    example_options = {"units": 3}
    example_input_shape = (4,)

    def backward(self, grad_out):
        grad_in = super().backward(grad_out)
        self.grads["kernel"] = self.grads["kernel"].copy()
        return grad_in


class AccumulatingGrads(Dense):
    """Dense whose backward adds to the parameter gradients instead of writing them."""

    type_name = "broken.accumulating_grads"
    example_options = {"units": 3}
    example_input_shape = (4,)

    def backward(self, grad_out):
        before = {key: grad.copy() for key, grad in self.grads.items()}
        grad_in = super().backward(grad_out)
        for key, grad in self.grads.items():
            grad += before[key]
        return grad_in


class Upcasts(Dense):
    type_name = "broken.upcasts"
    example_options = {"units": 3}
    example_input_shape = (4,)

    def forward(self, x, training=False):
        return super().forward(x, training).astype(np.float64)


class BatchMean(Dense):
    """Subtracts the batch mean even in evaluation: samples leak into each other."""

    type_name = "broken.batch_mean"
    example_options = {"units": 3}
    example_input_shape = (4,)

    def forward(self, x, training=False):
        out = super().forward(x, training)
        self.shift = out.mean(axis=0)
        return out - self.shift

    def backward(self, grad_out):
        return super().backward(grad_out - grad_out.mean(axis=0))


class GlobalRandom(mnn.Layer):
    """Draws noise from NumPy's global generator instead of the one build receives."""

    type_name = "broken.global_random"
    example_input_shape = (4,)

    def forward(self, x, training=False):
        return x + np.random.standard_normal(x.shape).astype(x.dtype)

    def backward(self, grad_out):
        return grad_out


class NoExample(mnn.Layer):
    type_name = "broken.no_example"

    def forward(self, x, training=False):
        return x

    def backward(self, grad_out):
        return grad_out


class SummingLoss(MeanSquaredError):
    """Sums over the batch instead of averaging."""

    type_name = "broken.summing_loss"

    def forward(self, y_pred, y_true):
        return super().forward(y_pred, y_true) * y_pred.shape[0]

    def backward(self):
        return super().backward() * self.diff.shape[0]


class AscendingSGD(SGD):
    type_name = "broken.ascending_sgd"

    def update(self, param, grad, slots, lr):
        param += lr * grad


class ForgetfulMomentum(SGD):
    """Momentum whose state_dict loses the velocity."""

    type_name = "broken.forgetful"
    example_options = {"momentum": 0.9}

    def state_dict(self):
        return {"iterations": self.iterations, "slots": {}}


class ConfiguredRateSGD(SGD):
    """Steps with the configured rate, ignoring the one it is given: schedules do nothing."""

    type_name = "broken.configured_rate"

    def update(self, param, grad, slots, lr):
        param -= self.config.learning_rate * grad


class WrongShapeInitializer(mnn.Initializer):
    type_name = "broken.wrong_shape_init"

    def sample(self, shape, rng):
        return rng.standard_normal(shape[::-1])


class DropsOption(mnn.Layer):
    """get_config forgets an option, so the spec round trip changes the model."""

    type_name = "broken.drops_option"
    example_input_shape = (3,)
    example_options = {"scale": 2.0}

    class Config(mnn.ComponentConfig):
        scale: float = 1.0

    def get_config(self):
        return {}

    def forward(self, x, training=False):
        return x * self.config.scale

    def backward(self, grad_out):
        return grad_out * self.config.scale


class InPlaceScale(mnn.Layer):
    """Doubles its input in place, and its incoming gradient in place too."""

    type_name = "broken.in_place_scale"
    example_input_shape = (3,)

    def forward(self, x, training=False):
        x *= 2
        return x

    def backward(self, grad_out):
        grad_out *= 2
        return grad_out


class MutatingTanh(Tanh):
    """tanh computed into its input even when the caller did not allow it."""

    type_name = "broken.mutating_tanh"

    def forward(self, x):
        self.y = np.tanh(x, out=x)
        return self.y


class WrongInPlaceReLU(ReLU):
    """An in-place forward that forgets the negative part."""

    type_name = "broken.wrong_in_place_relu"

    def forward_in_place(self, x):
        self.y = x  # the identity: wrong wherever x < 0
        return x


class BrokenPlugin:
    @mnn.hookimpl
    def register_layers(self, register):
        for cls in (
            WrongBackward,
            WrongKernelGradient,
            WrongEvaluationBackward,
            LyingShape,
            ReplacesGrads,
            Upcasts,
            AccumulatingGrads,
            BatchMean,
            GlobalRandom,
            NoExample,
            DropsOption,
            InPlaceScale,
        ):
            register(cls)

    @mnn.hookimpl
    def register_activations(self, register):
        register(MutatingTanh)
        register(WrongInPlaceReLU)

    @mnn.hookimpl
    def register_losses(self, register):
        register(SummingLoss)

    @mnn.hookimpl
    def register_optimizers(self, register):
        register(AscendingSGD)
        register(ForgetfulMomentum)
        register(ConfiguredRateSGD)

    @mnn.hookimpl
    def register_initializers(self, register):
        register(WrongShapeInitializer)


@pytest.fixture(scope="module")
def registry():
    registry = builtins_only_registry()
    assert registry.register_plugin(BrokenPlugin(), provider="broken")
    return registry


def failed(report):
    return {r.property: r.detail for r in report.failures}


def test_wrong_input_gradient_is_caught_with_its_error(registry):
    report = check_component("layers", "broken.wrong_backward", registry=registry)
    failures = failed(report)
    assert set(failures) == {"gradients"}
    assert "input (training): max relative error" in failures["gradients"]
    assert "kernel" not in failures["gradients"]  # the parameter gradients are right
    with pytest.raises(ConformanceError, match="gradients"):
        report.raise_for_failures()


def test_a_backward_wrong_only_in_evaluation_mode_is_caught(registry):
    failures = failed(check_component("layers", "broken.wrong_eval_backward", registry=registry))
    assert set(failures) == {"gradients"}
    assert "(evaluation)" in failures["gradients"]
    assert "(training)" not in failures["gradients"]


def test_wrong_parameter_gradient_is_caught(registry):
    failures = failed(check_component("layers", "broken.wrong_kernel_grad", registry=registry))
    assert set(failures) == {"gradients"}
    # the sign is flipped: relative error 2
    assert failures["gradients"].startswith("kernel (training): max relative error 2")


def test_output_shape_disagreeing_with_compute_output_shape_is_caught(registry):
    failures = failed(check_component("layers", "broken.lying_shape", registry=registry))
    assert "output shape" in failures
    assert "(4, 4)" in failures["output shape"] and "(4, 3)" in failures["output shape"]


def test_replacing_gradient_arrays_is_caught(registry):
    failures = failed(check_component("layers", "broken.replaces_grads", registry=registry))
    assert "replaced grads['kernel']" in failures["gradients in place"]
    # training a model with it stops on the first step, naming the layer
    assert set(failures) == {"gradients in place", "hdf5 round trip"}
    assert "layer 'broken.replaces_grads_1'" in failures["hdf5 round trip"]


def test_a_backward_adding_to_the_gradients_is_caught_by_the_gradient_check(registry):
    failures = failed(check_component("layers", "broken.accumulating_grads", registry=registry))
    assert "gradients" in failures
    assert "kernel" in failures["gradients"] and "input" not in failures["gradients"]


def test_upcasting_to_float64_is_caught(registry):
    failures = failed(check_component("layers", "broken.upcasts", registry=registry))
    assert set(failures) == {"dtype float32"}
    assert "returned float64" in failures["dtype float32"]


def test_batch_dependence_in_evaluation_is_caught(registry):
    failures = failed(check_component("layers", "broken.batch_mean", registry=registry))
    assert "batch independence" in failures
    assert "changes by up to" in failures["batch independence"]


def test_randomness_outside_the_model_generator_is_caught(registry):
    failures = failed(check_component("layers", "broken.global_random", registry=registry))
    assert {"seed determinism", "evaluation determinism"} <= set(failures)


def test_a_layer_without_example_fails_rather_than_skipping(registry):
    report = check_component("layers", "broken.no_example", registry=registry)
    assert [r.property for r in report.results] == ["example"]
    assert "example_input_shape" in report.failures[0].detail
    # ...and passes once an input shape is given
    assert check_component("layer", "broken.no_example", input_shape=(3,), registry=registry).ok


def test_a_config_that_does_not_round_trip_is_caught(registry):
    failures = failed(check_component("layers", "broken.drops_option", registry=registry))
    assert "layers[0].scale: 2.0 != 1.0" in failures["spec round trip"]
    assert "predictions differ after save/load" in failures["hdf5 round trip"]


def test_a_layer_writing_into_its_input_and_its_gradient_is_caught(registry):
    failures = failed(check_component("layers", "broken.in_place_scale", registry=registry))
    detail = failures["inputs untouched"]
    assert "forward(training=True) changed its input" in detail
    assert "backward changed the gradient it was given" in detail


def test_an_activation_overwriting_its_input_is_caught(registry):
    failures = failed(check_component("activations", "broken.mutating_tanh", registry=registry))
    assert "in-place forward" in failures
    assert "forward(x) changed x" in failures["in-place forward"]


def test_a_wrong_in_place_forward_is_caught(registry):
    failures = failed(
        check_component("activations", "broken.wrong_in_place_relu", registry=registry)
    )
    # predict (a dense layer computing it in place) is wrong too, so it also differs from
    # the exported model, which computes relu's forward
    assert set(failures) - {"exports and matches onnxruntime"} == {"in-place forward"}
    assert "outputs of forward and forward_in_place differ" in failures["in-place forward"]


def test_a_loss_that_sums_over_the_batch_is_caught(registry):
    failures = failed(check_component("losses", "broken.summing_loss", registry=registry))
    assert set(failures) == {"batch independence"}
    assert "not the mean of the per-sample losses" in failures["batch independence"]


def test_an_optimizer_that_ascends_is_caught(registry):
    failures = failed(check_component("optimizers", "broken.ascending_sgd", registry=registry))
    assert "decreases a quadratic" in failures


def test_an_optimizer_losing_state_is_caught(registry):
    failures = failed(check_component("optimizers", "broken.forgetful", registry=registry))
    assert "state round trip" in failures
    assert "differs by up to" in failures["state round trip"]


def test_an_optimizer_ignoring_its_learning_rate_argument_is_caught(registry):
    failures = failed(check_component("optimizers", "broken.configured_rate", registry=registry))
    assert set(failures) == {"follows the learning rate"}
    assert "does update use its lr argument?" in failures["follows the learning rate"]


def test_an_initializer_with_the_wrong_shape_is_caught(registry):
    failures = failed(check_component("initializers", "broken.wrong_shape_init", registry=registry))
    assert "shape and dtype" in failures
    assert "asked for (5, 3), received (3, 5)" in failures["shape and dtype"]


def test_the_broken_components_never_reach_the_global_registry(registry):
    assert "broken.wrong_backward" not in mnn.available("layers")
    with pytest.raises(ConformanceError, match="registered"):
        assert_conforms("layers", "broken.wrong_backward")
