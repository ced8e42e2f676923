"""Conformance properties of layers.

A layer that takes several inputs (``input_count``) is tried on a list of arrays,
one per shape of its example, and every property covers each input; the
helpers below (``inputs``, ``take``, ``gap``) let one property serve both kinds.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import replace
from typing import Any

import numpy as np

from modular_nn.components.layer import Layer, Shape
from modular_nn.registry import get_registry
from modular_nn.testing.checks.base import (
    ComponentChecks,
    PropertySkip,
    compare_arrays,
    fail_if,
    max_abs_diff,
)
from modular_nn.testing.gradcheck import check_layer_gradients

#: Outputs of one sample evaluated alone and in a batch may differ by rounding only.
BATCH_RTOL = 1e-9

#: How a skipped model-level property of a layer taking several inputs starts, while
#: this modular_nn builds no model from a graph spec (``graph_models_problem``).
NO_GRAPH_MODELS = "this modular_nn builds no model from a graph spec yet"


def inputs(x: Any) -> list[Any]:
    """A layer's input (or the gradients backward returned) as a list, one per input."""
    return list(x) if isinstance(x, (list, tuple)) else [x]


def take(x: Any, index: Any) -> Any:
    """``x[index]`` on the batch axis of one array, or of each array of a list (contiguous)."""
    if isinstance(x, list):
        return [np.ascontiguousarray(a[index]) for a in x]
    return np.ascontiguousarray(x[index])


def gap(a: Any, b: Any) -> float:
    """``max_abs_diff`` of two arrays, or the largest over two lists of them."""
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        a, b = inputs(a), inputs(b)
        if len(a) != len(b):
            return math.inf
        return max((max_abs_diff(p, q) for p, q in zip(a, b)), default=0.0)
    return max_abs_diff(a, b)


def graph_models_problem() -> str | None:
    """Why no model can be built from a graph spec (named ``inputs``, entries with
    ``inputs``) here, or None when one can."""
    from modular_nn.model.build import build_model

    probe = {
        "name": "graph_probe",
        "inputs": {"a": [2]},
        "layers": [{"type": "dense", "units": 1, "inputs": ["a"]}],
    }
    try:
        build_model(probe)
    except Exception as exc:  # noqa: BLE001 - any failure means no graph models
        return f"{type(exc).__name__}: {exc}"
    return None


class LayerChecks(ComponentChecks):
    """Shapes, gradients, dtypes, determinism, batch independence, spec and HDF5 round trips."""

    properties = (
        ("output shape", "check_output_shape"),
        ("parameter shapes", "check_parameter_shapes"),
        ("gradients", "check_gradients"),
        ("gradients in place", "check_gradients_in_place"),
        ("inputs untouched", "check_inputs_untouched"),
        ("dtype float32", "check_float32"),
        ("dtype float64", "check_float64"),
        ("seed determinism", "check_seed_determinism"),
        ("evaluation determinism", "check_evaluation_determinism"),
        ("batch independence", "check_batch_independence"),
        ("empty batch", "check_empty_batch"),
        ("spec round trip", "check_spec_round_trip"),
        ("hdf5 round trip", "check_hdf5_round_trip"),
        ("exports and matches onnxruntime", "check_onnx_export"),
    )

    # ----- helpers -----------------------------------------------------------------------
    @property
    def integer(self) -> bool:
        return bool(self.cls.accepts_integer_input)

    @property
    def several(self) -> bool:
        """True when the layer takes several inputs (lists of shapes and arrays)."""
        return bool(self.cls.takes_several_inputs())

    @property
    def shapes(self) -> list[Shape]:
        """One shape per input (a single-input layer's one shape in a list)."""
        return list(self.input_shape) if self.several else [self.input_shape]  # type: ignore[list-item]

    def names(self, count: int) -> list[str]:
        """How messages name the inputs: ``input`` alone, or ``input[0]``, ``input[1]``..."""
        return [f"input[{i}]" for i in range(count)] if self.several else ["input"]

    def all_properties(self) -> list[tuple[str, str]]:
        found = super().all_properties()
        if self.several:
            at = [label for label, _ in found].index("gradients in place") + 1
            found.insert(at, ("input gradients separate", "check_input_gradients_separate"))
        return found

    def built(self, dtype: Any = np.float64, seed: int | None = None) -> Layer:
        layer: Layer = self.make()
        rng = np.random.default_rng(self.seed if seed is None else seed)
        layer.build(self.input_shape, rng, dtype)
        return layer

    def x(self, dtype: Any = np.float64, batch: int | None = None, offset: int = 10) -> Any:
        """A batch of inputs: one array, or a list of one per input."""
        rng = np.random.default_rng(self.seed + offset)
        xs = [
            self.random_input(rng, shape, batch or self.batch, dtype, integer=self.integer)
            for shape in self.shapes
        ]
        return xs if self.several else xs[0]

    def grad_like(self, out: np.ndarray) -> np.ndarray:
        rng = np.random.default_rng(self.seed + 20)
        return rng.standard_normal(out.shape).astype(out.dtype)

    def input_gradient_problems(self, grad_in: Any, x: Any) -> list[str]:
        """What is wrong with what backward returned for the input(s) ``x``: not one
        gradient per input, or a gradient not of its input's shape."""
        if self.integer:
            return []
        xs = inputs(x)
        if self.several and (not isinstance(grad_in, (list, tuple)) or len(grad_in) != len(xs)):
            what = (
                f"{len(grad_in)} gradient(s)"
                if isinstance(grad_in, (list, tuple))
                else f"a {type(grad_in).__name__}"
            )
            return [
                f"backward returned {what} for {len(xs)} inputs; it must return a list of "
                "one gradient per input, in order"
            ]
        problems = []
        for name, xi, grad in zip(self.names(len(xs)), xs, inputs(grad_in)):
            if grad is None:
                problems.append(
                    f"backward returned None for {name} although needs_input_grad is True"
                )
            elif tuple(np.shape(grad)) != tuple(xi.shape):
                problems.append(
                    f"backward returned a gradient of shape {tuple(np.shape(grad))} for "
                    f"{'an input' if name == 'input' else name} of shape {tuple(xi.shape)}"
                )
        return problems

    # ----- properties ----------------------------------------------------------------------
    def check_inputs_untouched(self) -> str:
        """``forward`` leaves its input alone and ``backward`` the gradient it receives:
        both belong to another layer, which may read them again (a dense layer keeps its
        input for backward, a relu its output)."""
        layer = self.built()
        problems = []
        for training in (True, False):
            x = self.x()
            kept = [a.copy() for a in inputs(x)]
            out = layer.forward(x, training)
            for name, a, before in zip(self.names(len(kept)), inputs(x), kept):
                if not np.array_equal(a, before, equal_nan=True):
                    problems.append(f"forward(training={training}) changed its {name}")
        grad = self.grad_like(out)
        kept_grad = grad.copy()
        layer.forward(self.x(), True)
        layer.backward(grad)
        if not np.array_equal(grad, kept_grad, equal_nan=True):
            problems.append("backward changed the gradient it was given")
        fail_if(problems)
        return "inputs and incoming gradients left as they were"

    def check_output_shape(self) -> str:
        layer: Layer = self.make()
        declared = tuple(layer.compute_output_shape(self.input_shape))
        returned = tuple(layer.build(self.input_shape, np.random.default_rng(self.seed), "float64"))
        problems = []
        if returned != declared:
            problems.append(f"build returned {returned}, compute_output_shape said {declared}")
        x = self.x()
        batch = len(inputs(x)[0])
        for training in (False, True):
            out = layer.forward(x, training)
            if tuple(out.shape) != (batch, *returned):
                problems.append(
                    f"forward(training={training}) returned shape {tuple(out.shape)} for a batch "
                    f"of {batch}, expected {(batch, *returned)} from build"
                )
        problems += self.input_gradient_problems(layer.backward(self.grad_like(out)), x)
        fail_if(problems)
        return f"{self.input_shape} -> {returned}"

    def check_parameter_shapes(self) -> str:
        layer = self.built()
        declared = {k: tuple(v) for k, v in layer.param_shapes(self.input_shape).items()}
        actual = {k: tuple(v.shape) for k, v in layer.params.items()}
        problems = []
        if declared != actual:
            problems.append(f"param_shapes() said {declared}, build created {actual}")
        if set(layer.grads) != set(layer.params):
            problems.append(f"grads has {sorted(layer.grads)}, params has {sorted(layer.params)}")
        for key in set(layer.grads) & set(layer.params):
            if layer.grads[key].shape != layer.params[key].shape:
                problems.append(
                    f"grads[{key!r}] has shape {layer.grads[key].shape}, "
                    f"params[{key!r}] {layer.params[key].shape}"
                )
        count = sum(int(v.size) for v in layer.params.values())
        if layer.param_count(self.input_shape) != count:
            problems.append(
                f"param_count() said {layer.param_count(self.input_shape)}, built {count}"
            )
        fail_if(problems)
        return f"{len(actual)} parameter array(s), {count} values"

    def check_gradients(self) -> str:
        """Input and parameter gradients, in training and in evaluation mode."""
        results = []
        for training in (True, False):
            mode = "training" if training else "evaluation"
            checked = check_layer_gradients(
                self.make(), self.input_shape, training=training, seed=self.seed, x=self.x(batch=3)
            )
            results += [replace(r, name=f"{r.name} ({mode})") for r in checked.values()]
        return self.judge_gradients(results)

    def check_gradients_in_place(self) -> str:
        layer = self.built()
        params, grads = dict(layer.params), dict(layer.grads)
        values = {k: v.copy() for k, v in layer.params.items()}
        out = layer.forward(self.x(), True)
        layer.backward(self.grad_like(out))
        problems = []
        for key in grads:
            if layer.grads.get(key) is not grads[key]:
                problems.append(
                    f"backward replaced grads[{key!r}] with a new array; write into the existing "
                    "one (np.matmul(..., out=...) or grads[...][...] = ...): the optimizer holds it"
                )
        for key in params:
            if layer.params.get(key) is not params[key]:
                problems.append(f"params[{key!r}] was replaced by a new array")
        problems += [
            f"forward/backward changed {p} (a layer never updates its own weights)"
            for p in compare_arrays("parameter", values, layer.params)
        ]
        fail_if(problems)
        return f"{len(grads)} gradient array(s) written in place"

    def check_input_gradients_separate(self) -> str:
        """No two of the gradients backward returns share memory (one of them may be the
        gradient it received): each goes on to the layer that produced its input, which
        may change it in place, or is summed with the gradients of that value's other
        uses; neither may change another input's gradient."""
        layer = self.built()
        out = layer.forward(self.x(), True)
        grads = inputs(layer.backward(self.grad_like(out)))
        names = self.names(len(grads))
        problems = [
            f"the gradients of {names[i]} and {names[j]} share memory"
            for i in range(len(grads))
            for j in range(i + 1, len(grads))
            if grads[i] is not None
            and grads[j] is not None
            and np.shares_memory(grads[i], grads[j])
        ]
        if problems:
            problems.append(
                "return a separate array for each input (for equal values: grad_out for one "
                "input and grad_out.copy() for the others)"
            )
        fail_if(problems)
        return f"{len(grads)} gradient arrays, no two sharing memory"

    def check_dtype(self, dtype: np.dtype) -> str:
        layer = self.built(dtype)
        x = self.x(dtype)
        problems = [
            f"{what} {key!r} is {value.dtype}"
            for what, arrays in (("parameter", layer.params), ("buffer", layer.buffers))
            for key, value in arrays.items()
            if value.dtype != dtype
        ]
        out = layer.forward(x, False)
        if out.dtype != dtype:
            problems.append(f"forward(training=False) returned {out.dtype}")
        out = layer.forward(x, True)
        if out.dtype != dtype:
            problems.append(f"forward(training=True) returned {out.dtype}")
        grad_in = layer.backward(self.grad_like(out).astype(dtype))
        if not self.integer:
            grads = inputs(grad_in)
            problems += [
                f"backward returned a gradient of {grad.dtype} for {name}"
                if self.several
                else f"backward returned an input gradient of {grad.dtype}"
                for name, grad in zip(self.names(len(grads)), grads)
                if grad is not None and grad.dtype != dtype
            ]
        problems += [
            f"grads[{key!r}] is {g.dtype}" for key, g in layer.grads.items() if g.dtype != dtype
        ]
        fail_if(f"with {dtype.name} inputs: {p}" for p in problems)
        return f"outputs and gradients stay {dtype.name}"

    def check_seed_determinism(self) -> str:
        first, second = self.built(), self.built()
        problems = compare_arrays("parameter", first.params, second.params)
        problems += compare_arrays("buffer", first.buffers, second.buffers)
        x = self.x()
        for training in (True, False):
            diff = max_abs_diff(first.forward(x, training), second.forward(x, training))
            if diff:
                problems.append(f"forward(training={training}) differs by up to {diff:.3g}")
        out_1, out_2 = first.forward(x, True), second.forward(x, True)
        gap_in = gap(first.backward(self.grad_like(out_1)), second.backward(self.grad_like(out_2)))
        if gap_in:
            problems.append(f"backward differs by up to {gap_in:.3g}")
        problems += compare_arrays("gradient", first.grads, second.grads)
        fail_if(f"two layers built from seed {self.seed}: {p}" for p in problems)
        return "parameters, outputs and gradients identical for one seed"

    def check_evaluation_determinism(self) -> str:
        layer = self.built()
        x, other = self.x(), self.x(offset=30)
        layer.forward(x, True)  # moves running statistics away from their initial values
        buffers = {k: v.copy() for k, v in layer.buffers.items()}
        first = layer.forward(x, False).copy()
        second = layer.forward(x, False).copy()
        layer.forward(other, False)
        third = layer.forward(x, False)
        problems = [
            f"evaluation changed {p}" for p in compare_arrays("buffer", buffers, layer.buffers)
        ]
        if max_abs_diff(first, second):
            problems.append(f"two evaluations differ by up to {max_abs_diff(first, second):.3g}")
        if max_abs_diff(first, third):
            problems.append(
                f"evaluating another batch in between changed the output by up to "
                f"{max_abs_diff(first, third):.3g}"
            )
        fail_if(problems)
        return "repeated evaluations identical, buffers untouched"

    def check_batch_independence(self) -> str:
        layer = self.built()
        x = self.x(batch=5)
        layer.forward(x, True)  # non-trivial running statistics
        full = layer.forward(x, False).copy()
        size = len(inputs(x)[0])
        alone = np.concatenate(
            [layer.forward(take(x, slice(i, i + 1)), False).copy() for i in range(size)]
        )
        reversed_ = layer.forward(take(x, slice(None, None, -1)), False)[::-1]
        scale = max(1.0, float(np.max(np.abs(full), initial=0.0)))
        problems = []
        diff = max_abs_diff(full, alone)
        if diff > BATCH_RTOL * scale:
            problems.append(
                f"a sample's output changes by up to {diff:.3g} between evaluating it alone and "
                f"in a batch of {size}"
            )
        diff = max_abs_diff(full, reversed_)
        if diff > BATCH_RTOL * scale:
            problems.append(f"reversing the batch changes outputs by up to {diff:.3g}")
        fail_if(problems)
        return f"each of {size} samples evaluated alone matches the batch"

    def check_empty_batch(self) -> str:
        """In evaluation, a batch of no samples gives no outputs, shaped as any other
        batch's (``predict`` of zero rows runs the layers on one)."""
        layer = self.built()
        layer.forward(self.x(), True)  # as after training (running statistics)
        with warnings.catch_warnings():  # statistics over no samples may warn; shapes matter
            warnings.simplefilter("ignore", RuntimeWarning)
            out = layer.forward(take(self.x(), slice(0, 0)), False)
        expected = (0, *layer.output_shape)
        if tuple(out.shape) != expected:
            fail_if(
                [f"forward of 0 samples returned shape {tuple(out.shape)}, expected {expected}"]
            )
        return f"0 samples -> {expected}"

    def model_spec(self) -> dict[str, Any]:
        """A one-layer model; for a layer taking several inputs, a graph spec whose inputs
        ``input_1``, ``input_2``... feed it in order."""
        names = get_registry().names
        spec: dict[str, Any] = {"name": "conformance"}
        entry: dict[str, Any] = {"type": self.name, **self.options}
        if self.several:
            spec["inputs"] = {name: list(shape) for name, shape in self.model_inputs().items()}
            entry["inputs"] = list(self.model_inputs())
        else:
            spec["input_shape"] = list(self.input_shape)  # type: ignore[arg-type]
        spec["seed"] = self.seed
        spec["layers"] = [entry]
        if "mse" in names("losses") and "sgd" in names("optimizers"):
            spec["loss"] = "mse"
            spec["optimizer"] = {"type": "sgd", "learning_rate": 0.01}
        return spec

    def model_inputs(self) -> dict[str, Shape]:
        """The model inputs of ``model_spec`` (several inputs): name -> shape, in order."""
        return {f"input_{i + 1}": tuple(shape) for i, shape in enumerate(self.shapes)}

    def model_data(self, model: Any, rng: np.random.Generator) -> tuple[Any, Any]:
        """Inputs (a dict keyed by input name for several) and targets, or None."""
        if not self.several:
            return super().model_data(model, rng)
        x = {
            name: self.random_input(rng, shape, 6, model.dtype, integer=self.integer)
            for name, shape in self.model_inputs().items()
        }
        if model.loss is None:
            return x, None
        output_shape = self.make().compute_output_shape(self.input_shape)
        return x, rng.standard_normal((6, *output_shape))

    def require_graph_models(self) -> None:
        """Skip a model-level property of a layer taking several inputs while no model
        can be built from a graph spec here."""
        if self.several:
            problem = graph_models_problem()
            if problem:
                raise PropertySkip(f"{NO_GRAPH_MODELS} ({problem}); the layer itself was checked")

    def check_spec_round_trip(self) -> str:
        self.require_graph_models()
        return super().check_spec_round_trip()

    def check_hdf5_round_trip(self) -> str:
        self.require_graph_models()
        return super().check_hdf5_round_trip()

    def check_onnx_export(self) -> str:
        self.require_graph_models()
        return super().check_onnx_export()


__all__ = ["NO_GRAPH_MODELS", "LayerChecks", "gap", "graph_models_problem", "inputs", "take"]
