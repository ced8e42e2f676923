"""Global average pooling over the time axis of sequences, over real steps when masked."""

from __future__ import annotations

import numpy as np

from modular_nn.export.builder import OnnxBuilder
from modular_nn.layers.global_pooling import GlobalPool1D, step_mask


class GlobalAvgPool1D(GlobalPool1D):
    """Mean over time, per feature (Keras ``GlobalAveragePooling1D``).

    y[n, ch] = sum_t w[n, t] x[n, t, ch], with w[n, t] = mask[n, t] / max(count[n], 1)
    and count[n] the number of real steps of sequence n; without a mask w = 1 / time.

    Masking: with a mask on its input (``embedding`` with ``mask_zero``), only the real
    steps are averaged (as Keras); the output has no time axis, so it carries no mask.
    A sequence whose steps are all padding gives 0 (no division by zero), and no
    gradient.

    Args:
        keepdims: keep the time axis with size 1 (default false).

    Shape: ``(batch, time, features)`` to ``(batch, features)``, or
    ``(batch, 1, features)`` with ``keepdims``.
    """

    type_name = "global_avg_pool1d"
    onnx_reads_mask = True  # the export averages the real steps of a mask reaching it

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        mask = step_mask(self.type_name, self.input_mask, x)
        n = x.shape[0]
        if mask is None:
            self.weights = None
            y = x.mean(axis=1)
        else:  # one batched product: (n, 1, time) @ (n, time, features)
            count = np.maximum(mask.sum(axis=1, keepdims=True), 1)
            self.weights = (mask / count).astype(x.dtype)[:, None, :]
            y = np.matmul(self.weights, x)[:, 0]
        self.x_shape = x.shape
        return y.reshape(n, *self.output_shape)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        # y = sum_t w[t] x[t]  =>  dL/dx[t] = w[t] g  (w = 1 / time without a mask)
        n, steps, features = self.x_shape
        grad = grad_out.reshape(n, 1, features)
        if self.weights is None:
            share = grad * np.asarray(1.0 / steps, dtype=grad_out.dtype)
            return np.broadcast_to(share, self.x_shape).copy()
        return self.weights.transpose(0, 2, 1) * grad  # (n, time, 1) * (n, 1, features)

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        # the mean over time; with a mask, the weights mask / max(count, 1) as forward
        keepdims = int(self.config.keepdims)
        mask = builder.input_mask
        if mask is None:
            return builder.node("ReduceMean", [inputs[0]], axes=[1], keepdims=keepdims)
        real = builder.cast(mask, builder.dtype)  # (batch, time)
        count = builder.node("ReduceSum", [real, builder.int64s([1], "axes")], keepdims=1)
        count = builder.node("Max", [count, builder.constant(1.0, "one")], "count")
        weights = builder.unsqueeze(builder.node("Div", [real, count], "weights"), [1])
        y = builder.node("MatMul", [weights, inputs[0]], "mean")  # (batch, 1, features)
        return y if keepdims else builder.squeeze(y, [1])
