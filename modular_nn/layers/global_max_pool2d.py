"""Global max pooling over the spatial axes of NHWC images."""

from __future__ import annotations

import numpy as np

from modular_nn.export.builder import OnnxBuilder
from modular_nn.layers.global_pooling import GlobalPool, max_over_steps, max_over_steps_grad


class GlobalMaxPool2D(GlobalPool):
    """Maximum over height and width, per channel (Keras ``GlobalMaxPooling2D``).

    y[n, ch] = max_{r, c} x[n, r, c, ch].

    The gradient goes to the first position (row-major) reaching the maximum (as
    PyTorch's ``adaptive_max_pool2d``), also when several tie.

    Args:
        keepdims: keep the spatial axes with size 1 (default false).

    Shape: ``(batch, h, w, channels)`` to ``(batch, channels)``, or
    ``(batch, 1, 1, channels)`` with ``keepdims``.
    """

    type_name = "global_max_pool2d"

    pooled_axes = 2

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        n, h, w, c = x.shape
        # the h * w positions as one sequence (row-major), no mask
        y, self.index, _ = max_over_steps(x.reshape(n, h * w, c), None)
        self.x_shape = x.shape
        return y.reshape(n, *self.output_shape)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        # d max / dx = 1 at the first maximal position, 0 elsewhere
        n, h, w, c = self.x_shape
        dx = max_over_steps_grad(grad_out.reshape(n, c), self.index, None, (n, h * w, c))
        return dx.reshape(self.x_shape)

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        # the maximum over height and width of NHWC images
        keepdims = int(self.config.keepdims)
        return builder.node("ReduceMax", [inputs[0]], axes=[1, 2], keepdims=keepdims)
