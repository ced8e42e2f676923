"""A standalone activation layer."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from modular_nn.components.component import ComponentConfig
from modular_nn.components.refs import ActivationRef
from modular_nn.export.builder import OnnxBuilder
from modular_nn.layers.activated import ActivatedLayer


class ActivationLayer(ActivatedLayer):
    """Applies a registered activation to its input (Keras's ``Activation`` layer).

    Args:
        activation: the activation's name, or ``{"type": name, ...options}``.

    Shape: output shape = input shape; no parameters.
    """

    type_name = "activation"
    supports_masking = True  # per step: a mask on the time axis passes through

    class Config(ComponentConfig):
        activation: ActivationRef = Field(..., description="the activation to apply")

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        return self.activation.apply(x)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        # chain rule through f: dL/dx = dL/dy * f'(x)
        return self.activation.apply_backward(grad_out)

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        return builder.activation(self.activation, inputs[0])
