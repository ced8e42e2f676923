"""Tanh activation: f(x) = tanh(x)."""

from __future__ import annotations

import numpy as np

from modular_nn.components.activation import Activation
from modular_nn.export.builder import OnnxBuilder


class Tanh(Activation):
    """Hyperbolic tangent, in (-1, 1).

    Derivative: tanh'(x) = 1 - tanh(x)^2, from the kept output.
    """

    type_name = "tanh"

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.y = np.tanh(x)
        return self.y

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        # d tanh / dx = 1 - tanh^2
        grad = np.square(self.y)
        np.subtract(1, grad, out=grad)
        grad *= grad_out
        return grad

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        return builder.node("Tanh", inputs)
