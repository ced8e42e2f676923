"""Binary cross-entropy loss."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from modular_nn.activations.sigmoid import stable_sigmoid
from modular_nn.components.activation import Activation
from modular_nn.components.component import ComponentConfig
from modular_nn.components.loss import Loss


def bce_from_logits(z: np.ndarray, y: np.ndarray) -> float:
    """mean(max(z, 0) - z y + log(1 + e^(-|z|))): BCE of sigmoid(z), never overflowing."""
    return float(np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))))


class BinaryCrossentropy(Loss):
    """L = -mean(y log p + (1 - y) log(1 - p)) over every element.

    Args:
        from_logits: the model outputs logits z (p = sigmoid(z)) instead of probabilities.
        epsilon: probabilities are clipped to [epsilon, 1 - epsilon] (default 1e-7).

    After a sigmoid output the two fuse: the loss is computed from the logits
    and the gradient reaching them is (p - y) / size.
    """

    type_name = "binary_crossentropy"
    fuses_with = "sigmoid"
    task = "binary"

    class Config(ComponentConfig):
        from_logits: bool = False
        epsilon: float = Field(1e-7, gt=0, lt=0.5)

    def can_fuse(self, activation: Activation | None) -> bool:
        return not self.config.from_logits and super().can_fuse(activation)

    def forward(self, y_pred: np.ndarray, y_true: np.ndarray) -> float:
        self.y_true = y_true
        if self.config.from_logits:
            self.z = y_pred
            return bce_from_logits(y_pred, y_true)
        eps = self.config.epsilon
        self.p = np.clip(y_pred, eps, 1 - eps)
        p = self.p
        return float(-np.mean(y_true * np.log(p) + (1 - y_true) * np.log1p(-p)))

    def backward(self) -> np.ndarray:
        y = self.y_true
        if self.config.from_logits:
            # d/dz softplus-form BCE = sigmoid(z) - y
            return (stable_sigmoid(self.z) - y) / y.size
        # d/dp -(y log p + (1-y) log(1-p)) = (p - y) / (p (1 - p))
        p = self.p
        return (p - y) / (p * (1 - p)) / y.size

    def forward_logits(self, logits: np.ndarray, y_pred: np.ndarray, y_true: np.ndarray) -> float:
        self.y_true, self.p = y_true, y_pred
        return bce_from_logits(logits, y_true)

    def backward_logits(self) -> np.ndarray:
        # sigmoid and BCE together: dL/dz = (p - y) / size
        return (self.p - self.y_true) / self.y_true.size
