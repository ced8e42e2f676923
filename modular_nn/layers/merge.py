"""What the merge layers (``add``, ``subtract``, ``multiply``, ``average``, ``maximum``,
``minimum``, ``concatenate``) share: several inputs, their count and shapes checked with
every received shape named, and gradients that never alias each other."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from modular_nn.components.layer import Layer, Shape
from modular_nn.errors import ShapeError


def shapes_text(shapes: Sequence[Shape]) -> str:
    """``(4,) and (5,)``; ``(4,), (4,) and (5,)`` for three or more."""
    texts = [str(tuple(shape)) for shape in shapes]
    if len(texts) < 2:
        return "".join(texts)
    return f"{', '.join(texts[:-1])} and {texts[-1]}"


def separate_copies(grad: np.ndarray, count: int) -> list[np.ndarray]:
    """``[grad, grad.copy(), ...]``, ``count`` arrays of the same values, no two sharing memory.

    Each input of a merge gets its own array: a graph may add another gradient into one
    of them in place (an input used twice, or a layer read by several), which must not
    change the others.
    """
    return [grad, *(grad.copy() for _ in range(count - 1))]


class Merge(Layer):
    """Base of the layers that combine several inputs (Keras's merge layers).

    ``input_count`` is ``(2, None)``: two or more inputs, which arrive as lists in
    the order of the spec entry's ``inputs`` (``modular_nn.components.layer``).
    ``compute_output_shape`` checks the count and requires one shape for every
    input (the elementwise merges; unlike Keras, no broadcasting), raising
    ``ShapeError`` with every received shape. Subclasses give ``forward`` and
    ``backward``; ``backward`` returns one gradient per input, in order, never two
    views of one array.
    """

    input_count: ClassVar[tuple[int, int | None]] = (2, None)
    #: masks pass through, combined by logical AND (``Layer.compute_mask``), as in Keras
    supports_masking: ClassVar[bool] = True

    def input_shapes(self, input_shape: Any) -> list[Shape]:
        """``input_shape`` as a list of shapes, its length checked against ``input_count``."""
        if not isinstance(input_shape, (list, tuple)) or not all(
            isinstance(shape, (list, tuple)) for shape in input_shape
        ):
            raise ShapeError(
                f"{self.type_name} expects a list of input shapes, one per input, "
                f"received {input_shape!r}"
            )
        shapes = [tuple(int(d) for d in shape) for shape in input_shape]
        low, high = self.input_count
        if len(shapes) < low or (high is not None and len(shapes) > high):
            if high == low:
                wanted = f"exactly {low}"
            elif high is None:
                wanted = f"at least {low}"
            else:
                wanted = f"{low} to {high}"
            raise ShapeError(
                f"{self.type_name} expects {wanted} inputs, received {len(shapes)}"
                + (f": {shapes_text(shapes)}" if shapes else "")
            )
        return shapes

    def compute_output_shape(self, input_shape: list[Shape]) -> Shape:
        shapes = self.input_shapes(input_shape)
        if any(shape != shapes[0] for shape in shapes[1:]):
            raise ShapeError(
                f"{self.type_name} expects inputs of the same shape, received {shapes_text(shapes)}"
            )
        return shapes[0]


__all__ = ["Merge", "separate_copies", "shapes_text"]
