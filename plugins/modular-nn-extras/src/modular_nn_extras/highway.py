"""Highway layer: y = T * H(x) + (1 - T) * x, a learned gate between a transform and the input."""

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


class Highway(mnn.Layer):
    """Highway layer (Srivastava, Greff & Schmidhuber, 2015, "Highway Networks").

    H = f(x W_h + b_h) is a dense transform, T = sigmoid(x W_t + b_t) the
    transform gate; the output mixes them, y = T * H + (1 - T) * x, so the
    layer starts close to the identity when the gate bias is negative and deep
    stacks still train.

    Args:
        activation: f, any registered activation (default ``relu``).
        gate_bias: initial value of b_t (default -1.0: the gate starts mostly
            closed, as the paper recommends for deep stacks).
        kernel_initializer: initializer of W_h and W_t (default ``glorot_uniform``).

    Shape:
        input ``(batch, ..., features)``, output the same; ``kernel`` and
        ``gate_kernel`` are ``(features, features)``, ``bias`` and
        ``gate_bias`` ``(features,)``.
    """

    type_name = "extras.highway"
    example_input_shape = (5,)
    example_options = {"activation": "tanh"}

    class Config(mnn.ComponentConfig):
        activation: mnn.ActivationRef = Field("relu", description="activation f of the transform")
        gate_bias: float = Field(-1.0, allow_inf_nan=False, description="initial gate bias b_t")
        kernel_initializer: mnn.InitializerRef = Field(
            "glorot_uniform", description="initializer of both kernels"
        )

    def __init__(self, config: mnn.ComponentConfig | None = None, **options: Any) -> None:
        super().__init__(config, **options)
        self.activation: mnn.Activation = get_registry().create(
            "activations", self.config.activation
        )

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        self.check_feature_axis(input_shape)
        return tuple(input_shape)

    def param_shapes(self, input_shape: Shape) -> dict[str, Shape]:
        features = input_shape[-1]
        square, vector = (features, features), (features,)
        return {"kernel": square, "bias": vector, "gate_kernel": square, "gate_bias": vector}

    def build(self, input_shape: Shape, rng: np.random.Generator, dtype: Any) -> Shape:
        output_shape = super().build(input_shape, rng, dtype)
        shapes = self.param_shapes(self.input_shape)
        init = get_registry().create("initializers", self.config.kernel_initializer)
        self.add_param("kernel", init(shapes["kernel"], rng, self.dtype))
        self.add_param("bias", np.zeros(shapes["bias"]))
        self.add_param("gate_kernel", init(shapes["gate_kernel"], rng, self.dtype))
        self.add_param("gate_bias", np.full(shapes["gate_bias"], self.config.gate_bias))
        return output_shape

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        p = self.params
        self.x = x
        self.h = self.activation.forward(affine(x, p["kernel"], p["bias"]))
        self.t = stable_sigmoid(affine(x, p["gate_kernel"], p["gate_bias"]))
        return self.t * (self.h - x) + x  # = T H + (1 - T) x

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        # y = T H + (1 - T) x with H = f(z_h), T = sigmoid(z_t):
        #   dL/dz_h = f'(z_h) * g * T           dL/dz_t = g * (H - x) * T (1 - T)
        #   dL/dx   = g (1 - T) + dz_h W_h^T + dz_t W_t^T   (x feeds the output and both maps)
        p, g, x, t = self.params, grad_out, self.x, self.t
        dz_h = self.activation.backward(g * t)
        dz_t = g * (self.h - x) * t * (1 - t)
        dx_h = affine_backward(x, dz_h, p["kernel"], self.grads["kernel"], self.grads["bias"])
        dx_t = affine_backward(
            x, dz_t, p["gate_kernel"], self.grads["gate_kernel"], self.grads["gate_bias"]
        )
        return g * (1 - t) + dx_h + dx_t

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        # T * (H - x) + x with H = f(x W_h + b_h), T = sigmoid(x W_t + b_t), as forward
        x, w = inputs[0], builder.weight
        h = builder.activation(
            self.activation, builder.linear(x, w(self, "kernel"), w(self, "bias"))
        )
        t = builder.node(
            "Sigmoid", [builder.linear(x, w(self, "gate_kernel"), w(self, "gate_bias"))]
        )
        return builder.node("Add", [builder.node("Mul", [t, builder.node("Sub", [h, x])]), x])
