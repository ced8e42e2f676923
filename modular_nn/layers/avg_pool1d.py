"""1-D average pooling over sequences (batch, time, features)."""

from __future__ import annotations

from modular_nn.layers.avg_pool2d import AvgPool2D
from modular_nn.layers.pooling1d import Pool1D


class AvgPool1D(Pool1D):
    """Mean over each ``pool_size`` window of time steps, per feature (Keras
    ``AveragePooling1D``).

    y[n, t, ch] = sum_i xp[n, t*s + i, ch] / count[t], where with ``same`` padding
    the count excludes padded steps (as Keras does; in PyTorch this is
    ``count_include_pad=False``).

    Args:
        pool_size: window length (default 2).
        strides: step along time; default the pool size (non-overlapping windows).
        padding: ``valid`` or ``same`` (as in ``conv1d``).

    Shape: ``(batch, time, features)`` to ``(batch, out_time, features)``.

    Computed by ``avg_pool2d`` on the height-1 view of the sequence.
    """

    type_name = "avg_pool1d"
    pool2d_class = AvgPool2D
