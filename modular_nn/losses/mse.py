"""Mean squared error loss."""

from __future__ import annotations

import numpy as np

from modular_nn.components.loss import Loss


class MeanSquaredError(Loss):
    """L = mean((y_pred - y)^2) over every element (Keras ``mse``, PyTorch ``MSELoss``)."""

    type_name = "mse"
    task = "regression"

    def forward(self, y_pred: np.ndarray, y_true: np.ndarray) -> float:
        self.diff = y_pred - y_true
        return float(np.mean(self.diff * self.diff))

    def backward(self) -> np.ndarray:
        # d/dp mean((p - y)^2) = 2 (p - y) / size
        return self.diff * (2.0 / self.diff.size)
