"""Subtract layer: the difference of two inputs."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from modular_nn.export.builder import OnnxBuilder
from modular_nn.layers.merge import Merge


class Subtract(Merge):
    """Elementwise difference of exactly two inputs (Keras ``Subtract``), y = x_1 - x_2.

    Shape: both inputs ``(batch, *shape)`` with one ``shape``; the output the same.
    No parameters.
    """

    type_name = "subtract"
    input_count: ClassVar[tuple[int, int | None]] = (2, 2)

    def forward(self, xs: list[np.ndarray], training: bool = False) -> np.ndarray:
        return xs[0] - xs[1]

    def backward(self, grad_out: np.ndarray) -> list[np.ndarray]:
        # y = x_1 - x_2  =>  dL/dx_1 = dL/dy,  dL/dx_2 = -dL/dy
        return [grad_out, -grad_out]

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        return builder.node("Sub", inputs)
