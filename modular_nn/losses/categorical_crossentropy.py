"""Categorical cross-entropy loss (one-hot targets)."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from modular_nn.components.activation import Activation
from modular_nn.components.component import ComponentConfig
from modular_nn.components.layer import Shape
from modular_nn.components.loss import Loss
from modular_nn.errors import DataError, ShapeError


def log_softmax(z: np.ndarray) -> np.ndarray:
    """log softmax(z) along the last axis, via the log-sum-exp shift.

    log softmax(z)_i = (z_i - m) - log sum_j e^(z_j - m), m = max_j z_j, so no
    e^z overflows; integer inputs give float64.
    """
    z = np.asarray(z)
    dtype = z.dtype if z.dtype.kind == "f" else np.float64
    shifted = np.subtract(z, z.max(axis=-1, keepdims=True), dtype=dtype)
    shifted -= np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return shifted


def check_class_axis(loss: Loss, output_shape: Shape) -> None:
    """Cross-entropies over classes need a last axis of at least 2 classes."""
    if len(output_shape) < 1 or output_shape[-1] < 2:
        raise ShapeError(
            f"{loss.type_name} needs an output with at least 2 classes on its last axis, "
            f"received output shape {tuple(output_shape)}; for a single sigmoid unit use "
            "binary_crossentropy"
        )


class CategoricalCrossentropy(Loss):
    """L = -mean over samples of sum_c y_c log p_c, with one-hot (or soft) targets.

    Args:
        from_logits: the model outputs logits (p = softmax(z)).
        label_smoothing: targets become y (1 - s) + s / classes, s in [0, 1).
        epsilon: probabilities are clipped below at epsilon (default 1e-7).

    After a softmax output the two fuse: the gradient reaching the logits is
    (p - y) / batch.
    """

    type_name = "categorical_crossentropy"
    fuses_with = "softmax"
    task = "categorical"

    class Config(ComponentConfig):
        from_logits: bool = False
        label_smoothing: float = Field(0.0, ge=0, lt=1)
        epsilon: float = Field(1e-7, gt=0, lt=0.5)

    def check_output_shape(self, output_shape: Shape) -> None:
        check_class_axis(self, output_shape)

    def prepare_targets(self, y: np.ndarray, output_shape: Shape, dtype: np.dtype) -> np.ndarray:
        y = np.asarray(y)
        if y.ndim == len(output_shape) and np.issubdtype(y.dtype, np.integer):
            raise DataError(
                "categorical_crossentropy expects one-hot targets of shape "
                f"(n, {output_shape[-1]}), "
                f"received integer labels of shape {y.shape}; use "
                "sparse_categorical_crossentropy for integer labels"
            )
        return super().prepare_targets(y, output_shape, dtype)

    def can_fuse(self, activation: Activation | None) -> bool:
        if self.config.from_logits or not super().can_fuse(activation):
            return False
        return activation.config.axis in (-1,)  # type: ignore[union-attr]

    def _smooth(self, y: np.ndarray) -> np.ndarray:
        s = self.config.label_smoothing
        return y if s == 0 else y * (1 - s) + s / y.shape[-1]

    def forward(self, y_pred: np.ndarray, y_true: np.ndarray) -> float:
        y = self.y_true = self._smooth(y_true)
        batch = y.size // y.shape[-1]
        if self.config.from_logits:
            self.z = y_pred
            return float(-np.sum(y * log_softmax(y_pred)) / batch)
        self.p = np.maximum(y_pred, self.config.epsilon)
        return float(-np.sum(y * np.log(self.p)) / batch)

    def backward(self) -> np.ndarray:
        y = self.y_true
        batch = y.size // y.shape[-1]
        if self.config.from_logits:
            # d/dz of -sum y log softmax(z) = softmax(z) * sum(y) - y
            p = np.exp(log_softmax(self.z))
            return (p * y.sum(axis=-1, keepdims=True) - y) / batch
        # d/dp -sum y log p = -y / p
        return -y / self.p / batch

    def forward_logits(self, logits: np.ndarray, y_pred: np.ndarray, y_true: np.ndarray) -> float:
        y = self.y_true = self._smooth(y_true)
        self.p = y_pred
        # log p read from p = softmax(logits) itself: exact to p's rounding while every p is
        # a normal float (log p > -87 in float32); otherwise the log-softmax of the logits
        if y_pred.size and y_pred.min() >= np.finfo(y_pred.dtype).tiny:
            log_p = np.log(y_pred)
        else:
            log_p = log_softmax(logits)
        return float(-np.sum(y * log_p) / (y.size // y.shape[-1]))

    def backward_logits(self) -> np.ndarray:
        # softmax and CE together: dL/dz = (p - y) / batch (targets sum to 1)
        y = self.y_true
        grad = np.subtract(self.p, y)
        grad *= 1 / (y.size // y.shape[-1])  # a Python float: grad keeps its dtype
        return grad
