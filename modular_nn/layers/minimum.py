"""Minimum layer: the elementwise minimum of several inputs."""

from __future__ import annotations

import numpy as np

from modular_nn.export.builder import OnnxBuilder
from modular_nn.layers.max_pool2d import first_max
from modular_nn.layers.merge import Merge


class Minimum(Merge):
    """Elementwise minimum of two or more inputs (Keras ``Minimum``), y = min_i x_i.

    The gradient goes to the input holding the minimum; where several inputs tie,
    to the first of them in ``inputs`` order. Where an input is NaN the output is
    NaN (as in Keras) and the gradient goes to the first NaN input.

    Shape: every input ``(batch, *shape)`` with one ``shape``; the output the same.
    No parameters.
    """

    type_name = "minimum"

    def forward(self, xs: list[np.ndarray], training: bool = False) -> np.ndarray:
        # min_i x_i = -max_i (-x_i), and the first argmax of -x is the first argmin of x
        out, self.winner = first_max([np.negative(x) for x in xs], track=True)
        self.count = len(xs)
        return np.negative(out, out=out)

    def backward(self, grad_out: np.ndarray) -> list[np.ndarray]:
        # y = x_k where k = the first argmin  =>  dL/dx_i = dL/dy where i == k, else 0
        zero = grad_out.dtype.type(0)
        return [np.where(self.winner == i, grad_out, zero) for i in range(self.count)]

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        return builder.node("Min", inputs)
