"""Maximum layer: the elementwise maximum of several inputs."""

from __future__ import annotations

import numpy as np

from modular_nn.export.builder import OnnxBuilder
from modular_nn.layers.max_pool2d import first_max
from modular_nn.layers.merge import Merge


class Maximum(Merge):
    """Elementwise maximum of two or more inputs (Keras ``Maximum``), y = max_i x_i.

    The gradient goes to the input holding the maximum; where several inputs tie,
    to the first of them in ``inputs`` order (as ``max_pool2d`` does within a
    window, and PyTorch's ``max``). Where an input is NaN the output is NaN (as in
    Keras) and the gradient goes to the first NaN input.

    Shape: every input ``(batch, *shape)`` with one ``shape``; the output the same.
    No parameters.
    """

    type_name = "maximum"

    def forward(self, xs: list[np.ndarray], training: bool = False) -> np.ndarray:
        out, self.winner = first_max(xs, track=True)
        self.count = len(xs)
        return out

    def backward(self, grad_out: np.ndarray) -> list[np.ndarray]:
        # y = x_k where k = the first argmax  =>  dL/dx_i = dL/dy where i == k, else 0
        zero = grad_out.dtype.type(0)
        return [np.where(self.winner == i, grad_out, zero) for i in range(self.count)]

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        return builder.node("Max", inputs)
