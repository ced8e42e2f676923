"""Flatten layer: every per-sample axis into one."""

from __future__ import annotations

import math

import numpy as np

from modular_nn.components.layer import Layer, Shape
from modular_nn.export.builder import OnnxBuilder


class Flatten(Layer):
    """Flattens each sample to one axis (Keras ``Flatten``), in C (row-major) order.

    Shape: ``(batch, d1, ..., dk)`` to ``(batch, d1 * ... * dk)``; no parameters.
    On NHWC images the features are ordered height, width, channel.
    """

    type_name = "flatten"

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (math.prod(input_shape),)

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self.x_shape = x.shape
        return x.reshape(x.shape[0], math.prod(x.shape[1:]))

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        # a reshape moves values without changing them: the gradient is reshaped back
        return grad_out.reshape(self.x_shape)

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        # ONNX Flatten at axis 1: (batch, d1 * ... * dk), C order as here
        return builder.node("Flatten", [inputs[0]], axis=1)
