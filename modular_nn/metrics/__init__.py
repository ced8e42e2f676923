"""Metrics reported by ``fit`` and ``evaluate``, accumulated exactly over batches.

``accuracy`` follows the loss: thresholded at 0.5 (0 for logits) for binary
cross-entropy, argmax for the categorical ones. ``precision``, ``recall`` and
``f1`` are for binary outputs; ``mae`` and ``mse`` for regression.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from modular_nn.errors import SpecError, TrainingError

METRIC_NAMES = (
    "accuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "precision",
    "recall",
    "f1",
    "mae",
    "mse",
)
CLASSIFICATION_TASKS = ("binary", "categorical", "sparse_categorical")


def check_metric_names(names: Iterable[str]) -> None:
    """Raise ``ValueError`` (pydantic turns it into a spec issue) for unknown names."""
    unknown = [name for name in names if name not in METRIC_NAMES]
    if unknown:
        raise ValueError(
            f"unknown metric {unknown[0]!r}; expected one of {', '.join(METRIC_NAMES)}"
        )


class Metric:
    """Running value of one metric over the batches seen since ``reset``."""

    def __init__(self, name: str, task: str, logits: bool) -> None:
        self.name, self.task, self.logits = name, task, logits
        self.reset()

    def reset(self) -> None:
        self.total = 0.0
        self.count = 0
        self.tp = self.fp = self.fn = 0

    def _binary(self, y_pred: np.ndarray) -> np.ndarray:
        return y_pred > (0.0 if self.logits else 0.5)

    def update(self, y_pred: np.ndarray, y_true: np.ndarray) -> None:
        name = self.name
        if name in ("accuracy", "binary_accuracy", "categorical_accuracy"):
            if self.task == "binary" or name == "binary_accuracy":
                hits = self._binary(y_pred) == (y_true > 0.5)
            elif self.task == "sparse_categorical":
                hits = y_pred.argmax(axis=-1) == y_true
            else:
                hits = y_pred.argmax(axis=-1) == y_true.argmax(axis=-1)
            self.total += float(np.count_nonzero(hits))
            self.count += hits.size
        elif name in ("precision", "recall", "f1"):
            predicted, actual = self._binary(y_pred), y_true > 0.5
            self.tp += int(np.count_nonzero(predicted & actual))
            self.fp += int(np.count_nonzero(predicted & ~actual))
            self.fn += int(np.count_nonzero(~predicted & actual))
        else:
            diff = y_pred - y_true
            values = np.abs(diff) if name == "mae" else diff * diff
            self.total += float(values.sum(dtype=np.float64))
            self.count += diff.size

    def result(self) -> float:
        if self.name in ("precision", "recall", "f1"):
            precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
            recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
            if self.name == "precision":
                return precision
            if self.name == "recall":
                return recall
            return 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return self.total / self.count if self.count else float("nan")


def default_metrics(task: str) -> list[str]:
    """Metrics reported when a spec names none: accuracy for classification."""
    return ["accuracy"] if task in CLASSIFICATION_TASKS else []


def make_metrics(names: list[str] | None, task: str, logits: bool) -> list[Metric]:
    """Metric objects for ``names`` (None: the defaults for ``task``)."""
    names = default_metrics(task) if names is None else names
    try:
        check_metric_names(names)
    except ValueError as exc:
        raise SpecError(str(exc)) from None
    for name in names:
        if name in ("accuracy", "categorical_accuracy") and task == "regression":
            raise TrainingError(
                f"metric {name!r} needs a classification loss, not a regression one"
            )
        if name in ("precision", "recall", "f1", "binary_accuracy") and task != "binary":
            raise TrainingError(f"metric {name!r} is for binary outputs (binary_crossentropy)")
        if name == "categorical_accuracy" and task == "binary":
            raise TrainingError("metric 'categorical_accuracy' needs a categorical loss")
        if name in ("mae", "mse") and task == "sparse_categorical":
            raise TrainingError(
                f"metric {name!r} compares outputs with targets of the same shape; "
                "sparse_categorical_crossentropy has class labels: use 'accuracy'"
            )
    return [Metric(name, task, logits) for name in names]
