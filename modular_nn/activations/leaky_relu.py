"""Leaky ReLU activation: f(x) = x for x >= 0, negative_slope * x otherwise."""

from __future__ import annotations

import numpy as np
from pydantic import AliasChoices, Field

from modular_nn.components.activation import Activation
from modular_nn.components.component import ComponentConfig
from modular_nn.export.builder import OnnxBuilder


class LeakyReLU(Activation):
    """Leaky rectified linear unit (Maas et al., 2013).

    f(x) = x for x >= 0, negative_slope * x otherwise;
    f'(x) = 1 for x >= 0, negative_slope otherwise.

    Args:
        negative_slope: slope for x < 0, >= 0 (default 0.2, as Keras 3's
            ``keras.activations.leaky_relu``; Keras's ``LeakyReLU`` layer uses 0.3,
            PyTorch 0.01). ``alpha`` (the Keras 2 name) is accepted as an alias.
    """

    type_name = "leaky_relu"

    class Config(ComponentConfig):
        negative_slope: float = Field(
            0.2,
            ge=0,
            allow_inf_nan=False,
            validation_alias=AliasChoices("negative_slope", "alpha"),
            description="slope for negative inputs",
        )

    def forward(self, x: np.ndarray) -> np.ndarray:
        # slope = 1 + (negative_slope - 1) [x < 0], by arithmetic (np.where is much slower)
        self.slope = (x < 0) * np.asarray(self.config.negative_slope - 1, dtype=x.dtype)
        self.slope += 1
        return x * self.slope

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        # f'(x) = 1 for x >= 0, negative_slope otherwise
        return grad_out * self.slope

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        return builder.node("LeakyRelu", inputs, alpha=self.config.negative_slope)
