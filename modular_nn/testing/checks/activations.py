"""Conformance properties of activations."""

from __future__ import annotations

from typing import Any

import numpy as np

from modular_nn.components.activation import Activation
from modular_nn.testing.checks.base import ComponentChecks, differences, fail_if, max_abs_diff
from modular_nn.testing.checks.layers import BATCH_RTOL
from modular_nn.testing.gradcheck import check_activation_gradient


class ActivationChecks(ComponentChecks):
    """Shape, gradient, the in-place forward, dtypes, determinism, batch independence, spec
    and HDF5 round trips."""

    properties = (
        ("output shape", "check_output_shape"),
        ("gradients", "check_gradients"),
        ("in-place forward", "check_in_place"),
        ("dtype float32", "check_float32"),
        ("dtype float64", "check_float64"),
        ("determinism", "check_determinism"),
        ("batch independence", "check_batch_independence"),
        ("spec round trip", "check_spec_round_trip"),
        ("hdf5 round trip", "check_hdf5_round_trip"),
        ("exports and matches onnxruntime", "check_onnx_export"),
    )

    def x(self, dtype: Any = np.float64, batch: int | None = None) -> np.ndarray:
        rng = np.random.default_rng(self.seed + 10)
        return self.random_input(rng, self.input_shape, batch or self.batch, dtype)

    def grad_like(self, y: np.ndarray) -> np.ndarray:
        return np.random.default_rng(self.seed + 20).standard_normal(y.shape).astype(y.dtype)

    def check_output_shape(self) -> str:
        activation: Activation = self.make()
        x = self.x()
        y = activation.forward(x)
        grad = activation.backward(self.grad_like(y))
        problems = []
        if y.shape != x.shape:
            problems.append(f"forward returned shape {y.shape} for an input of shape {x.shape}")
        if np.shape(grad) != x.shape:
            problems.append(f"backward returned shape {np.shape(grad)} for an input of {x.shape}")
        fail_if(problems)
        return f"shape {x.shape} kept"

    def check_gradients(self) -> str:
        return self.judge_gradients(
            [check_activation_gradient(self.make(), x=self.x(), seed=self.seed)]
        )

    def check_in_place(self) -> str:
        """``forward`` leaves its input alone; ``forward_in_place`` (which layers call on
        their own scratch arrays) computes the same values and keeps what backward needs."""
        x = self.x()
        kept = x.copy()
        activation: Activation = self.make()
        y = np.array(activation.forward(x))
        g = self.grad_like(y)
        grad = np.array(activation.backward(g))
        problems = []
        if not np.array_equal(x, kept, equal_nan=True):
            problems.append("forward(x) changed x: an input may be read again by its owner")
        scratch = kept.copy()
        in_place: Activation = self.make()
        y_in_place = np.array(in_place.forward_in_place(scratch))
        grad_in_place = np.array(in_place.backward(g))
        problems += differences(
            {"outputs of forward and forward_in_place": (y, y_in_place),
             "gradients after forward and after forward_in_place": (grad, grad_in_place)},
            prefix="the",
        )  # fmt: skip
        fail_if(problems)
        overridden = type(in_place).forward_in_place is not Activation.forward_in_place
        return "computes in place, same values" if overridden else "input left alone"

    def check_dtype(self, dtype: np.dtype) -> str:
        activation: Activation = self.make()
        y = activation.forward(self.x(dtype))
        grad = activation.backward(self.grad_like(y).astype(dtype))
        problems = []
        if y.dtype != dtype:
            problems.append(f"forward returned {y.dtype}")
        if np.asarray(grad).dtype != dtype:
            problems.append(f"backward returned {np.asarray(grad).dtype}")
        fail_if(f"with {dtype.name} inputs: {p}" for p in problems)
        return f"outputs and gradients stay {dtype.name}"

    def check_determinism(self) -> str:
        activation: Activation = self.make()
        x = self.x()
        y_1 = activation.forward(x).copy()
        g_1 = np.array(activation.backward(self.grad_like(y_1)))
        y_2 = activation.forward(x)
        g_2 = activation.backward(self.grad_like(y_2))
        fail_if(differences({"forwards": (y_1, y_2), "backwards": (g_1, g_2)}))
        return "repeated calls identical"

    def check_batch_independence(self) -> str:
        activation: Activation = self.make()
        x = self.x(batch=5)
        full = activation.forward(x).copy()
        alone = np.concatenate([activation.forward(x[i : i + 1]).copy() for i in range(len(x))])
        gap = max_abs_diff(full, alone)
        if gap > BATCH_RTOL * max(1.0, float(np.max(np.abs(full), initial=0.0))):
            fail_if([f"a sample's output changes by up to {gap:.3g} alone versus in a batch"])
        return f"each of {len(x)} samples alone matches the batch"

    def model_spec(self) -> dict[str, Any]:
        self.require_components(("layers", "dense"), ("losses", "mse"), ("optimizers", "sgd"))
        ref = {"type": self.name, **self.options}
        return {
            "name": "conformance",
            "input_shape": list(self.input_shape),
            "seed": self.seed,
            "layers": [{"type": "dense", "units": self.input_shape[-1], "activation": ref}],
            "loss": "mse",
            "optimizer": {"type": "sgd", "learning_rate": 0.01},
        }
