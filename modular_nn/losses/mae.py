"""Mean absolute error loss."""

from __future__ import annotations

import numpy as np

from modular_nn.components.loss import Loss


class MeanAbsoluteError(Loss):
    """L = mean(|y_pred - y|) over every element (Keras ``mae``, PyTorch ``L1Loss``).

    dL/dp = sign(p - y) / size (0 where p = y, as PyTorch).
    """

    type_name = "mae"
    task = "regression"

    def forward(self, y_pred: np.ndarray, y_true: np.ndarray) -> float:
        self.diff = y_pred - y_true
        return float(np.mean(np.abs(self.diff)))

    def backward(self) -> np.ndarray:
        # d/dp mean|p - y| = sign(p - y) / size
        return np.sign(self.diff) * np.asarray(1.0 / self.diff.size, dtype=self.diff.dtype)
