"""Data read batch by batch: ``BatchSource`` and its HDF5 implementation.

``Model.fit``, ``evaluate`` and ``predict`` accept a ``BatchSource`` in place
of arrays. Only one block of rows is in memory at a time, so a dataset larger
than memory trains with bounded memory.

Shuffling reads blocks of ``block_rows`` contiguous rows (a multiple of the
batch size) in a random order and shuffles the rows within each block, all
drawn from the generator ``fit`` passes (the model's), so a run stays
reproducible. Every batch but the dataset's last is full.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from modular_nn.errors import DataError

Batch = tuple[np.ndarray, "np.ndarray | None"]


class BatchSource:
    """Samples ``[start, stop)`` of a dataset, read in contiguous blocks.

    Subclasses implement ``_open()``, a context manager giving a reader object
    with ``read(start, stop) -> (x, y or None)`` in absolute row numbers, and
    set ``rows``, ``sample_shape`` and ``has_labels``.

    Attributes:
        sample_shape: shape of one input sample (after ``reshaped``).
        has_labels: whether batches carry targets.
        block_rows: upper bound on the rows read at once while shuffling.
    """

    rows: int
    sample_shape: tuple[int, ...]
    has_labels: bool
    block_rows: int = 8192

    def __init__(self, start: int = 0, stop: int | None = None) -> None:
        self.start = start
        self.stop = self.rows if stop is None else stop
        self._reshape: tuple[int, ...] | None = None

    def __len__(self) -> int:
        return self.stop - self.start

    # ----- views ---------------------------------------------------------------------
    def _copy(self) -> BatchSource:
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        return clone

    def subset(self, start: int, stop: int) -> BatchSource:
        """Rows ``start`` to ``stop`` of this source (relative), as a new source."""
        if not 0 <= start <= stop <= len(self):
            raise DataError(f"subset [{start}, {stop}) is outside the {len(self)} samples")
        clone = self._copy()
        clone.start, clone.stop = self.start + start, self.start + stop
        return clone

    def split(self, fraction: float) -> tuple[BatchSource, BatchSource]:
        """(first ``1 - fraction``, last ``fraction``) of the rows, as Keras's validation_split."""
        n_val = held_out_rows(len(self), fraction)
        return self.subset(0, len(self) - n_val), self.subset(len(self) - n_val, len(self))

    def reshaped(self, shape: tuple[int, ...]) -> BatchSource:
        """The same rows with each sample reshaped to ``shape`` (same number of elements)."""
        check_reshape(self.sample_shape, shape)
        clone = self._copy()
        clone.sample_shape = tuple(shape)
        clone._reshape = tuple(shape)
        return clone

    # ----- reading ---------------------------------------------------------------------
    def _open(self) -> Any:
        """A context manager whose value has ``read(start, stop) -> (x, y or None)``."""
        raise NotImplementedError

    def _finish(self, x: np.ndarray, y: np.ndarray | None) -> Batch:
        if self._reshape is not None:
            x = x.reshape((x.shape[0], *self._reshape))
        return x, y

    def batches(self, batch_size: int, rng: np.random.Generator | None = None) -> Iterator[Batch]:
        """Yield ``(x, y)`` batches (``y`` None without labels); shuffled when ``rng`` is given."""
        block = max(batch_size, self.block_rows // batch_size * batch_size)
        starts = np.arange(self.start, self.stop, block)
        if rng is not None:
            starts = starts[rng.permutation(len(starts))]
        with self._open() as reader:
            for lo in starts.tolist():
                x, y = reader.read(lo, min(lo + block, self.stop))
                if rng is not None:
                    order = rng.permutation(x.shape[0])
                    x, y = x[order], (None if y is None else y[order])
                for b in range(0, x.shape[0], batch_size):
                    yield self._finish(
                        x[b : b + batch_size], None if y is None else y[b : b + batch_size]
                    )


def held_out_rows(n: int, fraction: float) -> int:
    """How many of the last of ``n`` rows ``validation_split=fraction`` holds out, as Keras
    does: ``n - floor(n * (1 - fraction))``; ``DataError`` unless both parts have rows."""
    n_val = n - math.floor(n * (1 - fraction))
    if n_val < 1 or n_val >= n:
        raise DataError(
            f"validation_split={fraction} leaves no training or no validation samples out of {n}"
        )
    return n_val


def check_reshape(have: tuple[int, ...], want: tuple[int, ...]) -> None:
    """Raise ``DataError`` unless samples of shape ``have`` can be reshaped to ``want``."""
    if int(np.prod(have)) != int(np.prod(want)):
        raise DataError(
            f"the data has {int(np.prod(have))} values per sample (shape {tuple(have)}) but the "
            f"model's input_shape {list(want)} needs {int(np.prod(want))}; check the columns "
            "or the label column"
        )


class _H5Reader:
    def __init__(self, source: H5Source) -> None:
        import h5py

        self.file = h5py.File(source.path, "r")
        self.x = self.file[source.x_key]
        self.y = self.file[source.y_key] if source.has_labels else None

    def read(self, start: int, stop: int) -> Batch:
        x = self.x[start:stop]
        return x, None if self.y is None else self.y[start:stop]

    def __enter__(self) -> _H5Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.file.close()


class H5Source(BatchSource):
    """Inputs and labels from two datasets of an HDF5 file, read block by block.

    Args:
        path: the ``.h5`` file.
        x_key: dataset of inputs, shape ``(n, *sample_shape)`` ("X").
        y_key: dataset of labels, first axis ``n`` ("y").
        labels: read labels (False for prediction).
        block_rows: rows read at once when shuffling (a multiple of the batch size is used).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        x_key: str = "X",
        y_key: str = "y",
        *,
        labels: bool = True,
        block_rows: int = 8192,
    ) -> None:
        import h5py

        self.path = Path(path)
        self.x_key, self.y_key, self.has_labels = x_key, y_key, labels
        self.block_rows = block_rows
        try:
            with h5py.File(self.path, "r") as f:
                names = sorted(k for k in f if isinstance(f[k], h5py.Dataset))
                x = _dataset(f, x_key, names, self.path, "--x-key", "x")
                if x.dtype.kind not in "biuf":
                    raise DataError(
                        f"{self.path}: {x_key!r} must be numeric, received dtype {x.dtype}"
                    )
                self.rows, self.sample_shape = int(x.shape[0]), tuple(int(d) for d in x.shape[1:])
                if labels:
                    y = _dataset(f, y_key, names, self.path, "--y-key", "y")
                    if y.shape[:1] != x.shape[:1]:
                        raise DataError(
                            f"{self.path}: {x_key!r} has {x.shape[0]} samples but {y_key!r} "
                            f"has {y.shape[0] if y.shape else 'no sample axis'}"
                        )
        except FileNotFoundError:
            raise DataError(f"data file not found: {str(self.path)!r}") from None
        except OSError as exc:
            raise DataError(f"cannot read {str(self.path)!r} as HDF5: {exc}") from None
        super().__init__()

    def _open(self) -> _H5Reader:
        return _H5Reader(self)

    def __repr__(self) -> str:
        return f"H5Source({str(self.path)!r}, rows {self.start}:{self.stop})"


def _dataset(f: Any, key: str, names: list[str], path: Path, flag: str, query: str) -> Any:
    import h5py

    item = f.get(key)
    if not isinstance(item, h5py.Dataset) or item.ndim == 0:
        raise DataError(
            f"{path} has no dataset {key!r} with a sample axis; datasets: "
            f"{', '.join(names) or 'none'}; choose one with {flag} (or {path.name}?{query}=NAME)"
        )
    return item
