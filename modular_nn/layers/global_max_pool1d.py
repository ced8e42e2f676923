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
    onnx_reads_mask = True  # the export takes the maximum over the real steps of a mask

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
        # the maximum over time; with a mask, over the real steps (padded ones are -inf),
        # 0 for a sequence whose steps are all padding, as forward
        keepdims = int(self.config.keepdims)
        mask = builder.input_mask
        if mask is None:
            return builder.node("ReduceMax", [inputs[0]], axes=[1], keepdims=keepdims)
        real = builder.unsqueeze(mask, [2])  # (batch, time, 1)
        lowest = builder.constant(-np.inf, "padded")
        steps = builder.node("Where", [real, inputs[0], lowest], "real_steps")
        y = builder.node("ReduceMax", [steps], axes=[1], keepdims=1)  # (batch, 1, features)
        count = builder.node(
            "ReduceSum",
            [builder.cast(real, builder.dtype), builder.int64s([1], "axes")],
            keepdims=1,
        )  # (batch, 1, 1)
        some = builder.node("Greater", [count, builder.constant(0.0, "zero")], "some_real")
        y = builder.node("Where", [some, y, builder.constant(0.0, "zero")], "max")
        return y if keepdims else builder.squeeze(y, [1])
