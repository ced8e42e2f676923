"""2-D max pooling over NHWC images."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from modular_nn.export.builder import OnnxBuilder
from modular_nn.layers.pooling import Pool2D
from modular_nn.layers.windows import crop, pad


def first_max(views: Sequence[np.ndarray], track: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Elementwise maximum of ``views`` and, if ``track``, the index of the first view reaching it.

    Strict comparisons keep the earliest index on ties, as PyTorch does; where the
    maximum is NaN, the index is that of the first NaN (also as PyTorch does). With
    two views and no NaN the index is boolean (True for the second), which compares
    as 0 and 1.
    """
    if len(views) == 1:
        return views[0].copy(), (np.zeros(views[0].shape, dtype=np.uint8) if track else None)
    best = np.maximum(views[0], views[1])
    index = (views[1] > views[0]) if track else None
    if index is not None and len(views) > 2:
        index = index.astype(np.min_scalar_type(len(views) - 1))
    for k, view in enumerate(views[2:], start=2):
        if index is not None:  # index = k where view > best (arithmetic: np.where is slow)
            greater = view > best
            index *= ~greater
            index += greater * index.dtype.type(k)
        np.maximum(best, view, out=best)
    if index is not None and best.dtype.kind == "f" and _may_hold_nan(best):
        index = _first_nan(views, best, index)
    return best, index


def _may_hold_nan(a: np.ndarray) -> bool:
    """False when ``a`` surely holds no NaN (one pass, no temporary: its sum is not NaN)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isnan(np.add.reduce(a, axis=None)))


def _first_nan(views: Sequence[np.ndarray], best: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``index`` where ``best`` is NaN set to the first view holding a NaN there (no
    comparison with a NaN is true, so the loop of ``first_max`` cannot find it)."""
    undecided = np.isnan(best)
    if not undecided.any():
        return index
    index = index.astype(np.min_scalar_type(len(views) - 1))
    for k, view in enumerate(views):
        hit = undecided & np.isnan(view)
        index[hit] = k
        undecided &= ~hit
    return index


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
    reshaped view. In training the window elements are first copied position by
    position into one contiguous block each (``(ph * pw, n, oh, ow, c)``): with few
    channels, NumPy is several times faster on such blocks than on the strided
    views; backward visits the blocks in row-major order and gives each window's
    gradient to the first element equal to its maximum (a window holding NaN, to
    its first NaN). Outside training the
    maximum is taken across the window's rows (whole image rows, contiguous),
    then across its columns, without a copy. Overlapping windows loop over the
    window positions, tracking the first maximum's index. Nothing loops over pixels.
    """

    type_name = "max_pool2d"

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        window = self.window
        self.tiled = window.strides == window.kernel
        xp = pad(x, window, -np.inf)
        if self.tiled:
            x6 = self._tiles(xp)  # (n, oh, ph, ow, pw, c)
            ph, pw = window.kernel
            if training:  # one contiguous block per window position, kept for backward
                blocks = np.ascontiguousarray(x6.transpose(2, 4, 0, 1, 3, 5))
                self.blocks = blocks.reshape(ph * pw, *blocks.shape[2:])
                y, _ = first_max(list(self.blocks), False)
            else:  # across the window's rows (contiguous runs), then its columns
                self.blocks = None
                column_max, _ = first_max([x6[:, :, i] for i in range(ph)], False)
                y, _ = first_max([column_max[:, :, :, j] for j in range(pw)], False)
            self.y, self.tracked = y, training
        else:
            views = [xp[:, rows, cols, :] for _, _, (rows, cols) in window.slices()]
            y, self.index = first_max(views, training)
            self.tracked = training
        # backward needs the argmax; outside training keep x and find it if asked
        self.x = x
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
            # each window's gradient goes to its first element (row-major) equal to its max
            blocks = self.blocks
            grads = np.empty_like(blocks, dtype=grad_out.dtype)
            unclaimed = None  # windows whose first maximum is still to come
            for k in range(ph * pw):
                hit = blocks[k] == self.y
                if unclaimed is None:
                    unclaimed = ~hit
                else:
                    hit &= unclaimed
                    unclaimed &= ~hit
                np.multiply(grad_out, hit, out=grads[k])
            if unclaimed is not None and unclaimed.any():  # NaN windows: max == NaN never
                for k in range(ph * pw):  # the window's first NaN gets the gradient
                    hit = np.isnan(blocks[k]) & unclaimed
                    unclaimed &= ~hit
                    grads[k] += grad_out * hit
            # back to (n, oh, ph, ow, pw, c): one strided copy
            self._tiles(dxp)[...] = grads.reshape(ph, pw, *grads.shape[1:]).transpose(
                2, 3, 0, 4, 1, 5
            )
        else:
            for k, (_, _, (rows, cols)) in enumerate(window.slices()):
                dxp[:, rows, cols, :] += grad_out * (self.index == k)
        return crop(dxp, window, x_shape)

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        # ONNX MaxPool never picks a padded element, as the -inf padding here
        return builder.pool2d("MaxPool", inputs[0], self.window)
