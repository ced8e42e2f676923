"""1-D convolution over sequences (batch, time, features), as ``conv2d`` on a height-1 view."""

from __future__ import annotations

import numpy as np
from pydantic import AliasChoices, Field

from modular_nn.components.layer import Shape
from modular_nn.export.builder import OnnxBuilder
from modular_nn.layers.conv2d import Conv2D
from modular_nn.layers.windows import (
    IntOne,
    SequencePadding,
    WindowGeometry,
    sequence_geometry,
    sequence_steps,
)


class Conv1D(Conv2D):
    """1-D convolution (cross-correlation, as in Keras and PyTorch) over the time axis.

    y[n, t, f] = act(bias[f] + sum_{i, ch} xp[n, t*s + i*d, ch] * kernel[i, ch, f]),
    where xp is the input padded along time as ``padding`` says.

    The sequence is viewed as an image of height 1, ``(batch, 1, time, features)``
    (no copy), and convolved by ``conv2d``'s code with a ``(1, kernel_size)``
    window: im2col, one matrix product with the kernel seen as
    ``(kernel_size * in_channels, filters)``, and col2im in backward.

    Args:
        filters: number of output channels, a positive integer.
        kernel_size: window length (an integer, or a list of one).
        strides: step along time (default 1).
        padding: ``valid`` (no padding), ``same`` (output length ceil(time / stride),
            zero padding split as TensorFlow does, the extra element after) or
            ``causal`` (``(kernel_size - 1) * dilation_rate`` zeros before the sequence
            and none after, as Keras: output step t sees no input after step t * stride).
        dilation_rate: spacing between kernel elements (default 1); ``dilation``
            is accepted as an alias (PyTorch's name).
        activation: applied to the output (default ``linear``).
        use_bias: add a bias per filter (default true).
        kernel_initializer: default ``glorot_uniform`` (Keras's default).
        bias_initializer: default ``zeros``.

    Shape:
        input ``(batch, time, in_channels)``, output ``(batch, out_time, filters)``;
        ``kernel`` is ``(kernel_size, in_channels, filters)`` (Keras's layout; PyTorch's
        ``Conv1d.weight`` is ``(filters, in_channels, kernel_size)``), ``bias`` is
        ``(filters,)``.
    """

    type_name = "conv1d"

    class Config(Conv2D.Config):
        # conv2d's options, with one integer per window option and causal padding
        kernel_size: IntOne = Field(..., description="window length")
        strides: IntOne = Field(1, description="step along time")
        padding: SequencePadding = Field("valid", description="'valid', 'same' or 'causal'")
        dilation_rate: IntOne = Field(
            1,
            validation_alias=AliasChoices("dilation_rate", "dilation"),
            description="spacing between kernel elements",
        )

    def geometry(self, input_shape: Shape) -> WindowGeometry:
        """The height-1 window sliding over ``input_shape``; ``ShapeError`` if it cannot."""
        c = self.config
        steps = sequence_steps(self.type_name, input_shape)
        return sequence_geometry(
            self.type_name, steps, c.kernel_size, c.strides, c.padding, c.dilation_rate
        )

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (self.geometry(input_shape).output[1], self.config.filters)

    def param_shapes(self, input_shape: Shape) -> dict[str, Shape]:
        sequence_steps(self.type_name, input_shape)
        shapes = {"kernel": (self.config.kernel_size, input_shape[-1], self.config.filters)}
        if self.config.use_bias:
            shapes["bias"] = (self.config.filters,)
        return shapes

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        # conv2d on the (batch, 1, time, features) view; its kernel reshaped to
        # (kernel_size * in, filters) is conv2d's (1, kernel_size, in, filters) one
        return super().forward(x[:, None], training)[:, 0]

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        # conv2d's derivative on the height-1 view: dK = cols^T dz, db = sum dz,
        # dx = col2im(dz K^T) (each input step sums the windows that read it)
        dx = super().backward(grad_out[:, None])
        return None if dx is None else dx[:, 0]  # type: ignore[return-value]

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        # conv2d on the (batch, 1, time, features) view, the kernel seen as (1, k, in, f)
        bias = builder.weight(self, "bias") if self.config.use_bias else None
        kernel = builder.unsqueeze(builder.weight(self, "kernel"), [0])
        z = builder.conv2d(builder.unsqueeze(inputs[0], [1]), kernel, bias, self.window)
        return builder.activation(self.activation, builder.squeeze(z, [1]))
