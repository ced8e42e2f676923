"""Sigmoid activation: σ(x) = 1 / (1 + e^(-x))."""

from __future__ import annotations

import numpy as np

from modular_nn.components.activation import Activation


def stable_sigmoid(x: np.ndarray) -> np.ndarray:
    """σ(x) without overflow: with e = exp(-|x|), σ = 1/(1+e) for x >= 0, e/(1+e) otherwise."""
    e = np.exp(-np.abs(x))
    denom = 1 + e
    return np.where(x >= 0, 1 / denom, e / denom).astype(x.dtype, copy=False)


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
        return grad_out * y * (1 - y)
