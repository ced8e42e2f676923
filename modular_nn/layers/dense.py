"""Dense (fully connected) layer: y = f(x @ kernel + bias)."""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from modular_nn.components.component import ComponentConfig
from modular_nn.components.layer import Shape
from modular_nn.components.refs import ActivationRef, InitializerRef
from modular_nn.export.builder import OnnxBuilder
from modular_nn.layers.channels import add_bias, bias_gradient
from modular_nn.layers.kernel_layer import KernelLayer


class Dense(KernelLayer):
    """Fully connected layer, y = f(x W + b), applied on the last axis.

    Args:
        units: number of outputs, a positive integer.
        activation: activation applied to the output (default ``linear``).
        use_bias: add a bias vector (default true).
        kernel_initializer: default ``he_normal`` (the seed's N(0, 2/fan_in)).
        bias_initializer: default ``zeros``.

    Shape:
        input ``(batch, ..., in)``, output ``(batch, ..., units)``;
        ``kernel`` is ``(in, units)``, ``bias`` is ``(units,)``.
    """

    type_name = "dense"
    supports_masking = True  # per step: a mask on the time axis passes through

    class Config(ComponentConfig):
        units: int = Field(..., gt=0, description="number of output units")
        activation: ActivationRef = Field("linear", description="activation applied last")
        use_bias: bool = True
        kernel_initializer: InitializerRef = "he_normal"
        bias_initializer: InitializerRef = "zeros"

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        self.check_feature_axis(input_shape)
        return (*input_shape[:-1], self.config.units)

    def param_shapes(self, input_shape: Shape) -> dict[str, Shape]:
        shapes = {"kernel": (input_shape[-1], self.config.units)}
        if self.config.use_bias:
            shapes["bias"] = (self.config.units,)
        return shapes

    def build(self, input_shape: Shape, rng: np.random.Generator, dtype: Any) -> Shape:
        output_shape = super().build(input_shape, rng, dtype)
        self.add_kernel_and_bias(rng)
        return output_shape

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self.x = x
        z = x @ self.params["kernel"]
        if self.config.use_bias:
            add_bias(z, self.params["bias"])
        return self.activate_owned(z)  # z is ours alone

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        # z = x W + b:  dL/dW = x^T dz,  dL/db = sum_batch dz,  dL/dx = dz W^T
        dz = self.activation_grad(grad_out)
        x = self.x
        if x.ndim != 2:
            x = x.reshape(-1, x.shape[-1])
            dz2 = dz.reshape(-1, dz.shape[-1])
        else:
            dz2 = dz
        np.matmul(x.T, dz2, out=self.grads["kernel"])
        if self.config.use_bias:
            bias_gradient(dz2, self.grads["bias"])
        if not self.needs_input_grad:
            return None  # type: ignore[return-value]  # nothing upstream is trainable
        return dz @ self.params["kernel"].T

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        # MatMul on the last axis (any leading axes), Add the bias, then the activation
        bias = builder.weight(self, "bias") if self.config.use_bias else None
        z = builder.linear(inputs[0], builder.weight(self, "kernel"), bias)
        return builder.activation(self.activation, z)
