"""Average layer: the elementwise mean of several inputs."""

from __future__ import annotations

import numpy as np

from modular_nn.export.builder import OnnxBuilder
from modular_nn.layers.merge import Merge, separate_copies


class Average(Merge):
    """Elementwise mean of two or more inputs (Keras ``Average``), y = (x_1 + ... + x_n) / n.

    Shape: every input ``(batch, *shape)`` with one ``shape``; the output the same.
    No parameters.
    """

    type_name = "average"

    def forward(self, xs: list[np.ndarray], training: bool = False) -> np.ndarray:
        self.count = len(xs)
        out = xs[0] + xs[1]
        for x in xs[2:]:
            out += x
        out /= self.count
        return out

    def backward(self, grad_out: np.ndarray) -> list[np.ndarray]:
        # y = (1/n) sum_i x_i  =>  dL/dx_i = dL/dy / n for every i
        return separate_copies(grad_out / self.count, self.count)

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        # summed left to right, then divided by the count, as forward does
        out = inputs[0]
        for x in inputs[1:]:
            out = builder.node("Add", [out, x])
        return builder.node("Div", [out, builder.constant(len(inputs), "count")])
