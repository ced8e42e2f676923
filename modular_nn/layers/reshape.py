"""Reshape layer: a new per-sample shape with the same number of elements."""

from __future__ import annotations

import math

import numpy as np
from pydantic import Field, field_validator

from modular_nn.components.component import ComponentConfig
from modular_nn.components.layer import Layer, Shape
from modular_nn.errors import ShapeError
from modular_nn.export.builder import OnnxBuilder


class Reshape(Layer):
    """Gives each sample the shape ``target_shape`` (Keras ``Reshape``), in C order.

    Args:
        target_shape: the per-sample output shape (without the batch axis);
            one entry may be -1, inferred from the element count.

    Shape: ``(batch, *input_shape)`` to ``(batch, *target_shape)``; the element
    counts must agree, which is checked when the spec is validated.
    """

    type_name = "reshape"

    class Config(ComponentConfig):
        target_shape: list[int] = Field(
            ..., min_length=1, description="per-sample output shape; one entry may be -1"
        )

        @field_validator("target_shape")
        @classmethod
        def _dims(cls, value: list[int]) -> list[int]:
            if any(d == 0 or d < -1 for d in value):
                raise ValueError(f"expected positive sizes (and at most one -1), received: {value}")
            if value.count(-1) > 1:
                raise ValueError(f"expected at most one -1, received: {value}")
            return value

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        target = list(self.config.target_shape)
        size = math.prod(input_shape)
        known = math.prod(d for d in target if d != -1)
        if -1 in target:
            if size % known:
                raise ShapeError(
                    f"reshape cannot give {size} elements (input shape {tuple(input_shape)}) "
                    f"the shape {tuple(target)}: {size} is not a multiple of {known}"
                )
            target[target.index(-1)] = size // known
        elif known != size:
            raise ShapeError(
                f"reshape expected a target shape of {size} elements to match the input shape "
                f"{tuple(input_shape)}, received target shape {tuple(target)} ({known} elements)"
            )
        return tuple(target)

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self.x_shape = x.shape
        return x.reshape(x.shape[0], *self.output_shape)  # type: ignore[misc]

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        # a reshape moves values without changing them: the gradient is reshaped back
        return grad_out.reshape(self.x_shape)

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        # 0 keeps the (dynamic) batch size; the rest is the resolved output shape
        shape = builder.int64s([0, *self.output_shape])  # type: ignore[misc]
        return builder.node("Reshape", [inputs[0], shape])
