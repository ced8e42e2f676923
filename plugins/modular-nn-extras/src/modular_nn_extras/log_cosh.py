"""Log-cosh loss: a smooth loss that is quadratic near zero and linear far away."""

from __future__ import annotations

import math

import numpy as np

import modular_nn as mnn

LOG_2 = math.log(2.0)


class LogCosh(mnn.Loss):
    """L = mean(log(cosh(y_pred - y))) over every element (Keras ``log_cosh``).

    Close to d^2 / 2 for small errors d and to |d| - log 2 for large ones, so
    it is as robust to outliers as MAE while staying twice differentiable.
    Computed as |d| + log1p(exp(-2|d|)) - log 2, which never overflows.

    Derivative: d/dd log cosh(d) = tanh(d), divided by the element count.
    """

    type_name = "extras.log_cosh"
    task = "regression"

    def forward(self, y_pred: np.ndarray, y_true: np.ndarray) -> float:
        self.diff = y_pred - y_true
        a = np.abs(self.diff)
        return float(np.mean(a + np.log1p(np.exp(-2 * a)) - LOG_2))

    def backward(self) -> np.ndarray:
        # d/dp mean(log cosh(p - y)) = tanh(p - y) / size
        return np.tanh(self.diff) / self.diff.size
