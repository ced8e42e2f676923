"""Conformance properties of layers."""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import Any

import numpy as np

from modular_nn.components.layer import Layer
from modular_nn.registry import get_registry
from modular_nn.testing.checks.base import (
    ComponentChecks,
    compare_arrays,
    fail_if,
    max_abs_diff,
)
from modular_nn.testing.gradcheck import check_layer_gradients

#: Outputs of one sample evaluated alone and in a batch may differ by rounding only.
BATCH_RTOL = 1e-9


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
    )

    # ----- helpers -----------------------------------------------------------------------
    @property
    def integer(self) -> bool:
        return bool(self.cls.accepts_integer_input)

    def built(self, dtype: Any = np.float64, seed: int | None = None) -> Layer:
        layer: Layer = self.make()
        rng = np.random.default_rng(self.seed if seed is None else seed)
        layer.build(self.input_shape, rng, dtype)
        return layer

    def x(self, dtype: Any = np.float64, batch: int | None = None, offset: int = 10) -> np.ndarray:
        rng = np.random.default_rng(self.seed + offset)
        return self.random_input(
            rng, self.input_shape, batch or self.batch, dtype, integer=self.integer
        )

    def grad_like(self, out: np.ndarray) -> np.ndarray:
        rng = np.random.default_rng(self.seed + 20)
        return rng.standard_normal(out.shape).astype(out.dtype)

    # ----- properties ----------------------------------------------------------------------
    def check_inputs_untouched(self) -> str:
        """``forward`` leaves its input alone and ``backward`` the gradient it receives:
        both belong to another layer, which may read them again (a dense layer keeps its
        input for backward, a relu its output)."""
        layer = self.built()
        problems = []
        for training in (True, False):
            x = self.x()
            kept = x.copy()
            out = layer.forward(x, training)
            if not np.array_equal(x, kept, equal_nan=True):
                problems.append(f"forward(training={training}) changed its input")
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
        for training in (False, True):
            out = layer.forward(x, training)
            if tuple(out.shape) != (x.shape[0], *returned):
                problems.append(
                    f"forward(training={training}) returned shape {tuple(out.shape)} for a batch "
                    f"of {x.shape[0]}, expected {(x.shape[0], *returned)} from build"
                )
        grad_in = layer.backward(self.grad_like(out))
        if not self.integer:
            if grad_in is None:
                problems.append("backward returned None although needs_input_grad is True")
            elif tuple(grad_in.shape) != tuple(x.shape):
                problems.append(
                    f"backward returned a gradient of shape {tuple(grad_in.shape)} for an input "
                    f"of shape {tuple(x.shape)}"
                )
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
        if not self.integer and grad_in is not None and grad_in.dtype != dtype:
            problems.append(f"backward returned an input gradient of {grad_in.dtype}")
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
            gap = max_abs_diff(first.forward(x, training), second.forward(x, training))
            if gap:
                problems.append(f"forward(training={training}) differs by up to {gap:.3g}")
        out_1, out_2 = first.forward(x, True), second.forward(x, True)
        gap_in = max_abs_diff(
            first.backward(self.grad_like(out_1)), second.backward(self.grad_like(out_2))
        )
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
        alone = np.concatenate([layer.forward(x[i : i + 1], False).copy() for i in range(len(x))])
        reversed_ = layer.forward(np.ascontiguousarray(x[::-1]), False)[::-1]
        scale = max(1.0, float(np.max(np.abs(full), initial=0.0)))
        problems = []
        gap = max_abs_diff(full, alone)
        if gap > BATCH_RTOL * scale:
            problems.append(
                f"a sample's output changes by up to {gap:.3g} between evaluating it alone and "
                f"in a batch of {len(x)}"
            )
        gap = max_abs_diff(full, reversed_)
        if gap > BATCH_RTOL * scale:
            problems.append(f"reversing the batch changes outputs by up to {gap:.3g}")
        fail_if(problems)
        return f"each of {len(x)} samples evaluated alone matches the batch"

    def check_empty_batch(self) -> str:
        """In evaluation, a batch of no samples gives no outputs, shaped as any other
        batch's (``predict`` of zero rows runs the layers on one)."""
        layer = self.built()
        layer.forward(self.x(), True)  # as after training (running statistics)
        with warnings.catch_warnings():  # statistics over no samples may warn; shapes matter
            warnings.simplefilter("ignore", RuntimeWarning)
            out = layer.forward(self.x()[:0], False)
        expected = (0, *layer.output_shape)
        if tuple(out.shape) != expected:
            fail_if(
                [f"forward of 0 samples returned shape {tuple(out.shape)}, expected {expected}"]
            )
        return f"0 samples -> {expected}"

    def model_spec(self) -> dict[str, Any]:
        names = get_registry().names
        spec: dict[str, Any] = {
            "name": "conformance",
            "input_shape": list(self.input_shape),
            "seed": self.seed,
            "layers": [{"type": self.name, **self.options}],
        }
        if "mse" in names("losses") and "sgd" in names("optimizers"):
            spec["loss"] = "mse"
            spec["optimizer"] = {"type": "sgd", "learning_rate": 0.01}
        return spec


__all__ = ["LayerChecks"]
