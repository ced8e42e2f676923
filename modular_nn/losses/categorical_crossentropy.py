"""Categorical cross-entropy loss (one-hot targets)."""

from __future__ import annotations

import numpy as np

from modular_nn.components.layer import Shape
from modular_nn.errors import DataError
from modular_nn.losses.softmax_crossentropy import SoftmaxCrossentropy, log_softmax


class CategoricalCrossentropy(SoftmaxCrossentropy):
    """L = -mean over samples of sum_c y_c log p_c, with one-hot (or soft) targets.

    Args:
        from_logits: the model outputs logits (p = softmax(z)).
        label_smoothing: targets become y (1 - s) + s / classes, s in [0, 1).
        epsilon: probabilities are clipped below at epsilon (default 1e-7).

    After a softmax output the two fuse: the gradient reaching the logits is
    (p - y) / batch.
    """

    type_name = "categorical_crossentropy"
    task = "categorical"

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
