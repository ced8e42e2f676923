"""Add layer: the elementwise sum of several inputs."""

from __future__ import annotations

import numpy as np

from modular_nn.export.builder import OnnxBuilder
from modular_nn.layers.merge import Merge, separate_copies


class Add(Merge):
    """Elementwise sum of two or more inputs (Keras ``Add``), y = x_1 + x_2 + ... + x_n.

    Used for residual connections (``{"type": "add", "inputs": ["block_input", "conv_b"]}``).

    Shape: every input ``(batch, *shape)`` with one ``shape``; the output the same.
    No parameters.
    """

    type_name = "add"

    def forward(self, xs: list[np.ndarray], training: bool = False) -> np.ndarray:
        self.count = len(xs)
        out = xs[0] + xs[1]
        for x in xs[2:]:
            out += x
        return out

    def backward(self, grad_out: np.ndarray) -> list[np.ndarray]:
        # y = sum_i x_i  =>  dL/dx_i = dL/dy for every i (separate arrays: see separate_copies)
        return separate_copies(grad_out, self.count)

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        # summed left to right, as forward does
        out = inputs[0]
        for x in inputs[1:]:
            out = builder.node("Add", [out, x])
        return out
