"""Global max pooling over the time axis of sequences, over real steps when masked."""

from __future__ import annotations

import numpy as np

from modular_nn.export.builder import OnnxBuilder
from modular_nn.layers.global_pooling import (
    GlobalPool1D,
    max_over_steps,
    max_over_steps_grad,
    step_mask,
)


class GlobalMaxPool1D(GlobalPool1D):
    """Maximum over time, per feature (Keras ``GlobalMaxPooling1D``).

    y[n, ch] = max_{t : mask[n, t]} x[n, t, ch], over every step without a mask.

    Masking: with a mask on its input (``embedding`` with ``mask_zero``), padded steps
    never win; the output has no time axis, so it carries no mask. A sequence whose
    steps are all padding gives 0, and no gradient.

    The gradient goes to the first step reaching the maximum (as PyTorch's
    ``adaptive_max_pool1d``), also when several tie.

    Args:
        keepdims: keep the time axis with size 1 (default false).

    Shape: ``(batch, time, features)`` to ``(batch, features)``, or
    ``(batch, 1, features)`` with ``keepdims``.
    """

    type_name = "global_max_pool1d"

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        mask = step_mask(self.type_name, self.input_mask, x)
        y, self.index, self.empty = max_over_steps(x, mask)
        self.x_shape = x.shape
        return y.reshape(x.shape[0], *self.output_shape)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        # d max / dx = 1 at the first maximal real step, 0 elsewhere (all-padded rows: 0)
        grad = grad_out.reshape(grad_out.shape[0], self.x_shape[-1])
        return max_over_steps_grad(grad, self.index, self.empty, self.x_shape)

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        # the maximum over time (a model whose mask reaches this layer is not exported)
        keepdims = int(self.config.keepdims)
        return builder.node("ReduceMax", [inputs[0]], axes=[1], keepdims=keepdims)
