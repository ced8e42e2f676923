"""Loading a data source named by a string: ``builtin:NAME``, ``text:PATH`` or a file.

``text:PATH`` reads a UTF-8 text file as (window, next character) pairs for a
character-level language model (``modular_nn.data.text``).

Files, by extension:

- ``.npz``: arrays ``X`` (inputs) and ``y`` (labels) by default; other names
  with ``x_key``/``y_key``. Under an MPI launcher with several processes, an
  ``NpzSource`` (memory-mapped: each process reads only its rows).
- ``.npy``: inputs only (for prediction).
- ``.csv``: one sample per line, an optional header line (detected: a first
  line that is not all numbers); the label column is chosen by name or index
  (``label_column``, default the last column), every other column is a feature.
- ``.h5``/``.hdf5``: datasets ``X`` and ``y`` (``x_key``/``y_key``), read in
  blocks while training (a ``BatchSource``), never loaded whole.

For a model with several inputs or outputs (``inputs=model.input_shapes,
outputs=model.output_names``), ``.npz`` and ``.h5`` files name their arrays
after them: ``left``, ``right`` (inputs) and ``same`` (the target of output
``same``); inputs and labels are then dicts keyed by those names. A single
input may still be ``X`` (or ``x_key``) and a single target ``y``. CSV and
``.npy`` files hold one table or array and cannot feed several inputs.

Options may also follow the path as a query, which is how a spec's ``data``
can carry them: ``"train.csv?label=species"``, ``"d.npz?x=images&y=labels"``.
Options given as arguments win over the query.
"""

from __future__ import annotations

import csv
import os
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple
from urllib.parse import parse_qsl

import numpy as np

from modular_nn.data.builtin import load_builtin
from modular_nn.data.dataset import Dataset, Inputs
from modular_nn.data.images import IMAGES_PREFIX, load_images
from modular_nn.data.layout import Layout
from modular_nn.data.location import require_file
from modular_nn.data.npz import NpzSource
from modular_nn.data.sources import H5Source, h5_dataset_names
from modular_nn.data.text import TEXT_PREFIX, load_text
from modular_nn.distributed.world import launched_by_mpi
from modular_nn.errors import DataError
from modular_nn.model.inputs import all_finite

DATA_SUFFIXES = (".npz", ".npy", ".csv", ".h5", ".hdf5")
_QUERY_KEYS = {"x": "x_key", "y": "y_key", "label": "label_column"}


def parse_source(source: str | os.PathLike[str]) -> tuple[Path, dict[str, str]]:
    """Split ``"path?x=images&label=3"`` into the path and its options."""
    text = os.fspath(source)
    if "?" not in text or Path(text).exists():
        return Path(text), {}
    path, _, query = text.partition("?")
    options: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key not in _QUERY_KEYS:
            raise DataError(
                f"unknown data option {key!r} in {text!r}; expected "
                + ", ".join(f"{k}=" for k in _QUERY_KEYS)
            )
        options[_QUERY_KEYS[key]] = value
    return Path(path), options


def load_data(
    source: str | os.PathLike[str],
    *,
    x_key: str | None = None,
    y_key: str | None = None,
    label_column: str | int | None = None,
    labels: bool = True,
    input_shape: Sequence[int] | None = None,
    inputs: Mapping[str, Sequence[int]] | None = None,
    outputs: Sequence[str] | None = None,
    class_names: Sequence[str] | None = None,
) -> Dataset:
    """Load ``source`` (``builtin:NAME`` or a file path) into a ``Dataset``.

    Args:
        source: ``builtin:NAME`` or a path, optionally with a ``?x=..&y=..&label=..`` query.
        x_key, y_key: array or dataset names in ``.npz``/``.h5`` files ("X", "y").
        label_column: name or index of the label column of a ``.csv`` (default: the last).
        labels: False to load inputs only (prediction); a CSV then uses every column as a
            feature unless ``label_column`` names one to drop.
        input_shape: reshape each sample to it (same number of values), e.g. a model's.
        inputs: the model's inputs, name to shape (``model.input_shapes``), in place of
            ``input_shape``: arrays are found by these names and reshaped to them.
        outputs: the model's output names (``model.output_names``): targets are found by
            these names.
        class_names: a CSV's label names are encoded as indices into these (a trained
            model's ``class_names``; a name outside them is a ``DataError``); by default
            into the file's sorted distinct names (``Dataset.class_names``).

    With several inputs (outputs), inputs (labels) are dicts keyed by name.
    Raises ``DataError`` with a message naming the problem (missing file or
    key, ragged or non-numeric CSV, NaN values, unknown built-in, arrays that do
    not match the model's inputs and outputs).
    """
    text = os.fspath(source)
    if inputs is not None and input_shape is not None:
        raise DataError("give the model's input_shape or its named inputs, not both")
    layout = None if inputs is None and outputs is None else Layout.of(inputs, outputs, labels)
    if text.startswith(TEXT_PREFIX):
        return load_text(text, input_shape if inputs is None else inputs)
    if text.startswith(IMAGES_PREFIX):  # a folder per class: modular_nn.data.images
        return load_images(text, input_shape if inputs is None else inputs, labels=labels)
    if text.startswith("builtin:"):
        if layout is None:
            return load_builtin(text, input_shape)
        return layout.arrange(load_builtin(text))
    path, options = parse_source(text)
    x_key = x_key if x_key is not None else options.get("x_key")
    y_key = y_key if y_key is not None else options.get("y_key")
    label = label_column if label_column is not None else options.get("label_column")
    suffix = path.suffix.lower()
    if suffix not in DATA_SUFFIXES:
        raise DataError(
            f"unsupported data source {text!r}: expected builtin:NAME or a file ending in "
            + ", ".join(DATA_SUFFIXES)
            + f" (or {TEXT_PREFIX}PATH: a UTF-8 text file's characters)"
        )
    if layout is not None and suffix in (".csv", ".npy"):
        layout.check_single_table(path)
    require_file(path)
    if layout is not None and suffix in (".npz", ".h5", ".hdf5"):
        return layout.arrange(_read_named(path, text, layout, x_key, y_key))
    x_key, y_key = x_key or "X", y_key or "y"
    names = None
    if suffix in (".h5", ".hdf5"):
        x, y = H5Source(path, x_key, y_key, labels=labels), None
    elif suffix == ".npz" and launched_by_mpi():  # each process reads only its rows
        _require_magic(path, ZIP_MAGICS, ".npz")
        x, y = NpzSource(path, x_key, y_key, labels=labels), None
    elif suffix == ".npz":
        x, y = _read_npz(path, x_key, y_key if labels else None)
    elif suffix == ".npy":
        if labels:
            raise DataError(
                f"{path} holds inputs only (.npy); training and evaluation need labels: "
                "use .npz, .csv or .h5"
            )
        x, y = _load_array(path), None
    else:
        x, y, names = read_csv_table(path, label, labels=labels, class_names=class_names)
    dataset = Dataset(x, y, name=text, class_names=names)
    if layout is not None:
        return layout.arrange(dataset)
    return dataset if input_shape is None else dataset.reshaped(input_shape)


def load_inputs(
    source: str | os.PathLike[str],
    *,
    x_key: str | None = None,
    label_column: str | int | None = None,
    input_shape: Sequence[int] | None = None,
    inputs: Mapping[str, Sequence[int]] | None = None,
) -> Inputs:
    """Inputs only: an array (``.npy``, ``.csv``, ``.npz``, a built-in's test split) or,
    for ``.h5``, a ``BatchSource`` read in blocks; with several ``inputs`` (name to
    shape), a dict of arrays keyed by input name (or a source yielding them)."""
    text = os.fspath(source)
    if text.startswith("builtin:"):
        held_out = load_data(text, labels=False, input_shape=input_shape, inputs=inputs)
        return held_out.held_out()[0]
    return load_data(
        text,
        x_key=x_key,
        label_column=label_column,
        labels=False,
        input_shape=input_shape,
        inputs=inputs,
    ).x_train


def _read_named(
    path: Path, text: str, layout: Layout, x_key: str | None, y_key: str | None
) -> Dataset:
    """A ``.npz`` or ``.h5`` file's arrays for ``layout``: dicts keyed by name where the
    model has several inputs or outputs (a source read in blocks for ``.h5``)."""
    if path.suffix.lower() == ".npz":
        _require_magic(path, ZIP_MAGICS, ".npz")
        try:
            with np.load(path, allow_pickle=False) as f:
                inputs, targets = layout.resolve(path, list(f.keys()), "array", x_key, y_key)
                x = {n: _check_numeric(path, k, f[k]) for n, k in inputs.items()}
                y = {n: _check_numeric(path, k, f[k]) for n, k in targets.items()}
        except (OSError, ValueError, zipfile.BadZipFile) as exc:
            raise DataError(f"cannot read {str(path)!r} as a .npz archive: {exc}") from None
        counts = {inputs[n]: a.shape[0] for n, a in x.items()}
        counts.update({targets[n]: a.shape[0] for n, a in y.items()})
        first, n = next(iter(counts.items()))
        for key, count in counts.items():
            if count != n:
                raise DataError(f"{path}: {first!r} has {n} samples but {key!r} has {count}")
        return Dataset(x, y or None, name=text)
    found = h5_dataset_names(path)
    inputs, targets = layout.resolve(path, found, "dataset", x_key, y_key)
    if not layout.several:  # one input, one target: arrays, as always
        key = next(iter(inputs.values()))
        y_name = next(iter(targets.values()), "y")
        source = H5Source(path, key, y_name, labels=bool(targets))
    else:
        source = H5Source(path, inputs=inputs, outputs=targets or None, labels=bool(targets))
    return Dataset(source, None, name=text)


# ----- formats ---------------------------------------------------------------------------
def _check_numeric(path: Path, name: str, arr: np.ndarray) -> np.ndarray:
    if arr.dtype.kind not in "biuf":
        raise DataError(f"{path}: {name!r} must be numeric, received dtype {arr.dtype}")
    if arr.ndim == 0:
        raise DataError(f"{path}: {name!r} is a scalar; expected one row per sample")
    if not all_finite(arr):  # one pass, no elementwise temporary unless something is wrong
        bad = np.argwhere(~np.isfinite(arr))[0]
        count = int(np.count_nonzero(~np.isfinite(arr)))
        raise DataError(
            f"{path}: {name!r} contains {count} NaN or infinite value(s), the first at sample "
            f"{int(bad[0])}; clean the data first"
        )
    return arr


#: The first bytes of a .npy file, and of a .npz archive (a zip file; or an empty one).
NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")


def _require_magic(path: Path, magics: tuple[bytes, ...], what: str) -> None:
    """``DataError`` unless ``path`` starts as a ``what`` file does (numpy would otherwise
    try it as a pickle, and suggest loading it unsafely)."""
    try:
        with open(path, "rb") as f:
            head = f.read(max(len(m) for m in magics))
    except OSError as exc:
        raise DataError(f"cannot read {str(path)!r}: {exc}") from None
    if not any(head.startswith(m) for m in magics):
        raise DataError(f"{str(path)!r} is not a {what} file (it does not start as one does)")


def _load_array(path: Path) -> np.ndarray:
    _require_magic(path, (NPY_MAGIC,), ".npy")
    try:
        arr = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read {str(path)!r} as a .npy array: {exc}") from None
    return _check_numeric(path, "array", arr)


def _read_npz(path: Path, x_key: str, y_key: str | None) -> tuple[np.ndarray, np.ndarray | None]:
    _require_magic(path, ZIP_MAGICS, ".npz")
    try:
        with np.load(path, allow_pickle=False) as f:
            names = list(f.keys())
            wanted = [x_key] if y_key is None else [x_key, y_key]
            for key, flag, query in zip(wanted, ("--x-key", "--y-key"), ("x", "y")):
                if key not in names:
                    raise DataError(
                        f"{path} has no array {key!r}; arrays: {', '.join(names) or 'none'}; "
                        f"choose one with {flag} (or {path.name}?{query}=NAME)"
                    )
            x = _check_numeric(path, x_key, f[x_key])
            y = None if y_key is None else _check_numeric(path, y_key, f[y_key])
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise DataError(f"cannot read {str(path)!r} as a .npz archive: {exc}") from None
    if y is not None and y.shape[0] != x.shape[0]:
        raise DataError(
            f"{path}: {x_key!r} has {x.shape[0]} samples but {y_key!r} has {y.shape[0]}"
        )
    return x, y


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _label_index(label: str | int | None, header: list[str] | None, width: int, path: Path) -> int:
    if label is None:
        return width - 1
    if isinstance(label, str) and not label.lstrip("-").isdigit():
        if header is None:
            raise DataError(
                f"label column {label!r} not found: {path} has no header line; "
                "give the column's index instead"
            )
        if label not in header:
            raise DataError(
                f"label column {label!r} not found in {path}; columns: {', '.join(header)}"
            )
        return header.index(label)
    index = int(label)
    if not -width <= index < width:
        raise DataError(
            f"label column {index} is out of range: {path} has {width} columns "
            f"(0 to {width - 1}, or negative from the end)"
        )
    return index % width


def read_csv(
    path: Path,
    label_column: str | int | None = None,
    *,
    labels: bool = True,
    class_names: Sequence[str] | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Features (float64) and labels (int64 when all whole, else float64) of a CSV file:
    the values the text holds, which the model casts to its own dtype. Labels that are
    names become class indices (``read_csv_table`` also gives the names)."""
    table = read_csv_table(path, label_column, labels=labels, class_names=class_names)
    return table.x, table.y


class CsvTable(NamedTuple):
    """A CSV file's features, labels, and the class names when its labels are names."""

    x: np.ndarray
    y: np.ndarray | None
    class_names: tuple[str, ...] | None


def _is_header(rows: list[tuple[int, list[str]]]) -> bool:
    """A first line is a header when it has more text fields than the line after it (a
    data line may hold text too: its label, a class name). Empty fields are missing
    numbers, reported later."""

    def text_fields(row: list[str]) -> int:
        return sum(1 for v in row if v.strip() and not _is_number(v))

    first = text_fields(rows[0][1])
    return first > 0 and (len(rows) == 1 or first > text_fields(rows[1][1]))


def read_csv_table(
    path: Path,
    label_column: str | int | None = None,
    *,
    labels: bool = True,
    class_names: Sequence[str] | None = None,
) -> CsvTable:
    """Read a CSV file: every column but the label column is a number (a feature).

    The label column holds numbers, or names (``malignant``, ``class_0``). Names
    become class indices: with ``class_names`` (a trained model's), the index of
    each name in it, and a name outside it is a ``DataError`` naming it and the
    known ones; without, the index in the sorted distinct names of the file. With
    ``class_names`` given, labels are always read as names.
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = [(i, row) for i, row in enumerate(csv.reader(f), start=1) if row]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"cannot read {str(path)!r} as CSV: {exc}") from None
    if not rows:
        raise DataError(f"{path} is empty")
    header: list[str] | None = None
    if _is_header(rows):
        header = [v.strip() for v in rows[0][1]]
        rows = rows[1:]
    if not rows:
        raise DataError(f"{path} has a header but no data lines")
    width = len(header) if header is not None else len(rows[0][1])
    names = header or [str(i) for i in range(width)]
    index = None
    if labels or label_column is not None:
        index = _label_index(label_column, header, width, path)
        if width < 2 and labels:
            raise DataError(f"{path} has a single column: no features beside the label column")
    values = np.empty((len(rows), width), dtype=np.float64)
    label_text: list[str] = []
    for r, (line, row) in enumerate(rows):
        if len(row) != width:
            raise DataError(f"{path}, line {line}: expected {width} columns, received {len(row)}")
        for c, field in enumerate(row):
            if c == index:
                label_text.append(field.strip())
                if labels and class_names is None and (_is_number(field) or not field.strip()):
                    values[r, c] = _number(path, line, names[c], field, False)  # NaN: refused
                continue
            values[r, c] = _number(path, line, names[c], field, index is None)
    if index is None:
        return CsvTable(values, None, None)
    features = np.delete(values, index, axis=1)
    if not labels:
        return CsvTable(features, None, None)
    column = repr(names[index]) if header is not None else str(index)
    if "" in label_text:
        line = rows[label_text.index("")][0]
        raise DataError(f"{path}, line {line}, label column {column}: missing label")
    numeric = [_is_number(text) for text in label_text]
    if class_names is None and any(numeric) and not all(numeric):
        line = rows[numeric.index(False)][0]
        raise DataError(
            f"{path}, line {line}, column {names[index]!r}: expected a number, received "
            f"{label_text[numeric.index(False)]!r} (the other labels are numbers; labels "
            "that are class names must all be names)"
        )
    if class_names is not None or not any(numeric):
        y, found = encode_labels(label_text, class_names, f"{path}, label column {column}")
        return CsvTable(features, y, found)
    y = values[:, index]
    y = y.astype(np.int64) if np.all(y == np.round(y)) else y
    return CsvTable(features, y, None)


def _number(path: Path, line: int, column: str, field: str, all_features: bool) -> float:
    """A feature's value, or ``DataError`` naming the line and column."""
    try:
        value = float(field) if field.strip() else np.nan
    except ValueError:
        hint = (
            "; if it is the label column, leave it out with --label-column" if all_features else ""
        )
        raise DataError(
            f"{path}, line {line}, column {column!r}: expected a number, received {field!r}{hint}"
        ) from None
    if not np.isfinite(value):
        raise DataError(
            f"{path}, line {line}, column {column!r}: missing, NaN or infinite value "
            f"{field!r}; clean the data first"
        )
    return value


def encode_labels(
    labels: Sequence[str], class_names: Sequence[str] | None, where: str
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Class indices (int64) of label names, and the names: ``class_names`` when given
    (a name outside them is a ``DataError`` naming it and the known ones), else the
    sorted distinct ``labels``."""
    names = tuple(sorted(set(labels))) if class_names is None else tuple(class_names)
    index = {name: k for k, name in enumerate(names)}
    unseen = sorted({name for name in labels if name not in index})
    if unseen:
        shown = ", ".join(repr(n) for n in unseen[:5]) + (" ..." if len(unseen) > 5 else "")
        raise DataError(
            f"{where}: {len(unseen)} label(s) the model does not know: {shown}; "
            f"its classes are {', '.join(repr(n) for n in names)}"
        )
    return np.array([index[name] for name in labels], dtype=np.int64), names
