"""1-D max pooling over sequences (batch, time, features)."""

from __future__ import annotations

from modular_nn.layers.max_pool2d import MaxPool2D
from modular_nn.layers.pooling1d import Pool1D


class MaxPool1D(Pool1D):
    """Maximum over each ``pool_size`` window of time steps, per feature (Keras
    ``MaxPooling1D``).

    y[n, t, ch] = max_i xp[n, t*s + i, ch], where ``same`` padding pads with -inf
    (padded steps never win).

    Args:
        pool_size: window length (default 2).
        strides: step along time; default the pool size (non-overlapping windows).
        padding: ``valid`` or ``same`` (as in ``conv1d``).

    Shape: ``(batch, time, features)`` to ``(batch, out_time, features)``.

    Computed by ``max_pool2d`` on the height-1 view of the sequence: the gradient
    goes to the first maximum of each window (as PyTorch does), also on ties.
    """

    type_name = "max_pool1d"
    pool2d_class = MaxPool2D
