"""Softplus activation: f(x) = log(1 + e^x)."""

from __future__ import annotations

import numpy as np

from modular_nn.activations.sigmoid import stable_sigmoid
from modular_nn.components.activation import Activation
from modular_nn.export.builder import OnnxBuilder


class Softplus(Activation):
    """Softplus, f(x) = log(1 + e^x), a smooth ReLU; f'(x) = σ(x).

    Computed as max(x, 0) + log1p(e^(-|x|)), which never overflows and keeps
    full precision for large negative x.
    """

    type_name = "softplus"

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        # d/dx log(1 + e^x) = σ(x)
        return grad_out * stable_sigmoid(self.x)

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        if builder.dtype != np.float64:
            return builder.node("Softplus", inputs)  # onnxruntime's is stable for any x
        # onnxruntime has no float64 Softplus: max(x, 0) + log(1 + e^(-|x|)), as forward
        x = inputs[0]
        tail = builder.node("Exp", [builder.node("Neg", [builder.node("Abs", [x])])])
        tail = builder.node("Log", [builder.node("Add", [tail, builder.constant(1.0, "one")])])
        return builder.node("Add", [builder.node("Max", [x, builder.constant(0.0, "zero")]), tail])
