"""The base class of losses.

A loss reduces a batch to one float (the mean over samples) in ``forward`` and
returns d(loss)/d(y_pred) from ``backward``. Losses that pair with an output
activation (``fuses_with``) also implement the fused pair
``forward_logits``/``backward_logits``, whose gradient is taken with respect to
the logits: for sigmoid + binary cross-entropy and softmax + categorical
cross-entropy it is ``(p - y) / batch``, exact and stable where the unfused
chain would divide by ``p(1 - p)``.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np

from modular_nn.components.activation import Activation
from modular_nn.components.component import Component, ComponentConfig
from modular_nn.components.layer import Shape
from modular_nn.errors import DataError

Task = Literal["regression", "binary", "categorical", "sparse_categorical"]


class Loss(Component):
    """Base class for losses; register subclasses through ``register_losses``."""

    type_name: ClassVar[str] = ""
    Config: ClassVar[type[ComponentConfig]] = ComponentConfig
    #: Name of the output activation this loss can fuse with, if any.
    fuses_with: ClassVar[str | None] = None
    #: What kind of targets the loss expects; metrics (accuracy) follow it.
    task: ClassVar[Task] = "regression"

    def check_output_shape(self, output_shape: Shape) -> None:
        """Raise ``ShapeError`` when the model's output cannot feed this loss."""

    def prepare_targets(self, y: np.ndarray, output_shape: Shape, dtype: np.dtype) -> np.ndarray:
        """Check targets against the model's output shape and return them ready to use.

        The default wants ``y`` of shape ``(n, *output_shape)`` and accepts a
        missing trailing axis of size 1 (``(n,)`` for a one-unit output).
        """
        y = np.asarray(y)
        expected = tuple(output_shape)
        if y.ndim == len(expected) and expected[-1:] == (1,):
            y = y.reshape(y.shape + (1,))
        if tuple(y.shape[1:]) != expected:
            raise DataError(
                f"{self.type_name}: targets must have shape (n, {', '.join(map(str, expected))}) "
                f"to match the model's output, received {tuple(y.shape)}"
            )
        if not np.issubdtype(y.dtype, np.number) and y.dtype != np.bool_:
            raise DataError(f"{self.type_name}: targets must be numeric, received dtype {y.dtype}")
        if self.task == "binary" and y.size and (y.min() < 0 or y.max() > 1):
            raise DataError(
                f"{self.type_name}: targets must be in [0, 1] for a binary output, received "
                f"values from {y.min()} to {y.max()}; for several classes use a softmax output "
                "with sparse_categorical_crossentropy"
            )
        return np.ascontiguousarray(y, dtype=dtype)

    def forward(self, y_pred: np.ndarray, y_true: np.ndarray) -> float:
        """Mean loss over the batch; keeps what ``backward`` needs."""
        raise NotImplementedError

    def backward(self) -> np.ndarray:
        """d(mean loss)/d(y_pred) for the last ``forward``."""
        raise NotImplementedError

    def forward_logits(self, logits: np.ndarray, y_pred: np.ndarray, y_true: np.ndarray) -> float:
        """Mean loss computed from the logits of the fused output activation."""
        raise NotImplementedError

    def backward_logits(self) -> np.ndarray:
        """d(mean loss)/d(logits) for the last ``forward_logits``."""
        raise NotImplementedError

    def can_fuse(self, activation: Activation | None) -> bool:
        """True when this loss takes over the gradient of the output ``activation``."""
        return (
            activation is not None
            and self.fuses_with is not None
            and activation.type_name == self.fuses_with
        )
