"""Concatenate layer: several inputs joined along one axis."""

from __future__ import annotations

import numpy as np
from pydantic import Field, field_validator

from modular_nn.components.component import ComponentConfig
from modular_nn.components.layer import Shape
from modular_nn.errors import ShapeError
from modular_nn.export.builder import OnnxBuilder
from modular_nn.layers.merge import Merge, shapes_text


class Concatenate(Merge):
    """Joins two or more inputs along ``axis`` (Keras ``Concatenate``).

    Args:
        axis: the axis to join along, counted as Keras does over the whole batch
            array: -1 (the default) is the last axis (features, or an image's
            channels), 1 the first axis after the batch. Axis 0, the batch axis,
            is refused: samples are never joined with each other.

    Shape: inputs of one rank whose shapes agree except along ``axis``; the
    output has the sum of their sizes there, e.g. ``(batch, 6, 6, 2)`` and
    ``(batch, 6, 6, 3)`` give ``(batch, 6, 6, 5)`` with ``axis`` -1.
    No parameters.
    """

    type_name = "concatenate"

    class Config(ComponentConfig):
        axis: int = Field(
            -1, description="axis to join along, batch axis included (-1: the last); not 0"
        )

        @field_validator("axis")
        @classmethod
        def _not_the_batch_axis(cls, value: int) -> int:
            if value == 0:
                raise ValueError(
                    "expected an axis other than 0, the batch axis (use -1 for the last axis, "
                    "1 for the first axis after the batch)"
                )
            return value

    def sample_axis(self, shape: Shape) -> int:
        """``axis`` as an index into a per-sample shape; ``ShapeError`` if it names none."""
        axis, rank = self.config.axis, len(shape)
        if rank == 0:
            raise ShapeError(
                "concatenate expects inputs with an axis to join along, "
                f"received per-sample shape {tuple(shape)}"
            )
        index = axis - 1 if axis > 0 else rank + axis
        if not 0 <= index < rank:
            what = "the batch axis" if index == -1 else "out of range"
            raise ShapeError(
                f"concatenate axis {axis} is {what} for inputs of shape "
                f"{(None, *shape)} (None: the batch): expected an axis from 1 to {rank} "
                f"or from -{rank} to -1"
            )
        return index

    def compute_output_shape(self, input_shape: list[Shape]) -> Shape:
        shapes = self.input_shapes(input_shape)
        index = self.sample_axis(shapes[0])

        def without_axis(shape: Shape) -> Shape:
            return shape[:index] + shape[index + 1 :]

        if any(
            len(shape) != len(shapes[0]) or without_axis(shape) != without_axis(shapes[0])
            for shape in shapes[1:]
        ):
            raise ShapeError(
                f"concatenate expects inputs of the same shape except along axis "
                f"{self.config.axis}, received {shapes_text(shapes)}"
            )
        joined = sum(shape[index] for shape in shapes)
        return (*shapes[0][:index], joined, *shapes[0][index + 1 :])

    def forward(self, xs: list[np.ndarray], training: bool = False) -> np.ndarray:
        self.axis = self.sample_axis(xs[0].shape[1:]) + 1  # on the batch array
        self.sizes = [x.shape[self.axis] for x in xs]
        return np.concatenate(xs, axis=self.axis)

    def backward(self, grad_out: np.ndarray) -> list[np.ndarray]:
        # y = [x_1, ..., x_n] along axis  =>  dL/dx_i = the slice of dL/dy where x_i sits,
        # copied: a new contiguous array each, never a view of grad_out
        bounds = np.cumsum(self.sizes)[:-1]
        return [piece.copy() for piece in np.split(grad_out, bounds, axis=self.axis)]

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        # the axis on the batch array, as forward computes it
        axis = self.sample_axis(self.input_shape[0]) + 1  # type: ignore[index]
        return builder.node("Concat", inputs, axis=axis)
