"""Conformance properties of optimizers, on a small quadratic bowl."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from modular_nn.components.optimizer import Optimizer
from modular_nn.testing.checks.base import ComponentChecks, compare_arrays, fail_if

#: The bowl: two parameters named like a model's, f = 0.5 * sum(c * (p - t)^2).
BOWL_SHAPES = {"dense_1/kernel": (4, 3), "dense_1/bias": (3,)}
STEPS = 200


class Bowl:
    """Parameters, their gradient arrays and the quadratic they minimise."""

    def __init__(self, seed: int, dtype: Any) -> None:
        rng = np.random.default_rng(seed)
        self.params = {k: rng.standard_normal(s).astype(dtype) for k, s in BOWL_SHAPES.items()}
        self.targets = {k: rng.standard_normal(s).astype(dtype) + 1 for k, s in BOWL_SHAPES.items()}
        self.curvature = {k: rng.uniform(0.5, 2.0, s).astype(dtype) for k, s in BOWL_SHAPES.items()}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def value(self) -> float:
        return float(
            sum(
                0.5 * np.sum(self.curvature[k] * (p - self.targets[k]) ** 2)
                for k, p in self.params.items()
            )
        )

    def run(self, optimizer: Optimizer, steps: int) -> None:
        """``steps`` updates, each after writing the gradient into the bound arrays."""
        for _ in range(steps):
            for key, param in self.params.items():
                np.multiply(self.curvature[key], param - self.targets[key], out=self.grads[key])
            optimizer.step()


class OptimizerChecks(ComponentChecks):
    """Descent on a quadratic, in-place updates, dtypes, determinism, state, spec and HDF5."""

    properties = (
        ("decreases a quadratic", "check_descent"),
        ("updates in place", "check_in_place"),
        ("follows the learning rate", "check_learning_rate"),
        ("dtype float32", "check_float32"),
        ("dtype float64", "check_float64"),
        ("determinism", "check_determinism"),
        ("state round trip", "check_state_round_trip"),
        ("spec round trip", "check_spec_round_trip"),
        ("hdf5 round trip", "check_hdf5_round_trip"),
    )

    def bound(self, dtype: Any = np.float64) -> tuple[Optimizer, Bowl]:
        optimizer: Optimizer = self.make()
        bowl = Bowl(self.seed, dtype)
        optimizer.bind(bowl.params, bowl.grads)
        return optimizer, bowl

    def check_descent(self) -> str:
        optimizer, bowl = self.bound()
        start = bowl.value()
        bowl.run(optimizer, STEPS)
        end = bowl.value()
        if not end < start:
            fail_if([f"after {STEPS} steps the quadratic went from {start:.6g} to {end:.6g}"])
        return f"{start:.4g} -> {end:.4g} in {STEPS} steps"

    def check_in_place(self) -> str:
        optimizer, bowl = self.bound()
        arrays = dict(bowl.params)
        before = {k: v.copy() for k, v in bowl.params.items()}
        bowl.run(optimizer, 3)
        problems = [
            f"{key} was not updated" for key in before if np.array_equal(before[key], arrays[key])
        ]
        if optimizer.iterations != 3:
            problems.append(f"iterations is {optimizer.iterations} after 3 steps")
        fail_if(problems)
        return "parameters updated in place, iterations counted"

    def check_learning_rate(self) -> str:
        """Each step uses the rate ``learning_rate_at`` gives (what a schedule computes),
        not the configured one: a schedule halving the rate must equal half the rate."""
        options = copy.deepcopy(self.options)
        options.pop("schedule", None)
        scheduled: Optimizer = self.cls(**options)
        rate = float(scheduled.config.learning_rate)  # type: ignore[attr-defined]
        scheduled.learning_rate_at = lambda step: rate / 2  # type: ignore[method-assign]
        halved: Optimizer = self.cls(**{**copy.deepcopy(options), "learning_rate": rate / 2})
        bowl_1, bowl_2 = Bowl(self.seed, np.float64), Bowl(self.seed, np.float64)
        scheduled.bind(bowl_1.params, bowl_1.grads)
        halved.bind(bowl_2.params, bowl_2.grads)
        bowl_1.run(scheduled, 3)
        bowl_2.run(halved, 3)
        fail_if(
            f"a schedule halving the rate and half the rate disagree: {p} (does update use "
            "its lr argument?)"
            for p in compare_arrays("parameter", bowl_1.params, bowl_2.params)
        )
        return "steps follow the scheduled learning rate"

    def check_dtype(self, dtype: np.dtype) -> str:
        optimizer, bowl = self.bound(dtype)
        bowl.run(optimizer, 3)
        problems = [f"{k} became {p.dtype}" for k, p in bowl.params.items() if p.dtype != dtype]
        problems += [
            f"slot {name}/{slot} is {value.dtype}"
            for name, slots in optimizer.slots.items()
            for slot, value in slots.items()
            if np.asarray(value).dtype != dtype
        ]
        problems += [
            f"{k} is not finite" for k, p in bowl.params.items() if not np.isfinite(p).all()
        ]
        fail_if(f"with {dtype.name} parameters: {p}" for p in problems)
        return f"parameters and slots stay {dtype.name}"

    def check_determinism(self) -> str:
        (first, bowl_1), (second, bowl_2) = self.bound(), self.bound()
        bowl_1.run(first, 5)
        bowl_2.run(second, 5)
        fail_if(
            f"two identical runs: {p}"
            for p in compare_arrays("parameter", bowl_1.params, bowl_2.params)
        )
        return "identical runs give identical parameters"

    def check_state_round_trip(self) -> str:
        first, bowl_1 = self.bound()
        bowl_1.run(first, 5)
        state = copy.deepcopy(first.state_dict())
        second: Optimizer = self.make()
        bowl_2 = Bowl(self.seed, np.float64)
        for key, value in bowl_1.params.items():
            bowl_2.params[key][...] = value
        second.bind(bowl_2.params, bowl_2.grads)
        second.load_state_dict(state)
        problems = []
        if second.iterations != first.iterations:
            problems.append(
                f"iterations {second.iterations} after loading, {first.iterations} saved"
            )
        bowl_1.run(first, 5)
        bowl_2.run(second, 5)
        problems += [
            f"after load_state_dict and 5 more steps, {p}"
            for p in compare_arrays("parameter", bowl_1.params, bowl_2.params)
        ]
        fail_if(problems)
        return "a restored optimizer continues exactly"

    def model_spec(self) -> dict[str, Any]:
        self.require_components(("layers", "dense"), ("losses", "mse"))
        return {
            "name": "conformance",
            "input_shape": [4],
            "seed": self.seed,
            "layers": [{"type": "dense", "units": 3}],
            "loss": "mse",
            "optimizer": {"type": self.name, **self.options},
        }
