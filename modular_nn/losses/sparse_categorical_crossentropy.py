"""Sparse categorical cross-entropy loss (integer class labels)."""

from __future__ import annotations

import numpy as np

from modular_nn.components.layer import Shape
from modular_nn.errors import DataError
from modular_nn.losses.softmax_crossentropy import SoftmaxCrossentropy, log_softmax
from modular_nn.model.inputs import integer_indices


def pick(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``values[..., label]`` for each label: one value per row, as a flat array."""
    rows = values.reshape(-1, values.shape[-1])
    return rows[np.arange(rows.shape[0]), labels.reshape(-1)]


class SparseCategoricalCrossentropy(SoftmaxCrossentropy):
    """L = -mean over samples of log p[label], with integer labels in [0, classes).

    Args:
        from_logits: the model outputs logits (p = softmax(z)).
        label_smoothing: the one-hot target becomes (1 - s) + s / classes, in [0, 1).
        epsilon: probabilities are clipped below at epsilon (default 1e-7).

    Shape: outputs ``(batch, classes)``, labels ``(batch,)`` (or ``(batch, 1)``).
    After a softmax output the two fuse: dL/dz = (p - onehot(y)) / batch.
    """

    type_name = "sparse_categorical_crossentropy"
    task = "sparse_categorical"

    def prepare_targets(self, y: np.ndarray, output_shape: Shape, dtype: np.dtype) -> np.ndarray:
        y = np.asarray(y)
        expected_rank = len(output_shape)  # labels drop the class axis: (n, *output[:-1])
        if y.ndim == expected_rank + 1 and y.shape[-1] == 1:
            y = y.reshape(y.shape[:-1])
        if tuple(y.shape[1:]) != tuple(output_shape[:-1]):
            raise DataError(
                "sparse_categorical_crossentropy expects integer labels of shape "
                f"(n{''.join(', ' + str(d) for d in output_shape[:-1])}), received {y.shape}"
            )
        classes = output_shape[-1]
        return integer_indices(
            y, classes, "sparse_categorical_crossentropy labels", f"a {classes}-class output"
        )

    def _targets(self, labels: np.ndarray, classes: int, dtype: np.dtype) -> np.ndarray:
        s = self.config.label_smoothing
        onehot = np.full(labels.shape + (classes,), s / classes, dtype=dtype)
        np.put_along_axis(onehot, labels[..., None], 1 - s + s / classes, axis=-1)
        return onehot

    def _nll(self, log_p: np.ndarray, labels: np.ndarray) -> float:
        # -(1 - s) mean log p[label] - s mean_c log p[c]
        s = self.config.label_smoothing
        loss = -float(pick(log_p, labels).mean()) * (1 - s)
        if s:
            loss -= s * float(log_p.mean())  # every row has the same number of classes
        return loss

    def forward(self, y_pred: np.ndarray, y_true: np.ndarray) -> float:
        self.labels = y_true
        if self.config.from_logits:
            self.z = y_pred
            return self._nll(log_softmax(y_pred), y_true)
        self.p = np.maximum(y_pred, self.config.epsilon)
        return self._nll(np.log(self.p), y_true)

    def backward(self) -> np.ndarray:
        labels = self.labels
        batch = labels.size
        if self.config.from_logits:
            # d/dz of -sum t log softmax(z) = softmax(z) - t (each row of t sums to 1)
            p = np.exp(log_softmax(self.z))
            return (p - self._targets(labels, p.shape[-1], p.dtype)) / batch
        # d/dp -sum t log p = -t / p
        return -self._targets(labels, self.p.shape[-1], self.p.dtype) / self.p / batch

    def forward_logits(self, logits: np.ndarray, y_pred: np.ndarray, y_true: np.ndarray) -> float:
        self.labels, self.p = y_true, y_pred
        if not self.config.label_smoothing:
            # -mean log p[label] read from p = softmax(logits) itself: exact to p's rounding
            # while every p[label] is a normal float (log p > -87 in float32); otherwise
            # the log-softmax of the logits below
            picked = pick(y_pred, y_true)
            if picked.size and picked.min() >= np.finfo(picked.dtype).tiny:
                return -float(np.add.reduce(np.log(picked))) / picked.size  # the mean
        return self._nll(log_softmax(logits), y_true)

    def backward_logits(self) -> np.ndarray:
        # softmax and CE together: dL/dz = (p - onehot(y)) / batch
        labels, p = self.labels, self.p
        if self.config.label_smoothing:
            return (p - self._targets(labels, p.shape[-1], p.dtype)) / labels.size
        grad = p.copy()
        rows = grad.reshape(-1, p.shape[-1])
        rows[np.arange(labels.size), labels.ravel()] -= 1  # one label per row: no collisions
        grad *= 1 / labels.size  # a Python float: grad keeps its dtype
        return grad
