"""The kit on layers that take several inputs (``input_count``): it runs the merge layers on
lists of arrays built from lists of example shapes, checks every input, and catches a broken
multi-input layer by the property it breaks, naming the input. Broken layers live in a
registry of their own."""

from __future__ import annotations

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.layers.add import Add
from modular_nn.layers.concatenate import Concatenate
from modular_nn.registry import builtins_only_registry
from modular_nn.testing import (
    assert_conforms,
    assert_gradients_close,
    check_component,
    check_layer_gradients,
)
from modular_nn.testing.checks.layers import NO_GRAPH_MODELS
from modular_nn.testing.examples import as_input_shape

MERGES = ["add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate"]


class WrongSecondGradient(Add):
    """Add whose second input's gradient is doubled."""

    type_name = "several.wrong_second_gradient"
    example_input_shape = [(4,), (4,)]

    def backward(self, grad_out):
        first, second = super().backward(grad_out)
        return [first, second * 2]


class SharedGradient(Add):
    """Add that hands the very same array to both inputs."""

    type_name = "several.shared_gradient"
    example_input_shape = [(4,), (4,)]

    def backward(self, grad_out):
        return [grad_out, grad_out]


class OneGradient(Add):
    """Add whose backward returns one array instead of one per input."""

    type_name = "several.one_gradient"
    example_input_shape = [(4,), (4,)]

    def backward(self, grad_out):
        return grad_out


class UpcastSecondGradient(Add):
    type_name = "several.upcast_second"
    example_input_shape = [(4,), (4,)]

    def backward(self, grad_out):
        first, second = super().backward(grad_out)
        return [first, second.astype(np.float64)]


class ScalesSecondInput(Add):
    """Add that doubles its second input in place before summing."""

    type_name = "several.scales_second_input"
    example_input_shape = [(4,), (4,)]

    def forward(self, xs, training=False):
        xs[1] *= 2
        return super().forward(xs, training)

    def backward(self, grad_out):
        first, second = super().backward(grad_out)
        return [first, second * 2]


class WeightedSum(mnn.Layer):
    """A correct plugin layer with a parameter: y = w_1 * a + w_2 * b (per feature)."""

    type_name = "several.weighted_sum"
    input_count = (2, 2)
    example_input_shape = [[3], [3]]  # lists of lists read as a list of shapes

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def param_shapes(self, input_shape):
        return {"kernel": (2, input_shape[0][-1])}

    def build(self, input_shape, rng, dtype):
        output_shape = super().build(input_shape, rng, dtype)
        self.add_param("kernel", rng.standard_normal(self.param_shapes(self.input_shape)["kernel"]))
        return output_shape

    def forward(self, xs, training=False):
        self.xs = xs
        w = self.params["kernel"]
        return w[0] * xs[0] + w[1] * xs[1]

    def backward(self, grad_out):
        # y = w_1 a + w_2 b:  dL/dw_k = sum over samples of g * x_k,  dL/dx_k = g * w_k
        w = self.params["kernel"]
        for k in range(2):
            np.sum(grad_out * self.xs[k], axis=0, out=self.grads["kernel"][k])
        return [grad_out * w[0], grad_out * w[1]]


class NoListExample(WeightedSum):
    type_name = "several.one_shape_example"
    example_input_shape = (3,)


class TooManyShapes(WeightedSum):
    type_name = "several.three_shapes_example"
    example_input_shape = [(3,), (3,), (3,)]


class ListForOneInput(mnn.Layer):
    type_name = "several.list_for_one_input"
    example_input_shape = [(3,), (3,)]

    def forward(self, x, training=False):
        return x

    def backward(self, grad_out):
        return grad_out


class Plugin:
    @mnn.hookimpl
    def register_layers(self, register):
        for cls in (
            WrongSecondGradient,
            SharedGradient,
            OneGradient,
            UpcastSecondGradient,
            ScalesSecondInput,
            WeightedSum,
            NoListExample,
            TooManyShapes,
            ListForOneInput,
        ):
            register(cls)


@pytest.fixture(scope="module")
def registry():
    registry = builtins_only_registry()
    assert registry.register_plugin(Plugin(), provider="several")
    return registry


def failed(report):
    return {r.property: r.detail for r in report.failures}


def graph_round_trips_ok(report) -> bool:
    """The model-level properties pass, or are skipped while graph specs cannot be built."""
    return all(
        report.result(p).status == "pass"
        or (
            report.result(p).status == "skip"
            and report.result(p).detail.startswith(NO_GRAPH_MODELS)
        )
        for p in ("spec round trip", "hdf5 round trip")
    )


@pytest.mark.parametrize("name", MERGES)
def test_the_kit_checks_every_input_of_each_merge(name):
    report = assert_conforms("layers", name)
    count = len(report.result("output shape").detail.split(" -> ")[0].split("),"))
    detail = report.result("gradients").detail
    for i in range(count):
        assert f"input[{i}] (training)" in detail and f"input[{i}] (evaluation)" in detail
    assert report.result("input gradients separate").status == "pass"
    assert report.result("dtype float32").status == "pass"
    assert report.result("empty batch").status == "pass"
    assert report.result("inputs untouched").status == "pass"
    assert graph_round_trips_ok(report)


def test_concatenate_on_an_inner_axis_of_images_conforms():
    report = assert_conforms(
        "layers", "concatenate", options={"axis": 2}, input_shape=[(4, 3, 2), (4, 1, 2)]
    )
    assert report.result("output shape").detail == "[(4, 3, 2), (4, 1, 2)] -> (4, 4, 2)"
    assert report.result("empty batch").detail == "0 samples -> (0, 4, 4, 2)"


def test_a_wrong_gradient_of_the_second_input_is_caught(registry):
    failures = failed(check_component("layers", "several.wrong_second_gradient", registry=registry))
    assert set(failures) == {"gradients"}
    assert "input[1] (training): max relative error" in failures["gradients"]
    assert "input[0]" not in failures["gradients"]


def test_gradients_sharing_memory_are_caught(registry):
    failures = failed(check_component("layers", "several.shared_gradient", registry=registry))
    assert set(failures) == {"input gradients separate"}
    assert (
        "the gradients of input[0] and input[1] share memory"
        in failures["input gradients separate"]
    )


def test_a_single_gradient_for_several_inputs_is_caught(registry):
    failures = failed(check_component("layers", "several.one_gradient", registry=registry))
    assert "backward returned a ndarray for 2 inputs" in failures["output shape"]
    assert "expected a list of one gradient per input" in failures["gradients"]


def test_an_upcast_gradient_is_caught_naming_its_input(registry):
    failures = failed(check_component("layers", "several.upcast_second", registry=registry))
    assert set(failures) == {"dtype float32"}
    assert "backward returned a gradient of float64 for input[1]" in failures["dtype float32"]


def test_writing_into_an_input_is_caught_naming_it(registry):
    failures = failed(check_component("layers", "several.scales_second_input", registry=registry))
    detail = failures["inputs untouched"]
    assert "forward(training=True) changed its input[1]" in detail
    assert "input[0]" not in detail


def test_a_correct_plugin_layer_with_a_parameter_conforms(registry):
    report = check_component("layers", "several.weighted_sum", registry=registry)
    assert report.ok, str(report)
    assert report.result("output shape").detail == "[(3,), (3,)] -> (3,)"
    assert "kernel (training)" in report.result("gradients").detail


def test_examples_that_do_not_fit_input_count_fail_with_what_to_write(registry):
    report = check_component("layers", "several.one_shape_example", registry=registry)
    assert report.checked() == ["example"]
    assert "takes several inputs (input_count (2, 2))" in report.failures[0].detail
    assert "[(3,), (3,)]" in report.failures[0].detail
    report = check_component("layers", "several.three_shapes_example", registry=registry)
    assert "takes exactly 2 inputs (input_count (2, 2)), the example gives 3" in (
        report.failures[0].detail
    )
    report = check_component("layers", "several.list_for_one_input", registry=registry)
    assert "takes one input, the example gives 2 shapes" in report.failures[0].detail
    # ...and an input_shape given to the kit replaces the example
    fixed = check_component(
        "layers", "several.one_shape_example", input_shape=[(2,), (2,)], registry=registry
    )
    assert fixed.ok, str(fixed)


def test_as_input_shape_tells_one_shape_from_a_list_of_shapes():
    assert as_input_shape((4, 2)) == (4, 2)
    assert as_input_shape([4, 2]) == (4, 2)
    assert as_input_shape(()) == ()
    assert as_input_shape([[4], (2, 3)]) == [(4,), (2, 3)]


def test_gradcheck_checks_every_input_of_a_layer_taking_several():
    x = [np.ones((2, 3)), np.zeros((2, 1))]
    results = check_layer_gradients(Concatenate(), [(3,), (1,)], x=x)
    assert sorted(results) == ["input[0]", "input[1]"]
    assert_gradients_close(results)
    with pytest.raises(AssertionError, match="gradient is wrong|max relative error"):
        assert_gradients_close(check_layer_gradients(WrongSecondGradient(), [(3,), (3,)]))
    with pytest.raises(AssertionError, match="returned ndarray for 2 inputs"):
        check_layer_gradients(OneGradient(), [(3,), (3,)])
