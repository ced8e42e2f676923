"""``NpzSource``: the arrays of a ``.npz`` archive read by rows, without loading them.

An uncompressed member (``np.savez``) is memory-mapped at its offset in the zip file
(the zip local header, then the ``.npy`` header, give where its data starts), so a
process reads only the rows it asks for: in a data-parallel run, its rows of each
global batch (``BatchSource.sharded_batches``). A compressed member
(``np.savez_compressed``) cannot be read by slices: it is loaded whole.

The source is one block (``block_rows`` unbounded): shuffled, its batches are those of
``fit`` on the same arrays (one permutation of all the rows, from the same generator),
so training on an ``NpzSource`` gives the weights training on the arrays gives.
"""

from __future__ import annotations

import os
import struct
import sys
import zipfile
from collections.abc import Iterator, Mapping
from functools import partial
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

from modular_nn.data.sources import _ONE, Batch, BatchSource, NamedArraysReader, _check_counts
from modular_nn.errors import DataError

#: the fixed part of a zip local file header; its name and extra lengths are at 26 and 28
LOCAL_HEADER = 30


def _member(path: Path, archive: zipfile.ZipFile, key: str) -> np.ndarray:
    """The array ``key`` of the archive: a read-only memory map where it is stored
    uncompressed, else the array loaded whole."""
    info = archive.getinfo(f"{key}.npy")
    if info.compress_type != zipfile.ZIP_STORED:
        with archive.open(info) as f:
            return np.asarray(npy_format.read_array(f, allow_pickle=False))
    with open(path, "rb") as f:
        f.seek(info.header_offset)
        header = f.read(LOCAL_HEADER)
        name_length, extra_length = struct.unpack("<HH", header[26:30])
        f.seek(info.header_offset + LOCAL_HEADER + name_length + extra_length)
        version = npy_format.read_magic(f)
        read_header = (
            npy_format.read_array_header_1_0
            if version == (1, 0)
            else npy_format.read_array_header_2_0
        )
        shape, fortran, dtype = read_header(f)
        offset = f.tell()
    if dtype.hasobject:
        raise DataError(f"{path}: {key!r} holds Python objects; expected numbers")
    if int(np.prod(shape)) == 0:
        return np.empty(shape, dtype)
    return np.memmap(path, dtype, "r", offset, shape, "F" if fortran else "C")


class NpzSource(BatchSource):
    """Inputs and labels from arrays of a ``.npz`` file, read by rows (memory-mapped).

    Args as ``H5Source``: ``x_key`` and ``y_key`` name the arrays of one input and one
    target; ``inputs`` and ``outputs`` map input (output) names to arrays for several.
    """

    block_rows = sys.maxsize

    def __init__(
        self,
        path: str | os.PathLike[str],
        x_key: str = "X",
        y_key: str = "y",
        *,
        labels: bool = True,
        inputs: Mapping[str, str] | None = None,
        outputs: Mapping[str, str] | None = None,
    ) -> None:
        self.path = Path(path)
        self.x_key, self.y_key, self.has_labels = x_key, y_key, labels
        self.inputs = None if inputs is None else dict(inputs)
        self.outputs = None if outputs is None else dict(outputs)
        self.input_keys = self.inputs if self.inputs is not None else {_ONE: x_key}
        self.target_keys = self.outputs if self.outputs is not None else {_ONE: y_key}
        try:
            with zipfile.ZipFile(self.path) as archive:
                names = sorted(n[:-4] for n in archive.namelist() if n.endswith(".npy"))
                shapes, counts = {}, {}
                wanted = [("--x-key", "x", self.input_keys, self.inputs)]
                if labels:
                    wanted.append(("--y-key", "y", self.target_keys, self.outputs))
                for flag, query, keys, named in wanted:
                    for name, key in keys.items():
                        if key not in names:
                            hint = "" if named else f"; choose one with {flag} (or ?{query}=NAME)"
                            raise DataError(
                                f"{self.path} has no array {key!r}; arrays: "
                                f"{', '.join(names) or 'none'}{hint}"
                            )
                        array = _member(self.path, archive, key)
                        if array.dtype.kind not in "biuf" or array.ndim == 0:
                            raise DataError(
                                f"{self.path}: {key!r} must be numeric with a sample axis, "
                                f"received dtype {array.dtype}, shape {array.shape}"
                            )
                        counts[key] = int(array.shape[0])
                        if keys is self.input_keys:
                            shapes[name] = tuple(int(d) for d in array.shape[1:])
                        del array
        except FileNotFoundError:
            raise DataError(f"data file not found: {str(self.path)!r}") from None
        except (OSError, ValueError, zipfile.BadZipFile) as exc:
            raise DataError(f"cannot read {str(self.path)!r} as a .npz archive: {exc}") from None
        _check_counts(self.path, counts)
        self.rows = next(iter(counts.values()))
        self.sample_shape = shapes if self.inputs is not None else shapes[_ONE]
        super().__init__()

    def _open(self) -> NamedArraysReader:
        archive = zipfile.ZipFile(self.path)
        return NamedArraysReader(self, partial(_member, self.path, archive), archive.close)

    def batches(self, batch_size: int, rng: np.random.Generator | None = None) -> Iterator[Batch]:
        """As ``BatchSource.batches``, reading each batch's rows alone (not the block)."""
        for x, y, _ in self.sharded_batches(batch_size, rng, 0, 1):
            yield x, y

    def __repr__(self) -> str:
        return f"NpzSource({str(self.path)!r}, rows {self.start}:{self.stop})"
