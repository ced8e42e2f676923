"""Global average pooling over the spatial axes of NHWC images."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from modular_nn.components.component import ComponentConfig
from modular_nn.components.layer import Layer, Shape
from modular_nn.export.builder import OnnxBuilder
from modular_nn.layers.windows import image_hw


class GlobalAvgPool2D(Layer):
    """Mean over height and width, per channel (Keras ``GlobalAveragePooling2D``).

    y[n, ch] = mean_{r, c} x[n, r, c, ch].

    Args:
        keepdims: keep the spatial axes with size 1 (default false).

    Shape: ``(batch, h, w, channels)`` to ``(batch, channels)``, or
    ``(batch, 1, 1, channels)`` with ``keepdims``.
    """

    type_name = "global_avg_pool2d"

    class Config(ComponentConfig):
        keepdims: bool = Field(False, description="keep the spatial axes, with size 1")

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        image_hw(self.type_name, input_shape)
        channels = input_shape[-1]
        return (1, 1, channels) if self.config.keepdims else (channels,)

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self.x_shape = x.shape
        return x.mean(axis=(1, 2), keepdims=self.config.keepdims)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        # y = sum(x) / (h w)  =>  dL/dx = g / (h w) at every position
        n, h, w, c = self.x_shape
        share = grad_out.reshape(n, 1, 1, c) * np.asarray(1.0 / (h * w), dtype=grad_out.dtype)
        return np.broadcast_to(share, self.x_shape).copy()

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        # mean over height and width of NHWC images
        keepdims = int(self.config.keepdims)
        return builder.node("ReduceMean", [inputs[0]], axes=[1, 2], keepdims=keepdims)
