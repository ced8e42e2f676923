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

In a data-parallel run (``modular_nn.distributed``) each process reads only its rows
of every global batch (``sharded_batches``): it draws the same blocks and orders from
the shared generator as ``batches`` does, and reads just its rows, sorted, from the
file (``take``), so no process reads another's rows or the whole source.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

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


def join_rows(parts: list[Values | None]) -> Values | None:
    """The rows of ``parts`` (arrays, dicts of arrays or Nones) one after the other."""
    first = parts[0]
    if first is None:
        return None
    if isinstance(first, dict):
        return {name: np.concatenate([p[name] for p in parts]) for name in first}  # type: ignore[index]
    return np.concatenate(parts)  # type: ignore[arg-type]


class LocalRows(NamedTuple):
    """This process's rows of one global batch of a data-parallel run, and the number of
    rows of that global batch (the gradients are weighted by the share of it)."""

    xs: Any
    ys: Any
    global_rows: int


class BatchSource:
    """Samples ``[start, stop)`` of a dataset, read in contiguous blocks.

    Subclasses implement ``_open()``, a context manager giving a reader object
    with ``read(start, stop) -> (x, y or None)`` in absolute row numbers (and, if it can
    read scattered rows at once, ``take(rows)`` for increasing absolute row numbers), and
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

    def _blocks(
        self, batch_size: int, rng: np.random.Generator | None
    ) -> Iterator[tuple[int, int, np.ndarray | None]]:
        """The blocks in reading order, ``(start, stop, order of their rows or None)``,
        drawn from ``rng`` in the same sequence by ``batches`` and ``sharded_batches``."""
        block = max(batch_size, self.block_rows // batch_size * batch_size)
        starts = np.arange(self.start, self.stop, block)
        if rng is not None:
            starts = starts[rng.permutation(len(starts))]
        for lo in starts.tolist():
            hi = min(lo + block, self.stop)
            yield lo, hi, None if rng is None else rng.permutation(hi - lo)

    def batches(self, batch_size: int, rng: np.random.Generator | None = None) -> Iterator[Batch]:
        """Yield ``(x, y)`` batches (``y`` None without labels); shuffled when ``rng`` is given."""
        with self._open() as reader:
            for lo, hi, order in self._blocks(batch_size, rng):
                x, y = reader.read(lo, hi)
                if order is not None:
                    x, y = pick_rows(x, order), pick_rows(y, order)  # type: ignore[assignment]
                for b in range(0, hi - lo, batch_size):
                    part = slice(b, b + batch_size)
                    yield self._finish(pick_rows(x, part), pick_rows(y, part))  # type: ignore[arg-type]

    def sharded_batches(
        self, batch_size: int, rng: np.random.Generator | None, rank: int, size: int
    ) -> Iterator[tuple[Values, Values | None, int]]:
        """Process ``rank`` of ``size``'s rows of each batch ``batches`` gives, and the rows of
        that whole batch: ``(x, y, global_rows)``. Only those rows are read, one read per
        batch; ``rng`` is consumed exactly as ``batches`` consumes it, so every process
        (each with the same generator) takes its part of the same global batches."""
        from modular_nn.distributed.world import shard_rows

        with self._open() as reader:
            for lo, hi, order in self._blocks(batch_size, rng):
                for b in range(0, hi - lo, batch_size):
                    rows = min(batch_size, hi - lo - b)
                    mine = shard_rows(rows, rank, size)
                    if order is None:
                        index = np.arange(lo + b + mine.start, lo + b + mine.stop)
                    else:
                        index = lo + order[b : b + rows][mine]
                    x, y = self._finish(*read_rows(reader, index))
                    yield x, y, rows


def read_rows(reader: Any, index: np.ndarray) -> Batch:
    """Rows ``index`` (absolute, distinct, in any order) of ``reader``, in that order.

    Rows are read in increasing order (HDF5 selections must be), with the reader's
    ``take`` if it has one, else one ``read`` per run of consecutive rows; then put
    back in the order asked for."""
    if len(index) == 0 or np.all(np.diff(index) == 1):  # one run, maybe empty
        lo = int(index[0]) if len(index) else 0
        return reader.read(lo, lo + len(index))  # type: ignore[no-any-return]
    ascending = np.sort(index)
    take = getattr(reader, "take", None)
    if take is not None:
        x, y = take(ascending)
    else:
        breaks = np.flatnonzero(np.diff(ascending) != 1) + 1
        runs = [reader.read(int(r[0]), int(r[-1]) + 1) for r in np.split(ascending, breaks)]
        x, y = join_rows([r[0] for r in runs]), join_rows([r[1] for r in runs])
    back = np.searchsorted(ascending, index)
    return pick_rows(x, back), pick_rows(y, back)  # type: ignore[return-value]


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


class NamedArraysReader:
    """A reader of a source's named arrays (HDF5 datasets, memory maps): ``read`` a range
    of rows, ``take`` increasing rows (one selection per array). ``open_array(key)``
    gives the array stored under ``key``; ``close`` is called at the end."""

    def __init__(self, source: Any, open_array: Any, close: Any) -> None:
        self.x = {name: open_array(key) for name, key in source.input_keys.items()}
        self.y = (
            {name: open_array(key) for name, key in source.target_keys.items()}
            if source.has_labels
            else None
        )
        self.named_x, self.named_y = source.inputs is not None, source.outputs is not None
        self.close = close

    def read(self, start: int, stop: int) -> Batch:
        return self._named(slice(start, stop))

    def take(self, rows: np.ndarray) -> Batch:
        return self._named(rows)

    def _named(self, index: slice | np.ndarray) -> Batch:
        # np.array: a copy in memory (not a view of a memory map that is closed after)
        x = {name: np.array(d[index]) for name, d in self.x.items()}
        y = None if self.y is None else {name: np.array(d[index]) for name, d in self.y.items()}
        return (
            x if self.named_x else x[_ONE],
            y if y is None or self.named_y else y[_ONE],
        )

    def __enter__(self) -> NamedArraysReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.x = self.y = {}
        self.close()


class _H5Reader(NamedArraysReader):
    def __init__(self, source: H5Source) -> None:
        import h5py

        file = h5py.File(source.path, "r")
        super().__init__(source, file.__getitem__, file.close)


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
