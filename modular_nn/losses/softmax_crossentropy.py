"""What the two categorical cross-entropies share: options, the class axis, softmax fusion."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from modular_nn.components.activation import Activation
from modular_nn.components.component import ComponentConfig
from modular_nn.components.layer import Shape
from modular_nn.components.loss import Loss
from modular_nn.errors import ShapeError


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


class SoftmaxCrossentropy(Loss):
    """Base of ``categorical_crossentropy`` and ``sparse_categorical_crossentropy``.

    Both take the same options, need at least two classes on the output's last
    axis, and fuse with a softmax over that axis (unless ``from_logits``).
    """

    fuses_with = "softmax"

    class Config(ComponentConfig):
        from_logits: bool = False
        label_smoothing: float = Field(0.0, ge=0, lt=1)
        epsilon: float = Field(1e-7, gt=0, lt=0.5)

    def check_output_shape(self, output_shape: Shape) -> None:
        check_class_axis(self, output_shape)

    def can_fuse(self, activation: Activation | None) -> bool:
        if self.config.from_logits or not super().can_fuse(activation):
            return False
        return activation.config.axis in (-1,)  # type: ignore[union-attr]
