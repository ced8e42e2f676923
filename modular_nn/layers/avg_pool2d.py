"""2-D average pooling over NHWC images."""

from __future__ import annotations

from typing import Any

import numpy as np

from modular_nn.components.layer import Shape
from modular_nn.export.builder import OnnxBuilder
from modular_nn.layers.pooling import Pool2D
from modular_nn.layers.windows import WindowGeometry, crop, pad


def window_counts(window: WindowGeometry, hw: tuple[int, int]) -> np.ndarray:
    """``(out_h, out_w, 1)``: how many real (unpadded) input elements each window covers."""
    ones = pad(np.ones((1, *hw, 1)), window)
    counts = sum(ones[0, rows, cols, :] for _, _, (rows, cols) in window.slices())
    return np.asarray(counts)


class AvgPool2D(Pool2D):
    """Mean over each ``pool_size`` window, per channel (Keras ``AveragePooling2D``).

    y[n, r, c, ch] = sum_{i, j} xp[n, r*sh + i, c*sw + j, ch] / count[r, c], where
    with ``same`` padding the count excludes padded elements (as Keras does; in
    PyTorch this is ``count_include_pad=False``).

    Args:
        pool_size: window (height, width), or one integer (default 2).
        strides: step (height, width); default the pool size (non-overlapping windows).
        padding: ``valid`` or ``same`` (as in ``conv2d``).

    Shape: ``(batch, h, w, channels)`` to ``(batch, out_h, out_w, channels)``.
    """

    type_name = "avg_pool2d"

    def build(self, input_shape: Shape, rng: np.random.Generator, dtype: Any) -> Shape:
        output_shape = super().build(input_shape, rng, dtype)
        self.scale = (1.0 / window_counts(self.window, self.input_shape[:2])).astype(self.dtype)
        return output_shape

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        window = self.window
        xp = pad(x, window)
        slices = window.slices()
        _, _, first = next(slices)
        total = xp[(slice(None), *first)].copy()
        for _, _, (rows, cols) in slices:
            total += xp[:, rows, cols, :]
        total *= self.scale
        self.x_shape = x.shape
        return total

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        # y = sum(window) / count  =>  every element of a window gets g / count
        window = self.window
        share = grad_out * self.scale
        dxp = np.zeros(window.padded_shape(self.x_shape), dtype=grad_out.dtype)
        for _, _, (rows, cols) in window.slices():
            dxp[:, rows, cols, :] += share
        return crop(dxp, window, self.x_shape)

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        # the count excludes padded elements: count_include_pad=0
        return builder.pool2d("AveragePool", inputs[0], self.window, count_include_pad=0)
