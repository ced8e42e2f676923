"""GELU activation: f(x) = x Φ(x), exact or with the tanh approximation."""

from __future__ import annotations

import math

import numpy as np
from pydantic import Field

from modular_nn.activations.erf import erf
from modular_nn.components.activation import Activation
from modular_nn.components.component import ComponentConfig
from modular_nn.export.builder import OnnxBuilder

_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_TANH_CUBIC = 0.044715


class GELU(Activation):
    """Gaussian error linear unit (Hendrycks & Gimpel, 2016).

    Exact: f(x) = x Φ(x) with Φ(x) = (1 + erf(x / sqrt 2)) / 2, the standard
    normal CDF; f'(x) = Φ(x) + x φ(x), φ(x) = e^(-x^2 / 2) / sqrt(2 pi).

    Approximate: f(x) = x (1 + tanh(u)) / 2 with u = sqrt(2/pi) (x + 0.044715 x^3);
    f'(x) = (1 + tanh u) / 2 + x (1 - tanh^2 u) sqrt(2/pi) (1 + 3 * 0.044715 x^2) / 2.

    Args:
        approximate: use the tanh approximation (default false, as Keras 3 and
            PyTorch's ``approximate="none"``).
    """

    type_name = "gelu"

    class Config(ComponentConfig):
        approximate: bool = Field(False, description="use the tanh approximation")

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        if self.config.approximate:
            self.t = np.tanh(_SQRT_2_OVER_PI * (x + _TANH_CUBIC * x * x * x))
            return 0.5 * x * (1 + self.t)
        self.cdf = 0.5 * (1 + erf(x * math.sqrt(0.5)))
        return x * self.cdf

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        x = self.x
        if self.config.approximate:
            # d/dx x (1 + tanh u) / 2 = (1 + t) / 2 + x (1 - t^2) u'(x) / 2
            t = self.t
            du = _SQRT_2_OVER_PI * (1 + 3 * _TANH_CUBIC * x * x)
            return grad_out * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du)
        # d/dx x Φ(x) = Φ(x) + x φ(x)
        return grad_out * (self.cdf + x * _INV_SQRT_2PI * np.exp(-0.5 * x * x))

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        x = inputs[0]
        if self.config.approximate:
            # x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2
            cube = builder.node("Mul", [builder.node("Mul", [x, x]), x])
            cube = builder.node("Mul", [cube, builder.constant(_TANH_CUBIC, "cubic")])
            u = builder.node(
                "Mul", [builder.node("Add", [x, cube]), builder.constant(_SQRT_2_OVER_PI)]
            )
            t = builder.node("Add", [builder.node("Tanh", [u]), builder.constant(1.0, "one")])
            return builder.node("Mul", [builder.node("Mul", [x, builder.constant(0.5, "half")]), t])
        # exact: x Φ(x) with Φ(x) = (1 + erf(x / sqrt 2)) / 2
        erf_ = builder.node("Erf", [builder.node("Mul", [x, builder.constant(math.sqrt(0.5))])])
        cdf = builder.node("Add", [erf_, builder.constant(1.0, "one")])
        cdf = builder.node("Mul", [cdf, builder.constant(0.5, "half")], "cdf")
        return builder.node("Mul", [x, cdf])
