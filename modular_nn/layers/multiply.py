"""Multiply layer: the elementwise product of several inputs."""

from __future__ import annotations

import numpy as np

from modular_nn.export.builder import OnnxBuilder
from modular_nn.layers.merge import Merge


class Multiply(Merge):
    """Elementwise product of two or more inputs (Keras ``Multiply``), y = x_1 * ... * x_n.

    Shape: every input ``(batch, *shape)`` with one ``shape``; the output the same.
    No parameters.
    """

    type_name = "multiply"

    def forward(self, xs: list[np.ndarray], training: bool = False) -> np.ndarray:
        self.xs = list(xs)
        out = xs[0] * xs[1]
        for x in xs[2:]:
            out *= x
        return out

    def backward(self, grad_out: np.ndarray) -> list[np.ndarray]:
        # y = prod_j x_j  =>  dL/dx_i = dL/dy * prod_{j != i} x_j
        # (the product of the others, not y / x_i: exact where some x_i is 0)
        grads = []
        for i in range(len(self.xs)):
            others = [x for j, x in enumerate(self.xs) if j != i]
            grad = grad_out * others[0]
            for x in others[1:]:
                grad *= x
            grads.append(grad)
        return grads

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        # multiplied left to right, as forward does
        out = inputs[0]
        for x in inputs[1:]:
            out = builder.node("Mul", [out, x])
        return out
