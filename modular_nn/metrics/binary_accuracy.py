"""Binary accuracy: the fraction of binary predictions on the target's side of a threshold."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from modular_nn.components.component import ComponentConfig
from modular_nn.metrics.base import MeanMetric


class BinaryAccuracy(MeanMetric):
    """mean((score > threshold) == (target > 0.5)) over every unit (Keras
    ``binary_accuracy``); with a loss on logits the score is sigmoid(logit).

    Args:
        threshold: the score above which a prediction is positive (default 0.5).
    """

    class Config(ComponentConfig):
        threshold: float = Field(0.5, gt=0, lt=1, description="positive above this score")

    type_name = "binary_accuracy"
    tasks = ("binary",)

    def values(self, y_pred: np.ndarray, y_true: np.ndarray) -> np.ndarray:
        threshold = self.config.threshold  # type: ignore[attr-defined]
        return self.predicted_labels(y_pred, threshold) == self.true_labels(y_true)
