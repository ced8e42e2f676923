"""Conformance properties of losses."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from modular_nn.components.loss import Loss
from modular_nn.testing.checks.base import (
    ComponentChecks,
    PropertySkip,
    differences,
    fail_if,
)
from modular_nn.testing.gradcheck import check_loss_gradient, check_model_gradients

#: The output activation each task's model ends with.
TASK_ACTIVATION = {"binary": "sigmoid", "categorical": "softmax", "sparse_categorical": "softmax"}


class LossChecks(ComponentChecks):
    """Gradient (alone and fused), dtypes, determinism, per-sample mean, spec and HDF5."""

    properties = (
        ("gradient shape", "check_gradient_shape"),
        ("gradients", "check_gradients"),
        ("fused gradients", "check_fused_gradients"),
        ("dtype float32", "check_float32"),
        ("dtype float64", "check_float64"),
        ("determinism", "check_determinism"),
        ("batch independence", "check_batch_independence"),
        ("spec round trip", "check_spec_round_trip"),
        ("hdf5 round trip", "check_hdf5_round_trip"),
    )

    def targets(self, rng: np.random.Generator, batch: int, shape: tuple[int, ...]) -> np.ndarray:
        """Targets of the loss's ``task`` for predictions of per-sample ``shape``."""
        task = self.cls.task
        if task == "binary":
            return rng.integers(0, 2, size=(batch, *shape)).astype(np.float64)
        if task in ("categorical", "sparse_categorical"):
            labels = rng.integers(0, shape[-1], size=(batch, *shape[:-1]))
            if task == "sparse_categorical":
                return labels
            return np.eye(shape[-1])[labels]
        return rng.standard_normal((batch, *shape))

    def data(
        self, dtype: Any = np.float64, batch: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Predictions that suit the task, and prepared targets, in ``dtype``."""
        rng = np.random.default_rng(self.seed + 10)
        batch = batch or self.batch
        shape = self.input_shape
        task = self.cls.task
        if self.input_range is not None:
            pred = rng.uniform(*self.input_range, size=(batch, *shape))
        elif task == "binary" and not self.options.get("from_logits"):
            pred = rng.uniform(0.05, 0.95, size=(batch, *shape))
        elif task in ("categorical", "sparse_categorical") and not self.options.get("from_logits"):
            e = np.exp(rng.standard_normal((batch, *shape)))
            pred = e / e.sum(axis=-1, keepdims=True)
        else:
            pred = rng.standard_normal((batch, *shape))
        loss: Loss = self.make()
        y = loss.prepare_targets(self.targets(rng, batch, shape), shape, np.dtype(dtype))
        return pred.astype(dtype), y

    def check_gradient_shape(self) -> str:
        loss: Loss = self.make()
        pred, y = self.data()
        loss.forward(pred, y)
        grad = loss.backward()
        if np.shape(grad) != pred.shape:
            fail_if([f"backward returned shape {np.shape(grad)} for predictions {pred.shape}"])
        return f"predictions {pred.shape}"

    def check_gradients(self) -> str:
        pred, y = self.data()
        return self.judge_gradients([check_loss_gradient(self.make(), pred, y, seed=self.seed)])

    def check_fused_gradients(self) -> str:
        from modular_nn.model.build import build_model

        fuses_with = self.cls.fuses_with
        if not fuses_with:
            raise PropertySkip("the loss fuses with no activation")
        self.require_components(("layers", "dense"), ("activations", fuses_with))
        spec = self.model_spec(activation=fuses_with, optimizer=False)
        model = build_model({**spec, "dtype": "float64"})
        if model._fused is None:
            raise PropertySkip(f"with these options the loss does not fuse with {fuses_with}")
        rng = np.random.default_rng(self.seed)
        x, y = self.model_data(model, rng)
        results = check_model_gradients(model, x, y, seed=self.seed)
        gradients = self.judge_gradients(results.values())
        xs, ys = model._prepare_xy(x, y)  # one array per input and per output
        out = model.forward(xs[0], False)
        fused = model._loss_and_grad(out, ys[0])[0]
        plain = self.make().forward(out, ys[0])
        if not math.isclose(fused, plain, rel_tol=self.tolerance, abs_tol=1e-12):
            fail_if([f"fused loss {fused!r} differs from the unfused {plain!r}"])
        return f"through {fuses_with}: {gradients}; same loss value"

    def check_dtype(self, dtype: np.dtype) -> str:
        loss: Loss = self.make()
        pred, y = self.data(dtype)
        value = loss.forward(pred, y)
        grad = np.asarray(loss.backward())
        problems = []
        if not isinstance(value, (float, np.floating)) or not math.isfinite(value):
            problems.append(f"forward returned {value!r}, expected a finite float")
        if grad.dtype != dtype:
            problems.append(f"backward returned {grad.dtype}")
        fail_if(f"with {dtype.name} predictions: {p}" for p in problems)
        return f"gradients stay {dtype.name}"

    def check_determinism(self) -> str:
        loss: Loss = self.make()
        pred, y = self.data()
        first, grad_1 = loss.forward(pred, y), np.array(loss.backward())
        second, grad_2 = loss.forward(pred, y), loss.backward()
        fail_if(differences({"forwards": (first, second), "backwards": (grad_1, grad_2)}))
        return "repeated calls identical"

    def check_batch_independence(self) -> str:
        loss: Loss = self.make()
        pred, y = self.data(batch=5)
        whole = loss.forward(pred, y)
        alone = [loss.forward(pred[i : i + 1], y[i : i + 1]) for i in range(len(pred))]
        mean = float(np.mean(alone))
        if not math.isclose(whole, mean, rel_tol=1e-9, abs_tol=1e-12):
            fail_if(
                [
                    f"the batch loss {whole!r} is not the mean of the per-sample losses {mean!r} "
                    f"(off by {abs(whole - mean):.3g})"
                ]
            )
        return f"batch loss is the mean of {len(pred)} per-sample losses"

    def model_spec(self, activation: str | None = None, optimizer: bool = True) -> dict[str, Any]:
        shape = self.input_shape
        if activation is None:
            activation = "linear"
            if not self.options.get("from_logits"):
                activation = TASK_ACTIVATION.get(self.cls.task, "linear")
        self.require_components(("layers", "dense"), ("activations", activation))
        spec: dict[str, Any] = {
            "name": "conformance",
            "input_shape": [*shape[:-1], 4],
            "seed": self.seed,
            "layers": [{"type": "dense", "units": shape[-1], "activation": activation}],
            "loss": {"type": self.name, **self.options},
        }
        if optimizer:
            self.require_components(("optimizers", "sgd"))
            spec["optimizer"] = {"type": "sgd", "learning_rate": 0.01}
        return spec

    def model_data(self, model: Any, rng: np.random.Generator) -> tuple[np.ndarray, Any]:
        x = rng.standard_normal((6, *model.input_shape)).astype(model.dtype)
        return x, self.targets(rng, 6, self.input_shape)
