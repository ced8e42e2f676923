"""SiLU (swish) activation: f(x) = x * sigmoid(x)."""

from __future__ import annotations

import numpy as np

from modular_nn.activations.sigmoid import stable_sigmoid
from modular_nn.components.activation import Activation
from modular_nn.export.builder import OnnxBuilder


class SiLU(Activation):
    """Sigmoid linear unit, f(x) = x σ(x) (Elfwing et al., 2017; "swish" with beta 1).

    f'(x) = σ(x) (1 + x (1 - σ(x))).
    """

    type_name = "silu"

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        self.sig = stable_sigmoid(x)
        return x * self.sig

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        # d/dx x σ(x) = σ + x σ (1 - σ) = σ (1 + x (1 - σ))
        sig = self.sig
        return grad_out * sig * (1 + self.x * (1 - sig))

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        # x σ(x)
        return builder.node("Mul", [inputs[0], builder.node("Sigmoid", inputs)])
