"""Balanced accuracy: the mean of each class's recall, for imbalanced classes."""

from __future__ import annotations

import math

import numpy as np

import modular_nn as mnn


class BalancedAccuracy(mnn.Metric):
    """mean over classes c of tp_c / n_c, the recall of each class that occurs among the
    targets (scikit-learn's ``balanced_accuracy_score``): a model that always predicts
    the majority class scores 1 / classes, not the majority's share.

    Streams exactly: it keeps, per class, the number of targets and of correct
    predictions. State: those two rows, flattened (additive: merging adds them).
    """

    type_name = "extras.balanced_accuracy"
    tasks = ("binary", "categorical", "sparse_categorical")
    example_input_shape = (3,)
    example_task = "sparse_categorical"

    def reset(self) -> None:
        classes = self.num_classes
        self.counts = np.zeros((2, classes)) if classes else None  # [targets, hits]

    def update(self, y_pred: np.ndarray, y_true: np.ndarray) -> None:
        pred, true = self.predicted_labels(y_pred), self.true_labels(y_true)
        classes = self.num_classes or int(np.shape(y_pred)[-1])
        if self.counts is None:
            self.counts = np.zeros((2, classes))
        self.counts[0] += np.bincount(true, minlength=classes)[:classes]
        self.counts[1] += np.bincount(true[pred == true], minlength=classes)[:classes]

    def result(self) -> float:
        if self.counts is None or not self.counts[0].any():
            return math.nan
        present = self.counts[0] > 0
        return float((self.counts[1][present] / self.counts[0][present]).mean())

    def state(self) -> np.ndarray:
        return np.zeros(0) if self.counts is None else self.counts.reshape(-1).copy()

    def merge(self, state: np.ndarray) -> None:
        state = np.asarray(state, dtype=np.float64).reshape(-1)
        if not state.size:
            return
        if self.counts is None:
            self.counts = np.zeros((2, state.size // 2))
        if state.size != self.counts.size:
            raise mnn.TrainingError(
                f"metric {self.name!r}: expected a state of {self.counts.size} values "
                f"(targets and hits per class), received {state.size}"
            )
        self.counts += state.reshape(self.counts.shape)
