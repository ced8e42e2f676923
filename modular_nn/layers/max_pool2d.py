"""2-D max pooling over NHWC images."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from modular_nn.layers.pooling import Pool2D
from modular_nn.layers.windows import crop, pad


def first_max(views: Sequence[np.ndarray], track: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Elementwise maximum of ``views`` and, if ``track``, the index of the first view reaching it.

    Strict comparisons keep the earliest index on ties, as PyTorch does. With two
    views the index is boolean (True for the second), which compares as 0 and 1.
    """
    if len(views) == 1:
        return views[0].copy(), (np.zeros(views[0].shape, dtype=np.uint8) if track else None)
    best = np.maximum(views[0], views[1])
    index = (views[1] > views[0]) if track else None
    if index is not None and len(views) > 2:
        index = index.astype(np.uint8)
    for k, view in enumerate(views[2:], start=2):
        if index is not None:  # index = k where view > best (arithmetic: np.where is slow)
            greater = view > best
            index *= ~greater
            index += greater * np.uint8(k)
        np.maximum(best, view, out=best)
    return best, index


class MaxPool2D(Pool2D):
    """Maximum over each ``pool_size`` window, per channel (Keras ``MaxPooling2D``).

    y[n, r, c, ch] = max_{i, j} xp[n, r*sh + i, c*sw + j, ch], where ``same``
    padding pads with -inf (padded elements never win).

    Args:
        pool_size: window (height, width), or one integer (default 2).
        strides: step (height, width); default the pool size (non-overlapping windows).
        padding: ``valid`` or ``same`` (as in ``conv2d``).

    Shape: ``(batch, h, w, channels)`` to ``(batch, out_h, out_w, channels)``.

    The gradient goes to the first maximum of each window in row-major order
    (as PyTorch does), also when several elements tie (zeros after a ReLU).
    Non-overlapping windows (strides = pool size, the default) are reduced on a
    reshaped view, first along each window row, then across rows; overlapping
    ones loop over the window positions. Neither loops over pixels.
    """

    type_name = "max_pool2d"

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        window = self.window
        self.tiled = window.strides == window.kernel
        xp = pad(x, window, -np.inf)
        if self.tiled:
            # (n, oh, ph, ow, pw, c): the max of each window row, then across rows
            x6 = self._tiles(xp)
            ph, pw = window.kernel
            row_max, self.col_index = first_max([x6[:, :, :, :, j] for j in range(pw)], training)
            y, self.row_index = first_max([row_max[:, :, i] for i in range(ph)], training)
        else:
            views = [xp[:, rows, cols, :] for _, _, (rows, cols) in window.slices()]
            y, self.index = first_max(views, training)
        # backward needs the argmax indices; outside training keep x and find them if asked
        self.x, self.tracked = x, training
        return y

    def _tiles(self, xp: np.ndarray) -> np.ndarray:
        """The windows of padded ``xp`` as a view ``(n, oh, ph, ow, pw, c)`` (tiled case)."""
        (ph, pw), (oh, ow) = self.window.kernel, self.window.output
        n, c = xp.shape[0], xp.shape[3]
        return xp[:, : oh * ph, : ow * pw, :].reshape(n, oh, ph, ow, pw, c)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        # d max / dx = 1 for the (first) maximal element of each window, 0 elsewhere
        if not self.tracked:
            self.forward(self.x, training=True)
        window = self.window
        x_shape = self.x.shape
        padded_shape = window.padded_shape(x_shape)
        (ph, pw), (oh, ow) = window.kernel, window.output
        exact = padded_shape[1:3] == (oh * ph, ow * pw)
        dxp = (np.empty if self.tiled and exact else np.zeros)(padded_shape, dtype=grad_out.dtype)
        if self.tiled:
            dx6 = self._tiles(dxp)
            for i in range(ph):
                g_row = grad_out * (self.row_index == i)
                for j in range(pw):
                    np.multiply(g_row, self.col_index[:, :, i] == j, out=dx6[:, :, i, :, j])
        else:
            for k, (_, _, (rows, cols)) in enumerate(window.slices()):
                dxp[:, rows, cols, :] += grad_out * (self.index == k)
        return crop(dxp, window, x_shape)
