"""Categorical accuracy: the fraction of argmax predictions equal to the target class."""

from __future__ import annotations

import numpy as np

from modular_nn.metrics.base import MeanMetric


class CategoricalAccuracy(MeanMetric):
    """mean(argmax(y_pred) == true class) for one-hot targets or class labels (Keras
    ``categorical_accuracy`` and ``sparse_categorical_accuracy``)."""

    type_name = "categorical_accuracy"
    tasks = ("categorical", "sparse_categorical")

    def values(self, y_pred: np.ndarray, y_true: np.ndarray) -> np.ndarray:
        return self.predicted_labels(y_pred) == self.true_labels(y_true)
