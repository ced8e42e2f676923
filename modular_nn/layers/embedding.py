"""Embedding layer: integer ids to dense vectors."""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from modular_nn.components.component import ComponentConfig
from modular_nn.components.layer import Layer, Shape
from modular_nn.components.refs import InitializerRef
from modular_nn.export.builder import OnnxBuilder
from modular_nn.model.inputs import integer_indices
from modular_nn.registry import get_registry


class Embedding(Layer):
    """Looks up row ``ids`` of a trainable ``(input_dim, output_dim)`` table (Keras ``Embedding``).

    y[..., :] = embeddings[x[...], :]. Inputs are integer ids in [0, input_dim)
    (float arrays holding whole numbers are accepted too); the model passes
    them through without casting. There is no gradient for the input: the
    layer returns None from ``backward``. The table's gradient sums the
    incoming rows per id (sorting the ids once, then ``np.add.reduceat``).

    Args:
        input_dim: vocabulary size, a positive integer.
        output_dim: embedding size, a positive integer.
        embeddings_initializer: default ``normal`` (mean 0, stddev 0.05; Keras
            draws uniform on [-0.05, 0.05], PyTorch N(0, 1)).
        mask_zero: id 0 is padding (default false, Keras's semantics): the output
            carries the mask ``ids != 0``, shape ``(batch, *ids_shape)``, for the
            layers after (attention, recurrent layers, pooling). Id 0 still looks up
            row 0, so ``input_dim`` counts the padding id.

    Shape: ``(batch, *ids_shape)`` to ``(batch, *ids_shape, output_dim)``;
    ``embeddings`` is ``(input_dim, output_dim)``.
    """

    type_name = "embedding"
    accepts_integer_input = True

    class Config(ComponentConfig):
        input_dim: int = Field(..., gt=0, description="vocabulary size (ids are < input_dim)")
        output_dim: int = Field(..., gt=0, description="size of each embedding vector")
        embeddings_initializer: InitializerRef = "normal"
        mask_zero: bool = Field(False, description="id 0 is padding: the output is masked there")

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (*input_shape, self.config.output_dim)

    def param_shapes(self, input_shape: Shape) -> dict[str, Shape]:
        return {"embeddings": (self.config.input_dim, self.config.output_dim)}

    def produces_mask(self, input_shape: Any, input_masked: Any) -> bool:
        return bool(self.config.mask_zero)

    def compute_mask(self, x: Any, input_mask: Any) -> np.ndarray | None:
        # Keras: True where a step is real, i.e. its id is not the padding id 0
        if not self.config.mask_zero:
            return None
        return np.asarray(x) != 0

    def build(self, input_shape: Shape, rng: np.random.Generator, dtype: Any) -> Shape:
        output_shape = super().build(input_shape, rng, dtype)
        init = get_registry().create("initializers", self.config.embeddings_initializer)
        self.add_param(
            "embeddings", init(self.param_shapes(self.input_shape)["embeddings"], rng, self.dtype)
        )
        return output_shape

    def _ids(self, x: np.ndarray) -> np.ndarray:
        """``x`` as an integer index array, checked against ``input_dim``."""
        limit = self.config.input_dim
        return integer_indices(x, limit, "embedding ids", f"input_dim={limit}")

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self.ids = self._ids(x)
        return self.params["embeddings"][self.ids]

    def backward(self, grad_out: np.ndarray) -> None:  # type: ignore[override]
        # y = E[ids]  =>  dL/dE[v] = sum of dL/dy over the positions holding id v
        ids = self.ids.ravel()
        rows = grad_out.reshape(ids.size, grad_out.shape[-1])
        grad = self.grads["embeddings"]
        grad[...] = 0
        if ids.size:
            order = np.argsort(ids, kind="stable")
            sorted_ids = ids[order]
            starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])
            grad[sorted_ids[starts]] = np.add.reduceat(rows[order], starts, axis=0)
        return None  # integer inputs have no gradient

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        # Gather rows of the table by id (ids cast to int64, a no-op for int64 inputs)
        ids = builder.cast(inputs[0], np.int64)
        return builder.node("Gather", [builder.weight(self, "embeddings"), ids], axis=0)

    def export_onnx_mask(self, builder: OnnxBuilder, inputs: list[str], input_mask: Any) -> str:
        # mask_zero: True where the id is not the padding id 0, Not(Equal(ids, 0))
        ids = builder.cast(inputs[0], np.int64)
        padding = builder.node("Equal", [ids, builder.constant(0, "padding_id", dtype=np.int64)])
        return builder.node("Not", [padding], "mask")
