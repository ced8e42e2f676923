"""Huber loss."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from modular_nn.components.component import ComponentConfig
from modular_nn.components.loss import Loss


class Huber(Loss):
    """Huber loss (Huber, 1964), averaged over every element (Keras ``huber``).

    With d = y_pred - y: 0.5 d^2 where |d| <= delta, delta (|d| - 0.5 delta)
    elsewhere; quadratic near zero, linear (robust to outliers) beyond delta.
    Equals PyTorch's ``HuberLoss(delta=delta)``.

    dL/dp = clip(d, -delta, delta) / size.

    Args:
        delta: where the quadratic part turns linear, > 0 (default 1.0).
    """

    type_name = "huber"
    task = "regression"

    class Config(ComponentConfig):
        delta: float = Field(
            1.0, gt=0, allow_inf_nan=False, description="quadratic-to-linear point"
        )

    def forward(self, y_pred: np.ndarray, y_true: np.ndarray) -> float:
        delta = self.config.delta
        self.diff = d = y_pred - y_true
        a = np.abs(d)
        quadratic = np.minimum(a, delta)  # |d| up to delta, then the linear part takes over
        return float(np.mean(0.5 * quadratic * quadratic + delta * (a - quadratic)))

    def backward(self) -> np.ndarray:
        # d/dd [0.5 d^2] = d inside [-delta, delta]; d/dd [delta (|d| - delta/2)] = ±delta outside
        d = self.diff
        delta = self.config.delta
        return np.clip(d, -delta, delta) * np.asarray(1.0 / d.size, dtype=d.dtype)
