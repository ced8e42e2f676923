"""Rescaling: y = x * scale + offset, with fixed numbers."""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from modular_nn.components.component import ComponentConfig
from modular_nn.components.layer import Layer, Shape
from modular_nn.export.builder import OnnxBuilder
from modular_nn.layers.preprocessing import Numbers, check_numbers


class Rescaling(Layer):
    """Keras's ``Rescaling``: y = x * scale + offset, e.g. ``scale`` 1/255 to bring
    8-bit pixel values into [0, 1], or ``scale`` 1/127.5 and ``offset`` -1 for [-1, 1].

    Args:
        scale: a number, or one per index of the last axis (channels).
        offset: a number, or one per index of the last axis (0).

    No parameters and no buffers: the numbers live in the spec.

    Shape: output shape = input shape.
    """

    type_name = "rescaling"
    supports_masking = True  # per value: a mask on the time axis passes through

    class Config(ComponentConfig):
        scale: Numbers = Field(..., description="multiplies the inputs (one per channel, or one)")
        offset: Numbers = Field(0.0, description="added after scaling (one per channel, or one)")

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        for name in ("scale", "offset"):
            value = getattr(self.config, name)
            if isinstance(value, list):
                self.check_feature_axis(input_shape)
                where = f"the last axis of inputs {(None, *input_shape)}"
                check_numbers("rescaling", name, value, input_shape[-1], where)
        return tuple(input_shape)

    def build(self, input_shape: Shape, rng: np.random.Generator, dtype: Any) -> Shape:
        output_shape = super().build(input_shape, rng, dtype)
        self.scale = np.asarray(self.config.scale, dtype=self.dtype)
        self.offset = np.asarray(self.config.offset, dtype=self.dtype)
        return output_shape

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        return x * self.scale + self.offset

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        # y = x * scale + offset: dL/dx = g * scale
        return grad_out * self.scale

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        scaled = builder.node("Mul", [inputs[0], builder.constant(self.scale, "scale")])
        return builder.node("Add", [scaled, builder.constant(self.offset, "offset")])
