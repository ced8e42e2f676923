"""Per-channel (last-axis) bias addition and bias gradients, fast for few channels.

NumPy broadcasts a ``(channels,)`` vector over a ``(rows, channels)`` array one
row at a time: with 16 channels that is a loop of 16-element steps, several
times slower than the same work on long rows (bench: 50176x16 float32, bias
add 420 -> 170 us, column sums 1090 -> 76 us). So the rows are grouped: ``k``
consecutive rows form one row of ``k * channels`` elements, and the bias is
tiled ``k`` times to match; sums are taken over the grouped rows, then over
the ``k`` groups.

A grouped row is never a multiple of 256 bytes long: in a training step, rows
of exactly 4096 bytes made the addition 5 to 8 times slower than rows of 3136
or 6272 bytes (an aliasing of addresses in the CPU's caches; measured on the
bench CNN, AMD EPYC), so such lengths are skipped.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

#: Elements a grouped row aims at.
ROW_TARGET = 1024
#: Rows with at least this many channels are long enough as they are.
LONG_ROW = 128


@lru_cache(maxsize=256)
def rows_per_group(rows: int, channels: int, itemsize: int = 4) -> int:
    """``k``: how many rows to group, a divisor of ``rows`` giving about ``ROW_TARGET``
    elements per grouped row whose length in bytes is not a multiple of 256 (1 when the
    rows are long already or no divisor fits)."""
    if channels >= LONG_ROW:
        return 1
    want = -(-ROW_TARGET // channels)
    for k in range(want, min(rows, 8 * want) + 1):
        if rows % k == 0 and (k * channels * itemsize) % 256:
            return k
    return 1


def _group(a: np.ndarray) -> int:
    channels = a.shape[-1]
    if channels >= LONG_ROW:
        return 1
    rows = a.size // channels if channels else 0
    return rows_per_group(rows, channels, a.itemsize) if rows else 1


def add_bias(z: np.ndarray, bias: np.ndarray) -> None:
    """``z += bias`` along the last axis, in place."""
    k = _group(z)
    if k == 1 or not z.flags.c_contiguous:
        z += bias
    else:
        grouped = z.reshape(-1, k * z.shape[-1])
        grouped += np.tile(bias, k)


def channel_sum(a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``a`` summed over every axis but the last (into ``out`` if given)."""
    channels = a.shape[-1]
    k = _group(a)
    if k == 1:
        return a.reshape(-1, channels).sum(axis=0, out=out)
    return a.reshape(-1, k * channels).sum(axis=0).reshape(k, channels).sum(axis=0, out=out)


def bias_gradient(dz: np.ndarray, out: np.ndarray) -> None:
    """``out[...] = dz`` summed over every axis but the last."""
    channel_sum(dz, out)
