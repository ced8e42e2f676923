"""ELU activation: f(x) = x for x > 0, alpha (e^x - 1) otherwise."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from modular_nn.components.activation import Activation
from modular_nn.components.component import ComponentConfig
from modular_nn.export.builder import OnnxBuilder


class ELU(Activation):
    """Exponential linear unit (Clevert et al., 2015).

    f(x) = x for x > 0, alpha (e^x - 1) otherwise;
    f'(x) = 1 for x > 0, alpha e^x = f(x) + alpha otherwise.

    Args:
        alpha: the value f tends to is -alpha for large negative x (default 1.0,
            as Keras and PyTorch).
    """

    type_name = "elu"

    class Config(ComponentConfig):
        alpha: float = Field(1.0, allow_inf_nan=False, description="scale of the negative part")

    def forward(self, x: np.ndarray) -> np.ndarray:
        alpha = self.config.alpha
        self.positive = x > 0
        # alpha (e^x - 1) on min(x, 0): exact near 0, never overflowing, 0 where x > 0
        self.negative_part = alpha * np.expm1(np.minimum(x, 0))
        return np.maximum(x, 0) + self.negative_part

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        # f'(x) = 1 for x > 0, alpha e^x = alpha (e^x - 1) + alpha otherwise
        # (by arithmetic on the mask: np.where is much slower)
        alpha = self.config.alpha
        slope = self.negative_part + alpha
        slope += self.positive * np.asarray(1 - alpha, dtype=slope.dtype)
        return grad_out * slope

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        if builder.dtype != np.float64:
            return builder.node("Elu", inputs, alpha=self.config.alpha)
        # onnxruntime has no float64 Elu: max(x, 0) + alpha (e^min(x, 0) - 1)
        x, zero = inputs[0], builder.constant(0.0, "zero")
        negative = builder.node("Exp", [builder.node("Min", [x, zero])])
        negative = builder.node("Sub", [negative, builder.constant(1.0, "one")])
        negative = builder.node("Mul", [negative, builder.constant(self.config.alpha, "alpha")])
        return builder.node("Add", [builder.node("Max", [x, zero]), negative])
