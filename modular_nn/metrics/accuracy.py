"""Accuracy: the fraction of predictions whose class is the target's."""

from __future__ import annotations

import numpy as np

from modular_nn.components.metric import CLASSIFICATION_TASKS
from modular_nn.metrics.base import MeanMetric


class Accuracy(MeanMetric):
    """mean(predicted class == true class), following the loss (Keras ``accuracy``).

    A binary output is thresholded at 0.5 (0 for logits), each unit on its own; a
    categorical one takes the argmax, compared with the label (sparse) or the one-hot
    target's argmax. Exact over batches: a count of hits and a count of predictions.
    """

    type_name = "accuracy"
    tasks = CLASSIFICATION_TASKS

    def values(self, y_pred: np.ndarray, y_true: np.ndarray) -> np.ndarray:
        return self.predicted_labels(y_pred) == self.true_labels(y_true)
