"""Linear (identity) activation: f(x) = x."""

from __future__ import annotations

import numpy as np

from modular_nn.components.activation import Activation
from modular_nn.export.builder import OnnxBuilder


class Linear(Activation):
    """The identity, f(x) = x; f'(x) = 1. Layers skip it entirely."""

    type_name = "linear"
    is_identity = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        # d/dx x = 1
        return grad_out

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        return inputs[0]
