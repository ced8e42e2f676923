"""ReLU activation: f(x) = max(0, x)."""

from __future__ import annotations

from functools import cache

import numpy as np

from modular_nn.components.activation import Activation
from modular_nn.export.builder import OnnxBuilder

#: Elements per ``np.maximum`` call in ``positive_part``: the zero operand (256 KiB in
#: float32) stays in cache while a large array streams past it.
CHUNK = 1 << 16


@cache
def _zeros(dtype: np.dtype) -> np.ndarray:
    zeros = np.zeros(CHUNK, dtype)
    zeros.flags.writeable = False
    return zeros


def positive_part(x: np.ndarray, in_place: bool = False) -> np.ndarray:
    """``np.maximum(x, 0)``, about 3x as fast on large float arrays; into ``x`` itself
    with ``in_place`` (when ``x`` is a writeable float array), else in a new array.

    NumPy compares against a scalar 0 in a loop that is not vectorized; against a
    zero array of the same length it is (bench: 190 -> 60 us on 512x512 float32).
    So a contiguous float array is compared chunk by chunk with a cached zero
    vector. The values are those of ``np.maximum(x, 0)``, NaN propagating.
    """
    if x.dtype.kind != "f" or not x.flags.c_contiguous or x.ndim == 0:
        return np.maximum(x, 0)
    out = x if in_place and x.flags.writeable else np.empty_like(x)
    flat, flat_out, zeros = x.reshape(-1), out.reshape(-1), _zeros(x.dtype)
    for lo in range(0, flat.size, CHUNK):
        part = flat[lo : lo + CHUNK]
        np.maximum(part, zeros[: part.size], out=flat_out[lo : lo + CHUNK])
    return out


class ReLU(Activation):
    """Rectified linear unit, f(x) = max(0, x).

    Derivative: f'(x) = 1 where x > 0, else 0 (read from the kept output: y > 0 iff x > 0).
    """

    type_name = "relu"

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.y = positive_part(x)
        return self.y

    def forward_in_place(self, x: np.ndarray) -> np.ndarray:
        self.y = positive_part(x, in_place=True)
        return self.y

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        # d/dx max(0, x) = [x > 0] = [y > 0]: a product with the boolean mask, in
        # grad_out's dtype (naming it picks the loop that casts the mask as it goes:
        # 512x512 float32 117 -> 99 us; np.where with a scalar 0 is 10x slower)
        return np.multiply(grad_out, self.y > 0, dtype=grad_out.dtype)

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        return builder.node("Relu", inputs)
