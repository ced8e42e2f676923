"""Mean absolute error, as a metric."""

from __future__ import annotations

import numpy as np

from modular_nn.metrics.base import MeanMetric


class MAE(MeanMetric):
    """mean(|y_pred - y_true|) over every element (scikit-learn's
    ``mean_absolute_error`` averaged uniformly over outputs).

    Outputs and targets must have the same shape: not for class labels
    (sparse_categorical_crossentropy).
    """

    type_name = "mae"
    tasks = ("regression", "binary", "categorical")

    def values(self, y_pred: np.ndarray, y_true: np.ndarray) -> np.ndarray:
        return np.abs(np.asarray(y_pred, dtype=np.float64) - y_true)
