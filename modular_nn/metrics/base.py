"""What the built-in metrics share: a mean of per-element values (accuracy, MAE, MSE) and
a confusion matrix (precision, recall, F1), both kept as exact sums."""

from __future__ import annotations

import math
from typing import ClassVar, Literal

import numpy as np
from pydantic import Field

from modular_nn.components.component import ComponentConfig
from modular_nn.components.metric import CLASSIFICATION_TASKS, TASK_LABELS, Metric
from modular_nn.errors import DataError, TrainingError


class MeanMetric(Metric):
    """The mean of a per-element value over every element seen.

    State: ``[total, count]`` (additive).
    """

    def reset(self) -> None:
        self.total = 0.0
        self.count = 0.0

    def values(self, y_pred: np.ndarray, y_true: np.ndarray) -> np.ndarray:
        """The per-element values of one batch."""
        raise NotImplementedError

    def update(self, y_pred: np.ndarray, y_true: np.ndarray) -> None:
        values = np.asarray(self.values(y_pred, y_true))
        self.total += float(values.sum(dtype=np.float64))
        self.count += values.size

    def result(self) -> float:
        return self.total / self.count if self.count else math.nan

    def state(self) -> np.ndarray:
        return np.array([self.total, self.count], dtype=np.float64)

    def merge(self, state: np.ndarray) -> None:
        total, count = self._check_state(state, 2)
        self.total += float(total)
        self.count += float(count)


class ConfusionMetric(Metric):
    """A metric computed from the confusion matrix (rows: true class, columns: predicted
    class, as scikit-learn's ``confusion_matrix``).

    A binary output is two classes (each unit on its own: ``score > 0.5``, or ``> 0`` for
    logits); a categorical one has a class per unit of its last axis (argmax). State: the
    matrix, flattened (additive).
    """

    tasks = CLASSIFICATION_TASKS

    def reset(self) -> None:
        classes = self.num_classes
        self.matrix: np.ndarray | None = (
            np.zeros((classes, classes), dtype=np.float64) if classes else None
        )

    def _allocate(self, classes: int) -> np.ndarray:
        if self.matrix is None:
            self.matrix = np.zeros((classes, classes), dtype=np.float64)
        return self.matrix

    def update(self, y_pred: np.ndarray, y_true: np.ndarray) -> None:
        classes = self.num_classes or int(np.shape(y_pred)[-1])
        matrix = self._allocate(classes)
        pred, true = self.predicted_labels(y_pred), self.true_labels(y_true)
        if true.size and (true.min() < 0 or true.max() >= classes):
            bad = true[(true < 0) | (true >= classes)][0]
            raise DataError(
                f"metric {self.name!r}: expected class labels from 0 to {classes - 1}, "
                f"received {int(bad)}"
            )
        counts = np.bincount(true * classes + pred, minlength=classes * classes)
        matrix += counts.reshape(classes, classes)

    def confusion(self) -> np.ndarray:
        """The confusion matrix so far (counts as float64; empty before any batch)."""
        return self.matrix if self.matrix is not None else np.zeros((0, 0))

    def state(self) -> np.ndarray:
        return self.confusion().reshape(-1).copy()

    def merge(self, state: np.ndarray) -> None:
        state = np.asarray(state, dtype=np.float64).reshape(-1)
        if self.matrix is None:
            classes = math.isqrt(state.size)
            if not state.size:
                return
            self._allocate(classes)
        assert self.matrix is not None
        self.matrix += self._check_state(state, self.matrix.size).reshape(self.matrix.shape)


def per_class_scores(matrix: np.ndarray) -> dict[str, np.ndarray]:
    """Per class: precision, recall, F1 and support (true samples) from a confusion matrix;
    0 where a ratio has no denominator (scikit-learn's ``zero_division=0``)."""
    tp = np.diag(matrix)
    predicted = matrix.sum(axis=0)
    support = matrix.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    denominator = predicted + support  # 2tp + fp + fn
    f1 = np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)
    return {"precision": precision, "recall": recall, "f1": f1, "support": support}


def averaged_score(matrix: np.ndarray, which: str, average: str) -> float:
    """``which`` (precision, recall or f1) from ``matrix`` averaged as scikit-learn does:

    - ``binary``: the score of class 1;
    - ``micro``: from the counts summed over classes (single-label: the accuracy);
    - ``macro``: the unweighted mean over the classes that occur (as a target or a
      prediction: scikit-learn's default labels);
    - ``weighted``: the mean over classes weighted by their support.
    """
    if matrix.size == 0:
        return math.nan
    scores = per_class_scores(matrix)
    if average == "binary":
        return float(scores[which][1])
    if average == "micro":
        tp = float(np.trace(matrix))
        total = float(matrix.sum())
        # summed over classes every false positive is another class's false negative
        return tp / total if total else 0.0
    if average == "macro":
        present = (matrix.sum(axis=0) + matrix.sum(axis=1)) > 0
        return float(scores[which][present].mean()) if present.any() else 0.0
    support = scores["support"]
    total = support.sum()
    return float((scores[which] * support).sum() / total) if total else 0.0


class AveragedConfig(ComponentConfig):
    """Options of precision, recall and F1."""

    average: Literal["auto", "binary", "macro", "micro", "weighted"] = Field(
        "auto",
        description="how classes are combined: binary (class 1 of a binary output), macro "
        "(mean over classes), micro (from counts summed over classes), weighted (mean "
        "weighted by support); auto: binary for a binary output, macro otherwise",
    )


class AveragedMetric(ConfusionMetric):
    """Precision, recall or F1 (``score``) from the confusion matrix, averaged over classes
    as ``average`` says (scikit-learn's definitions; a ratio without denominator is 0)."""

    Config = AveragedConfig
    score: ClassVar[str] = ""

    @property
    def average(self) -> str:
        chosen = self.config.average  # type: ignore[attr-defined]
        if chosen == "auto":
            return "binary" if self.task == "binary" else "macro"
        return chosen

    def check_task(self, task: str) -> None:
        super().check_task(task)
        if self.config.average == "binary" and task != "binary":  # type: ignore[attr-defined]
            raise TrainingError(
                f"metric {self.name!r}: average 'binary' scores class 1 of a binary output; "
                f"this output is {TASK_LABELS.get(task, task)}: use 'macro', 'micro' or "
                "'weighted'"
            )

    def result(self) -> float:
        if self.matrix is None or not self.matrix.sum():
            return math.nan
        return averaged_score(self.matrix, self.score, self.average)
