"""Gated sum: y = g * a + (1 - g) * b with g = sigmoid(a W + c), a layer taking two inputs."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from pydantic import Field

import modular_nn as mnn
from modular_nn.activations.sigmoid import stable_sigmoid
from modular_nn.components.layer import Shape
from modular_nn.errors import ShapeError
from modular_nn.export import OnnxBuilder
from modular_nn.registry import get_registry
from modular_nn_extras.affine import affine, affine_backward


class GatedSum(mnn.Layer):
    """A learned, per-feature choice between two inputs: y = g * a + (1 - g) * b with the
    gate g = sigmoid(a W + c) computed from the first input (the gated skip connections
    of Highway networks and GRUs, with the second input as the carried value).

    Its two inputs come as a list in the order of the spec entry's ``inputs``
    (``{"type": "extras.gated_sum", "inputs": ["a", "b"]}``), and ``backward``
    returns their two gradients in that order.

    Args:
        kernel_initializer: initializer of W (default ``glorot_uniform``); c starts at 0.

    Shape:
        inputs ``a`` and ``b`` both ``(batch, ..., features)``, output the same;
        ``kernel`` (W) is ``(features, features)``, ``bias`` (c) ``(features,)``.
    """

    type_name = "extras.gated_sum"
    input_count: ClassVar[tuple[int, int | None]] = (2, 2)  # exactly two inputs: lists
    example_input_shape = [(5,), (5,)]  # one shape per input

    class Config(mnn.ComponentConfig):
        kernel_initializer: mnn.InitializerRef = Field(
            "glorot_uniform", description="initializer of the gate's kernel W"
        )

    def compute_output_shape(self, input_shape: list[Shape]) -> Shape:
        shapes = [tuple(shape) for shape in input_shape]
        if len(shapes) != 2 or shapes[0] != shapes[1]:
            raise ShapeError(
                "extras.gated_sum expects two inputs of the same shape, "
                f"received {' and '.join(map(str, shapes))}"
            )
        self.check_feature_axis(shapes[0])
        return shapes[0]

    def param_shapes(self, input_shape: list[Shape]) -> dict[str, Shape]:
        features = input_shape[0][-1]
        return {"kernel": (features, features), "bias": (features,)}

    def build(self, input_shape: list[Shape], rng: np.random.Generator, dtype: Any) -> Shape:
        output_shape = super().build(input_shape, rng, dtype)
        shapes = self.param_shapes(self.input_shape)
        init = get_registry().create("initializers", self.config.kernel_initializer)
        self.add_param("kernel", init(shapes["kernel"], rng, self.dtype))
        self.add_param("bias", np.zeros(shapes["bias"]))
        return output_shape

    def forward(self, xs: list[np.ndarray], training: bool = False) -> np.ndarray:
        a, b = xs
        self.a, self.diff = a, a - b
        self.g = stable_sigmoid(affine(a, self.params["kernel"], self.params["bias"]))
        return self.g * self.diff + b  # = g a + (1 - g) b

    def backward(self, grad_out: np.ndarray) -> list[np.ndarray]:
        # y = g (a - b) + b with g = sigmoid(z), z = a W + c:
        #   dL/dz = dL/dy * (a - b) * g (1 - g)      dL/dW = a^T dL/dz,  dL/dc = sum dL/dz
        #   dL/da = dL/dy * g + dL/dz W^T (a feeds the output and the gate)
        #   dL/db = dL/dy * (1 - g)
        g = self.g
        dz = grad_out * self.diff * g * (1 - g)
        through_gate = affine_backward(
            self.a, dz, self.params["kernel"], self.grads["kernel"], self.grads["bias"]
        )
        return [grad_out * g + through_gate, grad_out * (1 - g)]

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        # g * (a - b) + b with g = sigmoid(a W + c), as forward
        a, b = inputs
        g = builder.node(
            "Sigmoid",
            [builder.linear(a, builder.weight(self, "kernel"), builder.weight(self, "bias"))],
        )
        return builder.node("Add", [builder.node("Mul", [g, builder.node("Sub", [a, b])]), b])
