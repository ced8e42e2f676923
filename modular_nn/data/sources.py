"""Data read batch by batch: ``BatchSource`` and its HDF5 implementation.

``Model.fit``, ``evaluate`` and ``predict`` accept a ``BatchSource`` in place
of arrays. Only one block of rows is in memory at a time, so a dataset larger
than memory trains with bounded memory.

A source for a model with several inputs or outputs yields dicts of arrays
keyed by input and output name (``{"left": ..., "right": ...}``), which
``fit``, ``evaluate`` and ``predict`` take as they take arrays.

Shuffling reads blocks of ``block_rows`` contiguous rows (a multiple of the
batch size) in a random order and shuffles the rows within each block, all
drawn from the generator ``fit`` passes (the model's), so a run stays
reproducible. Every batch but the dataset's last is full.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from modular_nn.errors import DataError

#: One array, or one per input (or output) keyed by name.
Values = np.ndarray | dict[str, np.ndarray]
Batch = tuple[Values, "Values | None"]
#: A sample shape, or one per input keyed by name.
SampleShape = tuple[int, ...] | dict[str, tuple[int, ...]]


def value_rows(values: Values) -> int:
    """The number of samples of an array or of a dict of arrays (all the same)."""
    if isinstance(values, dict):
        return int(next(iter(values.values())).shape[0]) if values else 0
    return int(values.shape[0])


def pick_rows(values: Values | None, index: slice | np.ndarray) -> Values | None:
    """``values[index]``, for every array of a dict too (None stays None)."""
    if values is None:
        return None
    if isinstance(values, dict):
        return {name: array[index] for name, array in values.items()}
    return values[index]


class BatchSource:
    """Samples ``[start, stop)`` of a dataset, read in contiguous blocks.

    Subclasses implement ``_open()``, a context manager giving a reader object
    with ``read(start, stop) -> (x, y or None)`` in absolute row numbers, and
    set ``rows``, ``sample_shape`` and ``has_labels``. A reader may give dicts of
    arrays keyed by name (several inputs or outputs); ``sample_shape`` is then a
    dict of shapes by input name.

    Attributes:
        sample_shape: shape of one input sample (after ``reshaped``); a dict of them by
            input name when batches hold several inputs.
        has_labels: whether batches carry targets.
        block_rows: upper bound on the rows read at once while shuffling.
    """

    rows: int
    sample_shape: SampleShape
    has_labels: bool
    block_rows: int = 8192

    def __init__(self, start: int = 0, stop: int | None = None) -> None:
        self.start = start
        self.stop = self.rows if stop is None else stop
        self._reshape: SampleShape | None = None

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

    def reshaped(self, shape: SampleShape | Mapping[str, tuple[int, ...]]) -> BatchSource:
        """The same rows with each sample reshaped to ``shape`` (same number of elements);
        for a source of several inputs, a dict of shapes by input name."""
        have = self.sample_shape
        if isinstance(have, dict):
            if not isinstance(shape, Mapping) or set(shape) != set(have):
                wanted = list(shape) if isinstance(shape, Mapping) else "one input"
                raise DataError(
                    f"cannot reshape the inputs {list(have)} of {self!r}: expected a shape "
                    f"for each of them, received shapes for {wanted}"
                )
            new: SampleShape = {name: tuple(int(d) for d in shape[name]) for name in have}
            for name in have:
                check_reshape(have[name], new[name], name)
        else:
            if isinstance(shape, Mapping):
                raise DataError(
                    f"{self!r} holds one input; expected one shape, received shapes for "
                    f"{list(shape)}"
                )
            new = tuple(int(d) for d in shape)
            check_reshape(have, new)
        clone = self._copy()
        clone.sample_shape = new
        clone._reshape = new
        return clone

    # ----- reading ---------------------------------------------------------------------
    def _open(self) -> Any:
        """A context manager whose value has ``read(start, stop) -> (x, y or None)``."""
        raise NotImplementedError

    def _finish(self, x: Values, y: Values | None) -> Batch:
        shape = self._reshape
        if isinstance(shape, dict) and isinstance(x, dict):
            x = {name: a.reshape((a.shape[0], *shape[name])) for name, a in x.items()}
        elif shape is not None and not isinstance(x, dict):
            x = x.reshape((x.shape[0], *shape))  # type: ignore[misc]
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
                count = value_rows(x)
                if rng is not None:
                    order = rng.permutation(count)
                    x, y = pick_rows(x, order), pick_rows(y, order)  # type: ignore[assignment]
                for b in range(0, count, batch_size):
                    part = slice(b, b + batch_size)
                    yield self._finish(pick_rows(x, part), pick_rows(y, part))  # type: ignore[arg-type]


def held_out_rows(n: int, fraction: float) -> int:
    """How many of the last of ``n`` rows ``validation_split=fraction`` holds out, as Keras
    does: ``n - floor(n * (1 - fraction))``; ``DataError`` unless both parts have rows."""
    n_val = n - math.floor(n * (1 - fraction))
    if n_val < 1 or n_val >= n:
        raise DataError(
            f"validation_split={fraction} leaves no training or no validation samples out of {n}"
        )
    return n_val


def check_reshape(have: tuple[int, ...], want: tuple[int, ...], name: str | None = None) -> None:
    """Raise ``DataError`` unless samples of shape ``have`` can be reshaped to ``want``
    (``name``: the model input they are for, when it has several)."""
    if int(np.prod(have)) != int(np.prod(want)):
        if name is None:
            raise DataError(
                f"the data has {int(np.prod(have))} values per sample (shape {tuple(have)}) but "
                f"the model's input_shape {list(want)} needs {int(np.prod(want))}; check the "
                "columns or the label column"
            )
        raise DataError(
            f"input {name!r}: the data has {int(np.prod(have))} values per sample (shape "
            f"{tuple(have)}) but the model's input {name!r} of shape {list(want)} needs "
            f"{int(np.prod(want))}"
        )


class _H5Reader:
    def __init__(self, source: H5Source) -> None:
        import h5py

        self.file = h5py.File(source.path, "r")
        self.x = {name: self.file[key] for name, key in source.input_keys.items()}
        self.y = (
            {name: self.file[key] for name, key in source.target_keys.items()}
            if source.has_labels
            else None
        )
        self.named_x, self.named_y = source.inputs is not None, source.outputs is not None

    def read(self, start: int, stop: int) -> Batch:
        x = {name: d[start:stop] for name, d in self.x.items()}
        y = None if self.y is None else {name: d[start:stop] for name, d in self.y.items()}
        return (
            x if self.named_x else x[_ONE],
            y if y is None or self.named_y else y[_ONE],
        )

    def __enter__(self) -> _H5Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.file.close()


#: the key of the single input (or target) of a source that is not named
_ONE = ""


class H5Source(BatchSource):
    """Inputs and labels from datasets of an HDF5 file, read block by block.

    One input and one target come from ``x_key`` and ``y_key``. For a model with
    several inputs or outputs, ``inputs`` and ``outputs`` map each input (output)
    name to its dataset, and batches are dicts keyed by those names.

    Args:
        path: the ``.h5`` file.
        x_key: dataset of inputs, shape ``(n, *sample_shape)`` ("X").
        y_key: dataset of labels, first axis ``n`` ("y").
        labels: read labels (False for prediction).
        block_rows: rows read at once when shuffling (a multiple of the batch size is used).
        inputs: input name to dataset name (``{"left": "left", "right": "right"}``),
            in place of ``x_key``.
        outputs: output name to dataset name, in place of ``y_key``.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        x_key: str = "X",
        y_key: str = "y",
        *,
        labels: bool = True,
        block_rows: int = 8192,
        inputs: Mapping[str, str] | None = None,
        outputs: Mapping[str, str] | None = None,
    ) -> None:
        import h5py

        self.path = Path(path)
        self.x_key, self.y_key, self.has_labels = x_key, y_key, labels
        self.inputs = None if inputs is None else dict(inputs)
        self.outputs = None if outputs is None else dict(outputs)
        self.block_rows = block_rows
        self.input_keys = self.inputs if self.inputs is not None else {_ONE: x_key}
        self.target_keys = self.outputs if self.outputs is not None else {_ONE: y_key}
        try:
            with h5py.File(self.path, "r") as f:
                names = sorted(k for k in f if isinstance(f[k], h5py.Dataset))
                shapes = {}
                counts: dict[str, int | None] = {}
                x_hint = None if self.inputs is not None else ("--x-key", "x")
                y_hint = None if self.outputs is not None else ("--y-key", "y")
                for name, key in self.input_keys.items():
                    x = _dataset(f, key, names, self.path, x_hint)
                    if x.dtype.kind not in "biuf":
                        raise DataError(
                            f"{self.path}: {key!r} must be numeric, received dtype {x.dtype}"
                        )
                    shapes[name] = tuple(int(d) for d in x.shape[1:])
                    counts[key] = int(x.shape[0])
                if labels:
                    for key in self.target_keys.values():
                        y = _dataset(f, key, names, self.path, y_hint)
                        counts[key] = int(y.shape[0]) if y.shape else None
                _check_counts(self.path, counts)
        except FileNotFoundError:
            raise DataError(f"data file not found: {str(self.path)!r}") from None
        except OSError as exc:
            raise DataError(f"cannot read {str(self.path)!r} as HDF5: {exc}") from None
        self.rows = next(iter(counts.values())) or 0
        self.sample_shape = shapes if self.inputs is not None else shapes[_ONE]
        super().__init__()

    def _open(self) -> _H5Reader:
        return _H5Reader(self)

    def __repr__(self) -> str:
        return f"H5Source({str(self.path)!r}, rows {self.start}:{self.stop})"


def _check_counts(path: Path, counts: dict[str, int | None]) -> None:
    """``DataError`` unless every dataset (by name) has the same number of samples."""
    first, n = next(iter(counts.items()))
    for key, count in counts.items():
        if count != n:
            raise DataError(
                f"{path}: {first!r} has {n} samples but {key!r} has "
                f"{count if count is not None else 'no sample axis'}"
            )


def _dataset(f: Any, key: str, names: list[str], path: Path, hint: tuple[str, str] | None) -> Any:
    """The dataset ``key`` of ``f``; ``hint`` is the option and query key that choose it."""
    import h5py

    item = f.get(key)
    if not isinstance(item, h5py.Dataset) or item.ndim == 0:
        choose = f"; choose one with {hint[0]} (or {path.name}?{hint[1]}=NAME)" if hint else ""
        raise DataError(
            f"{path} has no dataset {key!r} with a sample axis; datasets: "
            f"{', '.join(names) or 'none'}{choose}"
        )
    return item


def h5_dataset_names(path: Path) -> list[str]:
    """The names of the datasets at the top of the HDF5 file ``path``, sorted."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            return sorted(k for k in f if isinstance(f[k], h5py.Dataset))
    except FileNotFoundError:
        raise DataError(f"data file not found: {str(path)!r}") from None
    except OSError as exc:
        raise DataError(f"cannot read {str(path)!r} as HDF5: {exc}") from None
