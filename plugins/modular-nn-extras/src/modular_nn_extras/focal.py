"""Binary focal loss: cross-entropy that down-weights easy examples."""

from __future__ import annotations

import numpy as np
from pydantic import Field

import modular_nn as mnn


class BinaryFocal(mnn.Loss):
    """Binary focal loss (Lin et al., 2017, "Focal Loss for Dense Object Detection"):

    L = -mean(alpha y (1 - p)^gamma log p + (1 - alpha)(1 - y) p^gamma log(1 - p))

    over every element, for probabilities p (after a sigmoid) and targets y in
    [0, 1]. gamma = 0 and alpha = 0.5 give half the binary cross-entropy.

    Args:
        gamma: focusing exponent, >= 0 (default 2.0).
        alpha: weight of the positive class, in [0, 1] (default 0.25).
        epsilon: p is clipped to [epsilon, 1 - epsilon] (default 1e-7).
    """

    type_name = "extras.focal"
    task = "binary"

    class Config(mnn.ComponentConfig):
        gamma: float = Field(2.0, ge=0, allow_inf_nan=False, description="focusing exponent")
        alpha: float = Field(0.25, ge=0, le=1, description="weight of the positive class")
        epsilon: float = Field(1e-7, gt=0, lt=0.5, description="probability clipping")

    def forward(self, y_pred: np.ndarray, y_true: np.ndarray) -> float:
        c = self.config
        self.y = y_true
        p = self.p = np.clip(y_pred, c.epsilon, 1 - c.epsilon)
        self.log_p, self.log_q = np.log(p), np.log1p(-p)
        pos = c.alpha * y_true * (1 - p) ** c.gamma * self.log_p
        neg = (1 - c.alpha) * (1 - y_true) * p**c.gamma * self.log_q
        return float(-np.mean(pos + neg))

    def backward(self) -> np.ndarray:
        # d/dp (1-p)^g log p = (1-p)^g / p - g (1-p)^(g-1) log p
        # d/dp p^g log(1-p)  = g p^(g-1) log(1-p) - p^g / (1-p)
        c, p, y = self.config, self.p, self.y
        q = 1 - p
        d_pos = q**c.gamma / p - c.gamma * q ** (c.gamma - 1) * self.log_p
        d_neg = c.gamma * p ** (c.gamma - 1) * self.log_q - p**c.gamma / q
        grad = -(c.alpha * y * d_pos + (1 - c.alpha) * (1 - y) * d_neg) / p.size
        return grad.astype(p.dtype, copy=False)
