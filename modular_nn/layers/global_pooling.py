"""What the global pooling layers share: options and shapes, the mask of real steps, and
the maximum over steps.

``global_avg_pool1d`` and ``global_max_pool1d`` pool over the real steps of padded
sequences (``Layer.input_mask``, True where a step is real); ``global_max_pool2d``
takes the maximum over the H * W positions of an image seen as one sequence.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from modular_nn.components.component import ComponentConfig
from modular_nn.components.layer import Layer, Shape
from modular_nn.errors import ShapeError
from modular_nn.layers.windows import image_hw, sequence_steps


class GlobalPool(Layer):
    """Base of the global pooling layers: ``keepdims`` and the output shape; subclasses
    set ``pooled_axes`` (1: time of ``(time, features)``, 2: height and width of NHWC)."""

    pooled_axes: ClassVar[int] = 1

    class Config(ComponentConfig):
        keepdims: bool = Field(False, description="keep the pooled axes, with size 1")

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        if self.pooled_axes == 1:
            sequence_steps(self.type_name, input_shape)
        else:
            image_hw(self.type_name, input_shape)
        channels = input_shape[-1]
        return (*(1,) * self.pooled_axes, channels) if self.config.keepdims else (channels,)


class GlobalPool1D(GlobalPool):
    """Base of the global pooling layers over time: they take a mask (pooling over real
    steps only) and give none, their output having no time axis."""

    supports_masking = True

    def produces_mask(self, input_shape: Any, input_masked: Any) -> bool:
        return False  # the time axis is gone

    def compute_mask(self, x: Any, input_mask: Any) -> np.ndarray | None:
        return None


def step_mask(layer: str, mask: Any, x: np.ndarray) -> np.ndarray | None:
    """``mask`` as a boolean ``(batch, time)`` array for the sequences ``x`` (None for no
    mask); ``ShapeError`` when its shape is not ``x``'s first two axes."""
    if mask is None:
        return None
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != x.shape[:2]:
        raise ShapeError(
            f"{layer} expects a mask of shape (batch, time) = {x.shape[:2]}, "
            f"received a mask of shape {mask.shape}"
        )
    return mask


def max_over_steps(
    x: np.ndarray, mask: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The maximum of ``x`` ``(batch, time, channels)`` over time, per channel, counting
    only the real steps of ``mask``: ``(y, index, empty)``.

    ``index`` ``(batch, 1, channels)`` is the first step reaching the maximum (the first
    NaN where there is one, as PyTorch's max pooling). A row whose steps are all padding
    has no maximum: its output is 0 and ``empty`` (``(batch, 1)``, None without a mask)
    marks it so that backward sends it no gradient.
    """
    empty = None
    if mask is not None:
        x = np.where(mask[:, :, None], x, np.array(-np.inf, dtype=x.dtype))
        empty = ~mask.any(axis=1, keepdims=True)
    index = x.argmax(axis=1)[:, None, :]
    y = np.take_along_axis(x, index, axis=1)[:, 0]
    if empty is not None and empty.any():
        y[empty[:, 0]] = 0
    return y, index, empty


def max_over_steps_grad(
    grad_out: np.ndarray, index: np.ndarray, empty: np.ndarray | None, x_shape: tuple[int, ...]
) -> np.ndarray:
    """dL/dx of ``max_over_steps``: ``grad_out`` ``(batch, channels)`` at the first
    maximal real step of each row and channel, 0 elsewhere (and on all-padded rows)."""
    share = grad_out[:, None, :]
    if empty is not None:
        share = share * ~empty[:, :, None]
    dx = np.zeros(x_shape, dtype=grad_out.dtype)
    np.put_along_axis(dx, index, share, axis=1)
    return dx
