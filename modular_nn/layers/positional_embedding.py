"""Positional embedding layer: adds a learned vector per time step."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from modular_nn.components.component import ComponentConfig
from modular_nn.components.layer import Layer, Shape
from modular_nn.components.refs import InitializerRef
from modular_nn.errors import ShapeError
from modular_nn.export.builder import OnnxBuilder
from modular_nn.registry import get_registry


class PositionalEmbedding(Layer):
    """Learned position embeddings added to a sequence (Keras-hub ``PositionEmbedding``,
    added to its input as in BERT and GPT-2): y[b, t, :] = x[b, t, :] + embeddings[t, :].

    Args:
        max_length: the longest sequence the layer takes (rows of the table), a
            positive integer.
        embeddings_initializer: default ``glorot_uniform`` (Keras-hub's default;
            fans ``max_length`` and ``features``).

    Shape: input ``(batch, time, features)`` with ``time <= max_length``, output the
    same; ``embeddings`` is ``(max_length, features)`` (only its first ``time`` rows
    are used, and receive gradient).

    Masking: supports masks; the mask passes through.
    """

    type_name = "positional_embedding"
    supports_masking: ClassVar[bool] = True

    class Config(ComponentConfig):
        max_length: int = Field(..., gt=0, description="the longest sequence (table rows)")
        embeddings_initializer: InitializerRef = "glorot_uniform"

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        self.check_rank(input_shape, 2, "sequences (time, features)")
        steps, limit = input_shape[0], self.config.max_length
        if steps > limit:
            raise ShapeError(
                f"{self.type_name} expects sequences of at most max_length={limit} steps, "
                f"received input shape {tuple(input_shape)}"
            )
        return tuple(input_shape)

    def param_shapes(self, input_shape: Shape) -> dict[str, Shape]:
        return {"embeddings": (self.config.max_length, input_shape[-1])}

    def build(self, input_shape: Shape, rng: np.random.Generator, dtype: Any) -> Shape:
        output_shape = super().build(input_shape, rng, dtype)
        init = get_registry().create("initializers", self.config.embeddings_initializer)
        shape = self.param_shapes(self.input_shape)["embeddings"]  # type: ignore[arg-type]
        self.add_param("embeddings", init(shape, rng, self.dtype))
        return output_shape

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        return x + self.params["embeddings"][: x.shape[1]]

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        # y = x + E[:T]:  dL/dx = dL/dy,  dL/dE[t] = sum_batch dL/dy[:, t] (0 for t >= T)
        grad = self.grads["embeddings"]
        steps = grad_out.shape[1]
        grad[steps:] = 0
        np.sum(grad_out, axis=0, out=grad[:steps])
        return grad_out

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        # x + E[:T], T the input's time length (read from its shape), as forward
        x = inputs[0]
        steps = builder.node("Shape", [x], "steps", start=1, end=2)
        zero, axis = builder.int64s([0], "starts"), builder.int64s([0], "axes")
        rows = builder.node("Slice", [builder.weight(self, "embeddings"), zero, steps, axis])
        return builder.node("Add", [x, rows])
