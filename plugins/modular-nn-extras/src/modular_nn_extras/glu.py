"""Gated linear unit: y = (x W + b) * sigmoid(x V + c)."""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

import modular_nn as mnn
from modular_nn.activations.sigmoid import stable_sigmoid
from modular_nn.components.layer import Shape
from modular_nn.export import OnnxBuilder
from modular_nn.registry import get_registry
from modular_nn_extras.affine import affine, affine_backward


class GLU(mnn.Layer):
    """Gated linear unit (Dauphin et al., 2017, "Language Modeling with Gated
    Convolutional Networks"): a linear map whose every output is scaled by a
    learned sigmoid gate, y = (x W + b) * sigmoid(x V + c).

    Args:
        units: number of outputs, a positive integer.
        kernel_initializer: initializer of W and V (default ``glorot_uniform``).

    Shape:
        input ``(batch, ..., in)``, output ``(batch, ..., units)``; ``kernel``
        and ``gate_kernel`` are ``(in, units)``, ``bias`` and ``gate_bias``
        ``(units,)``.
    """

    type_name = "extras.glu"
    example_input_shape = (4,)
    example_options = {"units": 3}

    class Config(mnn.ComponentConfig):
        units: int = Field(..., gt=0, description="number of output units")
        kernel_initializer: mnn.InitializerRef = Field(
            "glorot_uniform", description="initializer of both kernels"
        )

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        self.check_feature_axis(input_shape)
        return (*input_shape[:-1], self.config.units)

    def param_shapes(self, input_shape: Shape) -> dict[str, Shape]:
        kernel, vector = (input_shape[-1], self.config.units), (self.config.units,)
        return {"kernel": kernel, "bias": vector, "gate_kernel": kernel, "gate_bias": vector}

    def build(self, input_shape: Shape, rng: np.random.Generator, dtype: Any) -> Shape:
        output_shape = super().build(input_shape, rng, dtype)
        shapes = self.param_shapes(self.input_shape)
        init = get_registry().create("initializers", self.config.kernel_initializer)
        for prefix in ("", "gate_"):
            self.add_param(f"{prefix}kernel", init(shapes[f"{prefix}kernel"], rng, self.dtype))
            self.add_param(f"{prefix}bias", np.zeros(shapes[f"{prefix}bias"]))
        return output_shape

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        p = self.params
        self.x = x
        self.a = affine(x, p["kernel"], p["bias"])
        self.s = stable_sigmoid(affine(x, p["gate_kernel"], p["gate_bias"]))
        return self.a * self.s

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        # y = a * s with a = x W + b, s = sigmoid(x V + c):
        #   dL/da = g * s      dL/d(xV + c) = g * a * s (1 - s)
        #   dL/dx = dL/da W^T + dL/d(xV + c) V^T
        p, g, s = self.params, grad_out, self.s
        da = g * s
        dz = g * self.a * s * (1 - s)
        dx_a = affine_backward(self.x, da, p["kernel"], self.grads["kernel"], self.grads["bias"])
        dx_s = affine_backward(
            self.x, dz, p["gate_kernel"], self.grads["gate_kernel"], self.grads["gate_bias"]
        )
        return dx_a + dx_s

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        # (x W + b) * sigmoid(x V + c), as forward
        x, w = inputs[0], builder.weight
        a = builder.linear(x, w(self, "kernel"), w(self, "bias"))
        s = builder.node(
            "Sigmoid", [builder.linear(x, w(self, "gate_kernel"), w(self, "gate_bias"))]
        )
        return builder.node("Mul", [a, s])
