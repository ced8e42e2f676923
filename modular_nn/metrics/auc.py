"""Area under the ROC curve, exact: every score and label is kept."""

from __future__ import annotations

import math

import numpy as np

from modular_nn.components.metric import CLASSIFICATION_TASKS, Metric
from modular_nn.errors import TrainingError


def binary_auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """ROC AUC of ``scores`` for the boolean ``positive``: the probability that a random
    positive scores above a random negative, ties counting one half (the Mann-Whitney U
    statistic from average ranks; equal to the trapezoidal area under the ROC curve).
    NaN without positives or without negatives."""
    positives = int(np.count_nonzero(positive))
    negatives = positive.size - positives
    if not positives or not negatives:
        return math.nan
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    ranks = (ends - (counts - 1) / 2.0)[inverse.reshape(-1)]  # 1-based, ties averaged
    rank_sum = float(ranks[positive].sum())
    return (rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives)


class AUC(Metric):
    """Area under the ROC curve (scikit-learn's ``roc_auc_score``).

    A binary output: the scores of every unit (the sigmoid of logits) against targets
    > 0.5, pooled. Several classes: one-vs-rest, the macro mean over classes of the AUC of
    each class's probability (softmax of logits) against "this class or not", as
    ``roc_auc_score(multi_class="ovr", average="macro")``; a class without positive or
    without negative samples has no AUC and is left out of the mean (scikit-learn
    refuses such data). NaN when no class has an AUC.

    Exact, not binned: the metric keeps every score and label seen, so its state grows
    with the samples (``additive = False``): rows of ``[scores..., label]``, one score
    for a binary output, one per class otherwise, flattened; ``merge`` appends rows.
    Data-parallel runs gather these states from every process.
    """

    type_name = "auc"
    tasks = CLASSIFICATION_TASKS
    additive = False

    def reset(self) -> None:
        self._parts: list[np.ndarray] = []

    def _width(self, classes: int | None = None) -> int:
        """Values per row: a score per class (one for binary) and the label."""
        if self.task == "binary":
            return 2
        classes = classes or self.num_classes
        if classes is None and self._parts:
            return self._parts[0].shape[1]
        if classes is None:
            raise TrainingError(
                f"metric {self.name!r}: the number of classes is unknown; bind it with the "
                "output shape before merging a state"
            )
        return classes + 1

    def update(self, y_pred: np.ndarray, y_true: np.ndarray) -> None:
        probabilities = self.probabilities(y_pred)
        labels = self.true_labels(y_true).astype(np.float64)
        if self._bound_task() == "binary":
            scores = probabilities.reshape(-1, 1)
        else:
            scores = probabilities.reshape(-1, probabilities.shape[-1])
        self._parts.append(np.column_stack([scores, labels]))

    def rows(self) -> np.ndarray:
        """Every ``[scores..., label]`` row seen, in order."""
        if not self._parts:
            width = self._width() if self.task == "binary" or self.num_classes else 2
            return np.zeros((0, width))
        if len(self._parts) > 1:
            self._parts = [np.concatenate(self._parts)]
        return self._parts[0]

    def result(self) -> float:
        rows = self.rows()
        if not len(rows):
            return math.nan
        labels = rows[:, -1].astype(np.int64)
        if self.task == "binary":
            return binary_auc(rows[:, 0], labels == 1)
        areas = [binary_auc(rows[:, c], labels == c) for c in range(rows.shape[1] - 1)]
        areas = [a for a in areas if not math.isnan(a)]
        return float(np.mean(areas)) if areas else math.nan

    def state(self) -> np.ndarray:
        return self.rows().reshape(-1).copy()

    def merge(self, state: np.ndarray) -> None:
        state = np.asarray(state, dtype=np.float64).reshape(-1)
        if not state.size:
            return
        width = self._width()
        if state.size % width:
            raise TrainingError(
                f"metric {self.name!r}: expected a state of rows of {width} values "
                f"(scores and label), received {state.size} values"
            )
        self._parts.append(state.reshape(-1, width))
