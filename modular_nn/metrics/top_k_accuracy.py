"""Top-k accuracy: the fraction of samples whose class is among the k highest scores."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from modular_nn.components.component import ComponentConfig
from modular_nn.metrics.base import MeanMetric


class TopKAccuracy(MeanMetric):
    """mean(true class among the k highest scores) (Keras ``top_k_categorical_accuracy``,
    scikit-learn's ``top_k_accuracy_score``); with k at least the number of classes, 1.

    A class counts as among the top k when fewer than k classes score strictly higher
    (scores tied with the true class's do not push it out).

    Args:
        k: how many of the highest scores count (default 5).
    """

    class Config(ComponentConfig):
        k: int = Field(5, ge=1, le=1_000_000, description="how many highest scores count")

    type_name = "top_k_accuracy"
    tasks = ("categorical", "sparse_categorical")
    example_input_shape = (6,)
    example_options = {"k": 2}

    def values(self, y_pred: np.ndarray, y_true: np.ndarray) -> np.ndarray:
        y_pred = np.asarray(y_pred)
        scores = y_pred.reshape(-1, y_pred.shape[-1])
        labels = self.true_labels(y_true)
        own = scores[np.arange(len(scores)), labels]
        higher = np.count_nonzero(scores > own[:, None], axis=1)
        return higher < self.config.k  # type: ignore[attr-defined]
