"""Sliding-window geometry shared by the convolution and pooling layers (NHWC).

Output sizes and padding follow Keras/TensorFlow. Along one spatial axis of
size ``n``, with kernel ``k``, stride ``s``, dilation ``d`` and span
``d * (k - 1) + 1``:

- ``valid``: no padding, ``out = (n - span) // s + 1`` (the span must fit);
- ``same``: ``out = ceil(n / s)``, padded with ``max((out - 1) * s + span - n, 0)``
  elements, the smaller half before and the larger half after;
- ``causal`` (``conv1d``): ``out = ceil(n / s)``, padded with ``span - 1`` elements
  before and none after, so output step ``t`` reads no input after step ``t * s``.

The 1-D layers (``conv1d``, ``max_pool1d``, ``avg_pool1d``) run on sequences
``(batch, time, features)`` viewed as images of height 1, ``(batch, 1, time,
features)`` (a view, no copy): ``sequence_geometry`` gives that window.

Window ``(i, j)`` of the kernel reads the padded input at rows
``i * d + s * r`` for output rows ``r``: one strided slice per kernel
position. ``im2col`` exposes all of them at once as a strided view (no copy)
and ``col2im`` adds columns back with one strided slice addition per kernel
position, so no Python loop runs over pixels or batch items.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Literal, Union

import numpy as np
from numpy.lib.stride_tricks import as_strided
from pydantic import AfterValidator, Field

from modular_nn.errors import ShapeError

Padding = Literal["valid", "same"]
#: Padding of ``conv1d``: Keras's ``causal`` besides ``valid`` and ``same``.
SequencePadding = Literal["valid", "same", "causal"]


def _as_pair(value: int | tuple[int, int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


PositiveInt = Annotated[int, Field(gt=0)]
IntPair = Annotated[
    Union[PositiveInt, tuple[PositiveInt, PositiveInt]],  # noqa: UP007 - pydantic schema
    AfterValidator(_as_pair),
]
"""A positive integer or a pair of them (height, width); normalized to a pair."""


def _as_int(value: int | tuple[int]) -> int:
    return value if isinstance(value, int) else int(value[0])


IntOne = Annotated[
    Union[PositiveInt, tuple[PositiveInt]],  # noqa: UP007 - pydantic schema
    AfterValidator(_as_int),
]
"""A positive integer, or a list of one (Keras's ``(3,)``); normalized to the integer."""


@dataclass(frozen=True)
class WindowGeometry:
    """Where a 2-D window slides over an ``(height, width)`` input.

    Attributes:
        kernel, strides, dilation: (height, width) pairs.
        output: the output's (height, width).
        pads: ((top, bottom), (left, right)) padding added to the input.
    """

    kernel: tuple[int, int]
    strides: tuple[int, int]
    dilation: tuple[int, int]
    output: tuple[int, int]
    pads: tuple[tuple[int, int], tuple[int, int]]

    @property
    def padded(self) -> bool:
        return any(self.pads[0]) or any(self.pads[1])

    def padded_shape(self, x_shape: tuple[int, ...]) -> tuple[int, int, int, int]:
        """The NHWC shape of ``x_shape`` once padded."""
        n, h, w, c = x_shape
        (top, bottom), (left, right) = self.pads
        return n, h + top + bottom, w + left + right, c

    def slices(self) -> Iterator[tuple[int, int, tuple[slice, slice]]]:
        """``(i, j, (rows, cols))`` per kernel position: the padded input it reads."""
        (kh, kw), (sh, sw), (dh, dw), (oh, ow) = (
            self.kernel,
            self.strides,
            self.dilation,
            self.output,
        )
        for i in range(kh):
            rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
            for j in range(kw):
                yield i, j, (rows, slice(j * dw, j * dw + sw * (ow - 1) + 1, sw))


def _axis(size: int, kernel: int, stride: int, dilation: int, padding: str) -> tuple[int, int, int]:
    """``(output size, pad before, pad after)`` along one axis."""
    span = dilation * (kernel - 1) + 1
    if padding == "same":
        out = -(-size // stride)
        total = max((out - 1) * stride + span - size, 0)
        return out, total // 2, total - total // 2
    if padding == "causal":
        return -(-size // stride), span - 1, 0
    return (size - span) // stride + 1, 0, 0


def window_geometry(
    layer: str,
    input_hw: tuple[int, int],
    kernel: tuple[int, int],
    strides: tuple[int, int],
    padding: str,
    dilation: tuple[int, int] = (1, 1),
    labels: tuple[str, str] = ("height", "width"),
) -> WindowGeometry:
    """The geometry of a window over ``input_hw``; ``ShapeError`` when it does not fit
    (naming the axis with ``labels``)."""
    axes = []
    for size, k, s, d, label in zip(input_hw, kernel, strides, dilation, labels):
        span = d * (k - 1) + 1
        if padding == "valid" and span > size:
            raise ShapeError(
                f"{layer}: the window spans {span} along the {label} "
                f"(kernel {k}, dilation {d}) but the input {label} is {size}, with padding "
                "'valid'; expected an input at least as large as the window, or use "
                "padding 'same'"
            )
        axes.append(_axis(size, k, s, d, padding))
    (oh, top, bottom), (ow, left, right) = axes
    return WindowGeometry(kernel, strides, dilation, (oh, ow), ((top, bottom), (left, right)))


def image_hw(layer: str, input_shape: tuple[int, ...]) -> tuple[int, int]:
    """``(height, width)`` of a per-sample NHWC shape; ``ShapeError`` unless it is rank 3."""
    if len(input_shape) != 3:
        raise ShapeError(
            f"{layer} expects images of shape (height, width, channels), "
            f"received input shape {tuple(input_shape)}"
        )
    return int(input_shape[0]), int(input_shape[1])


def sequence_steps(layer: str, input_shape: tuple[int, ...]) -> int:
    """``time`` of a per-sample ``(time, features)`` shape; ``ShapeError`` unless rank 2."""
    if len(input_shape) != 2:
        raise ShapeError(
            f"{layer} expects sequences of shape (time, features), "
            f"received input shape {tuple(input_shape)}"
        )
    return int(input_shape[0])


def sequence_geometry(
    layer: str, steps: int, kernel: int, stride: int, padding: str, dilation: int = 1
) -> WindowGeometry:
    """The window of a 1-D layer over ``steps`` time steps, as a 2-D window of height 1
    over the ``(batch, 1, time, features)`` view; ``ShapeError`` when it does not fit."""
    return window_geometry(
        layer, (1, steps), (1, kernel), (1, stride), padding, (1, dilation), ("height", "time")
    )


def pad(x: np.ndarray, geometry: WindowGeometry, value: float = 0.0) -> np.ndarray:
    """``x`` (NHWC) padded as ``geometry`` says with ``value``; ``x`` itself if no padding."""
    if not geometry.padded:
        return x
    (top, _), (left, _) = geometry.pads
    out = np.full(geometry.padded_shape(x.shape), value, dtype=x.dtype)
    out[:, top : top + x.shape[1], left : left + x.shape[2], :] = x
    return out


def crop(xp: np.ndarray, geometry: WindowGeometry, x_shape: tuple[int, ...]) -> np.ndarray:
    """The inverse of ``pad``: the part of padded ``xp`` that covers the input."""
    if not geometry.padded:
        return xp
    (top, _), (left, _) = geometry.pads
    return xp[:, top : top + x_shape[1], left : left + x_shape[2], :]


def window_view(xp: np.ndarray, geometry: WindowGeometry) -> np.ndarray:
    """Every window of padded ``xp`` as a read-only view ``(n, oh, ow, kh, kw, channels)``."""
    sn, sh, sw, sc = xp.strides
    (kh, kw), (st_h, st_w), (dh, dw), (oh, ow) = (
        geometry.kernel,
        geometry.strides,
        geometry.dilation,
        geometry.output,
    )
    return as_strided(
        xp,
        shape=(xp.shape[0], oh, ow, kh, kw, xp.shape[3]),
        strides=(sn, sh * st_h, sw * st_w, sh * dh, sw * dw, sc),
        writeable=False,
    )


def im2col(xp: np.ndarray, geometry: WindowGeometry) -> np.ndarray:
    """The im2col matrix of padded ``xp``: ``(n * oh * ow, kh * kw * channels)``.

    Row ``(n, r, c)`` holds window ``(r, c)`` of sample ``n``, its columns
    ordered like the rows of a ``(kh, kw, in, out)`` kernel reshaped to 2-D.
    One copy of the window view; with a single channel the matrix is built
    transposed instead (one contiguous copy per kernel position) and returned
    as a Fortran-ordered view, which matrix products take as they are.
    """
    n, _, _, channels = xp.shape
    (kh, kw), (oh, ow) = geometry.kernel, geometry.output
    if channels == 1:
        cols_t = np.empty((kh * kw, n, oh, ow), dtype=xp.dtype)
        for i, j, (rows, columns) in geometry.slices():
            cols_t[i * kw + j] = xp[:, rows, columns, 0]
        return cols_t.reshape(kh * kw, n * oh * ow).T
    return window_view(xp, geometry).reshape(n * oh * ow, kh * kw * channels)


def col2im(
    per_position: np.ndarray, geometry: WindowGeometry, padded_shape: tuple[int, ...]
) -> np.ndarray:
    """Sum per-position columns back into a padded NHWC array (the adjoint of ``im2col``).

    ``per_position`` is ``(kh * kw, n * oh * ow, channels)``: block ``i * kw + j``
    holds what kernel position ``(i, j)`` sends back to the elements it read.
    Each input element receives the sum over the windows that read it; one
    strided addition per kernel position.
    """
    n, _, _, channels = padded_shape
    oh, ow = geometry.output
    out = np.zeros(padded_shape, dtype=per_position.dtype)
    kw = geometry.kernel[1]
    for i, j, (rows, columns) in geometry.slices():
        out[:, rows, columns, :] += per_position[i * kw + j].reshape(n, oh, ow, channels)
    return out
