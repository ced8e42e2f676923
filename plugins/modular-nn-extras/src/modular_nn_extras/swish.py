"""Swish activation: f(x) = x * sigmoid(beta * x)."""

from __future__ import annotations

import numpy as np
from pydantic import Field

import modular_nn as mnn
from modular_nn.activations.sigmoid import stable_sigmoid
from modular_nn.export import OnnxBuilder


class Swish(mnn.Activation):
    """Swish (Ramachandran, Zoph & Le, 2017, "Searching for Activation Functions"),
    f(x) = x * sigmoid(beta * x). beta = 1 is SiLU; large beta approaches ReLU.

    Args:
        beta: the slope inside the sigmoid, a fixed (not trained) finite number
            (default 1.0).

    Derivative: with s = sigmoid(beta x) and y = x s,
    f'(x) = s + beta * y * (1 - s), computed from the kept s and y.
    """

    type_name = "extras.swish"

    class Config(mnn.ComponentConfig):
        beta: float = Field(1.0, allow_inf_nan=False, description="fixed slope inside the sigmoid")

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.s = stable_sigmoid(x * self.config.beta)
        self.y = x * self.s
        return self.y

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        # d/dx x sigmoid(bx) = s + b x s (1 - s) = s + b y (1 - s)
        s = self.s
        return grad_out * (s + self.config.beta * self.y * (1 - s))

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        # x * sigmoid(beta x), as forward
        x = inputs[0]
        s = builder.node("Sigmoid", [builder.node("Mul", [x, builder.constant(self.config.beta)])])
        return builder.node("Mul", [x, s])
