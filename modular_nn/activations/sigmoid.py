"""Sigmoid activation: σ(x) = 1 / (1 + e^(-x))."""

from __future__ import annotations

import numpy as np

from modular_nn.components.activation import Activation
from modular_nn.export.builder import OnnxBuilder


def stable_sigmoid(x: np.ndarray) -> np.ndarray:
    """σ(x) = 1 / (1 + e^(-x)) for any x, in x's dtype, without an overflow warning.

    For x below about -88 (float32) or -709 (float64) e^(-x) overflows to inf and
    1 / (1 + inf) = 0, which is σ(x) rounded to that dtype; the warning is silenced.
    One exp and in-place arithmetic: an order of magnitude faster than choosing
    between two formulas with np.where.
    """
    x = np.asarray(x)
    y = np.empty(x.shape, x.dtype if x.dtype.kind == "f" else np.float64)  # ints: float64
    np.negative(x, out=y)
    with np.errstate(over="ignore"):
        np.exp(y, out=y)
    y += 1
    return np.reciprocal(y, out=y)


class Sigmoid(Activation):
    """Logistic sigmoid, σ(x) = 1 / (1 + e^(-x)), in (0, 1).

    Derivative: σ'(x) = σ(x)(1 - σ(x)), computed from the kept output.
    Stable for any |x| (no overflow warning at 1e4 in float32 or float64).
    """

    type_name = "sigmoid"

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.y = stable_sigmoid(x)
        return self.y

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        # dσ/dx = σ (1 - σ)
        y = self.y
        grad = np.subtract(1, y)
        grad *= y
        grad *= grad_out
        return grad

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        return builder.node("Sigmoid", inputs)
