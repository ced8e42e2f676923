"""2-D convolution over NHWC images, computed as im2col and one matrix product."""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import AliasChoices, Field

from modular_nn.components.component import ComponentConfig
from modular_nn.components.layer import Shape
from modular_nn.components.refs import ActivationRef, InitializerRef
from modular_nn.export.builder import OnnxBuilder
from modular_nn.layers.channels import add_bias, bias_gradient
from modular_nn.layers.kernel_layer import KernelLayer
from modular_nn.layers.windows import (
    IntPair,
    Padding,
    WindowGeometry,
    col2im,
    crop,
    im2col,
    image_hw,
    pad,
    window_geometry,
)

#: Largest im2col matrix (elements) built at once outside training; larger batches are chunked.
EVAL_COLS_LIMIT = 1 << 24


class Conv2D(KernelLayer):
    """2-D convolution (cross-correlation, as in Keras and PyTorch) over NHWC images.

    y[n, r, c, f] = act(bias[f] + sum_{i, j, ch} xp[n, r*sh + i*dh, c*sw + j*dw, ch]
    * kernel[i, j, ch, f]), where xp is the input padded as ``padding`` says.

    Computed as im2col: every window of the input becomes one row of a
    ``(batch * oh * ow, kh * kw * in_channels)`` matrix (a strided view copied
    once), multiplied by the kernel reshaped to ``(kh * kw * in_channels,
    filters)``. Backward uses two more matrix products and a col2im that loops
    over the kh * kw kernel positions only.

    Args:
        filters: number of output channels, a positive integer.
        kernel_size: window (height, width), or one integer for both.
        strides: step (height, width), or one integer (default 1).
        padding: ``valid`` (no padding) or ``same`` (output size ceil(input / stride),
            zero padding split as TensorFlow does, the extra element after).
        dilation_rate: spacing between kernel elements (default 1); ``dilation``
            is accepted as an alias (PyTorch's name).
        activation: applied to the output (default ``linear``).
        use_bias: add a bias per filter (default true).
        kernel_initializer: default ``glorot_uniform`` (Keras's default).
        bias_initializer: default ``zeros``.

    Shape:
        input ``(batch, height, width, in_channels)``, output
        ``(batch, out_height, out_width, filters)``; ``kernel`` is
        ``(kh, kw, in_channels, filters)``, ``bias`` is ``(filters,)``.
    """

    type_name = "conv2d"

    class Config(ComponentConfig):
        filters: int = Field(..., gt=0, description="number of output channels")
        kernel_size: IntPair = Field(..., description="window size: n or [height, width]")
        strides: IntPair = Field(1, description="step: n or [height, width]")
        padding: Padding = Field("valid", description="'valid' or 'same'")
        dilation_rate: IntPair = Field(
            1,
            validation_alias=AliasChoices("dilation_rate", "dilation"),
            description="spacing between kernel elements: n or [height, width]",
        )
        activation: ActivationRef = Field("linear", description="activation applied last")
        use_bias: bool = True
        kernel_initializer: InitializerRef = "glorot_uniform"
        bias_initializer: InitializerRef = "zeros"

    def geometry(self, input_shape: Shape) -> WindowGeometry:
        """Where the kernel slides over ``input_shape``; ``ShapeError`` if it cannot."""
        c = self.config
        hw = image_hw(self.type_name, input_shape)
        return window_geometry(
            self.type_name, hw, c.kernel_size, c.strides, c.padding, c.dilation_rate
        )

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (*self.geometry(input_shape).output, self.config.filters)

    def param_shapes(self, input_shape: Shape) -> dict[str, Shape]:
        image_hw(self.type_name, input_shape)
        kh, kw = self.config.kernel_size
        shapes = {"kernel": (kh, kw, input_shape[-1], self.config.filters)}
        if self.config.use_bias:
            shapes["bias"] = (self.config.filters,)
        return shapes

    def build(self, input_shape: Shape, rng: np.random.Generator, dtype: Any) -> Shape:
        output_shape = super().build(input_shape, rng, dtype)
        self.window = self.geometry(self.input_shape)
        self.add_kernel_and_bias(rng)
        return output_shape

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        window = self.window
        n = x.shape[0]
        oh, ow = window.output
        kernel = self.params["kernel"].reshape(-1, self.config.filters)
        per_sample = oh * ow * kernel.shape[0]  # im2col elements per sample
        if training or n * per_sample <= EVAL_COLS_LIMIT:
            cols = im2col(pad(x, window), window)  # (n * oh * ow, kh * kw * in)
            z = cols @ kernel
        else:  # inference on a large batch: bound the im2col matrix, chunk by chunk
            step = max(1, EVAL_COLS_LIMIT // per_sample)
            cols = None
            z = np.concatenate(
                [im2col(pad(x[i : i + step], window), window) @ kernel for i in range(0, n, step)]
            )
        if self.config.use_bias:
            add_bias(z, self.params["bias"])
        z = z.reshape(n, oh, ow, self.config.filters)
        # backward needs the im2col matrix; outside training keep only x and rebuild it if asked
        self.x = x
        self.cols = cols if training else None
        return self.activate_owned(z)  # z is ours alone

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        # z = cols @ K + b:  dK = cols^T dz,  db = sum dz,  dcols = dz K^T,
        # and dx = col2im(dcols): each input element sums the windows that read it.
        dz = self.activation_grad(grad_out)
        filters = self.config.filters
        dz2 = np.ascontiguousarray(dz).reshape(-1, filters)
        kernel = self.params["kernel"]
        cols = self.cols if self.cols is not None else im2col(pad(self.x, self.window), self.window)
        np.matmul(cols.T, dz2, out=self.grads["kernel"].reshape(-1, filters))
        if self.config.use_bias:
            bias_gradient(dz2, self.grads["bias"])
        if not self.needs_input_grad:
            return None  # type: ignore[return-value]  # nothing upstream is trainable
        window = self.window
        kh, kw = window.kernel
        x_shape = self.x.shape
        channels = x_shape[-1]
        # dcols one kernel position at a time, (n * oh * ow, in) blocks, for a fast col2im
        per_kernel = kernel.reshape(kh * kw, channels, filters)
        dcols = np.empty((kh * kw, dz2.shape[0], channels), dtype=dz2.dtype)
        for k in range(kh * kw):
            np.matmul(dz2, per_kernel[k].T, out=dcols[k])
        padded_shape = window.padded_shape(x_shape)
        return crop(col2im(dcols, window, padded_shape), window, x_shape)

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        # ONNX Conv is NCHW with an (filters, in, kh, kw) kernel: transposed around it
        bias = builder.weight(self, "bias") if self.config.use_bias else None
        z = builder.conv2d(inputs[0], builder.weight(self, "kernel"), bias, self.window)
        return builder.activation(self.activation, z)
