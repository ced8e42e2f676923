"""Conformance properties of metrics: they stream exactly and their states merge.

A metric is tried on random outputs of its first task (``tasks[0]``, or the class
attribute ``example_task``), of one sample's shape ``example_input_shape`` (default: 1 unit
for binary, 4 classes for categorical outputs, 3 units for regression).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from modular_nn.components.metric import ALL_TASKS, Metric
from modular_nn.errors import TrainingError
from modular_nn.testing.checks.base import ComponentChecks, PropertyFailure, PropertySkip, fail_if

#: One sample's output shape per task, when the metric gives none.
DEFAULT_SHAPES = {
    "regression": (3,),
    "binary": (1,),
    "categorical": (4,),
    "sparse_categorical": (4,),
}
#: The loss and output activation of the model each task's spec round trip builds.
TASK_MODELS = {
    "regression": ("mse", "linear"),
    "binary": ("binary_crossentropy", "sigmoid"),
    "categorical": ("categorical_crossentropy", "softmax"),
    "sparse_categorical": ("sparse_categorical_crossentropy", "softmax"),
}
#: Samples, and where the batches of the streaming check start and end (uneven, with a
#: batch of one sample).
SAMPLES = 61
CUTS = (0, 1, 9, 30, 31, SAMPLES)
#: How far a streamed or merged value may be from the whole set's: float sums in another
#: order differ in their last bits, nothing more.
RELATIVE = 1e-9


def close(a: float, b: float) -> bool:
    """Equal within ``RELATIVE`` (two NaN are equal: both undefined)."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=RELATIVE, abs_tol=1e-12)


class MetricChecks(ComponentChecks):
    """Streaming over batches, merging states, reset, the task check, spec round trip."""

    properties = (
        ("streaming", "check_streaming"),
        ("merge", "check_merge"),
        ("reset", "check_reset"),
        ("task check", "check_task_check"),
        ("spec round trip", "check_spec_round_trip"),
    )

    @property
    def task(self) -> str:
        task = getattr(self.cls, "example_task", None) or self.cls.tasks[0]
        if task not in ALL_TASKS:
            raise PropertyFailure(
                f"{self.cls.__name__}: expected a task among {', '.join(ALL_TASKS)}, "
                f"received {task!r}"
            )
        return task

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.input_shape) or DEFAULT_SHAPES[self.task]  # type: ignore[arg-type]

    def bound(self) -> Metric:
        """A new metric bound to an output of the example task and shape."""
        metric: Metric = self.make()
        return metric.bind(self.task, False, self.shape)

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        """Predictions and targets of the task: probabilities and 0/1 targets (binary),
        softmax outputs and labels or one-hot targets (categorical), normal values."""
        rng = np.random.default_rng(self.seed + 20)
        shape, task = (SAMPLES, *self.shape), self.task
        if task == "binary":
            pred = rng.uniform(0.02, 0.98, size=shape)
            return pred, (rng.uniform(size=shape) < pred).astype(np.float64)
        if task in ("categorical", "sparse_categorical"):
            e = np.exp(rng.standard_normal(shape) * 1.5)
            pred = e / e.sum(axis=-1, keepdims=True)
            classes = shape[-1]
            labels = np.arange(SAMPLES * int(np.prod(shape[1:-1]))) % classes  # every class
            labels = rng.permutation(labels).reshape(shape[:-1])
            return pred, labels if task == "sparse_categorical" else np.eye(classes)[labels]
        true = rng.standard_normal(shape)
        return true + 0.5 * rng.standard_normal(shape), true

    def whole(self) -> tuple[Metric, float]:
        metric = self.bound()
        pred, true = self.data()
        metric.update(pred, true)
        return metric, metric.result()

    def check_streaming(self) -> str:
        _, expected = self.whole()
        if not isinstance(expected, float):
            fail_if([f"result() returned {type(expected).__name__}, expected a float"])
        metric = self.bound()
        pred, true = self.data()
        for lo, hi in zip(CUTS, CUTS[1:]):
            metric.update(pred[lo:hi], true[lo:hi])
        got = metric.result()
        if not close(got, expected):
            fail_if(
                [
                    f"over batches of {np.diff(CUTS).tolist()} samples the result is {got!r}, "
                    f"on the whole set at once {expected!r}: a metric must keep sums, counts "
                    "or the scores themselves, never average per-batch values"
                ]
            )
        return f"{self.task} outputs {self.shape}, {len(CUTS) - 1} batches: {got:.6g}"

    def check_merge(self) -> str:
        whole, expected = self.whole()
        pred, true = self.data()
        half = SAMPLES // 2
        first, second = self.bound(), self.bound()
        first.update(pred[:half], true[:half])
        second.update(pred[half:], true[half:])
        state = second.state()
        problems = []
        if not isinstance(state, np.ndarray) or state.dtype != np.float64 or state.ndim != 1:
            problems.append(
                f"state() returned {type(state).__name__} "
                f"{getattr(state, 'dtype', '')} {np.shape(state)}, expected a flat float64 "
                "vector"
            )
            fail_if(problems)
        if self.cls.additive and not (
            len(state) == len(first.state()) == len(whole.state()) == len(self.bound().state())
        ):
            problems.append(
                "additive metric whose state length changes with the samples "
                f"({len(self.bound().state())} before any batch, {len(state)} after half, "
                f"{len(whole.state())} after all); set additive = False"
            )
        first.merge(state)
        if not close(first.result(), expected):
            problems.append(
                f"merging the second half's state into the first gives {first.result()!r}, "
                f"the whole set {expected!r}"
            )
        fresh = self.bound()
        fresh.merge(whole.state())
        if not close(fresh.result(), expected):
            problems.append(
                f"merging the whole set's state into a new metric gives {fresh.result()!r}, "
                f"not {expected!r}"
            )
        fail_if(problems)
        kind = "summed" if self.cls.additive else "concatenated"
        return f"halves merge to the whole ({len(whole.state())} state values, {kind})"

    def check_reset(self) -> str:
        metric, expected = self.whole()
        pred, true = self.data()
        metric.reset()
        metric.update(pred[:5], true[:5])
        metric.reset()
        metric.update(pred, true)
        again = metric.result()
        if not close(again, expected):
            fail_if([f"after reset() the same data gives {again!r}, first {expected!r}"])
        return "reset forgets every batch"

    def check_task_check(self) -> str:
        others = [t for t in ALL_TASKS if t not in self.cls.tasks]
        if not others:
            raise PropertySkip("the metric applies to every task")
        problems = []
        for task in others:
            try:
                self.make().bind(task, False, DEFAULT_SHAPES[task])
            except TrainingError:
                continue
            problems.append(f"bind({task!r}) was accepted, but {task!r} is not in tasks")
        fail_if(problems)
        return f"refuses {', '.join(others)} with TrainingError"

    def model_spec(self) -> dict[str, Any]:
        loss, activation = TASK_MODELS[self.task]
        self.require_components(("layers", "dense"), ("activations", activation))
        self.require_components(("losses", loss))
        return {
            "name": "conformance",
            "input_shape": [*self.shape[:-1], 3],
            "seed": self.seed,
            "layers": [{"type": "dense", "units": self.shape[-1], "activation": activation}],
            "loss": loss,
            "training": {"metrics": [{"type": self.name, **self.options}]},
        }

    def model_data(self, model: Any, rng: np.random.Generator) -> tuple[np.ndarray, Any]:
        x = rng.standard_normal((SAMPLES, *model.input_shape)).astype(model.dtype)
        return x, self.data()[1]

    def check_spec_round_trip(self) -> str:
        from modular_nn.model.build import build_model

        detail = super().check_spec_round_trip()
        model = build_model(self.model_spec())
        x, y = self.model_data(model, np.random.default_rng(self.seed))
        logs = model.evaluate(x, y)
        if self.name not in logs:
            fail_if([f"evaluate() logs {sorted(logs)}, without {self.name!r}"])
        return f"{detail}; evaluate reports {self.name}={logs[self.name]:.4g}"
