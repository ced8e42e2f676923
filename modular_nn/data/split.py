"""A seeded, stratified split of a file's rows into training, validation and test rows,
and the record of what a model was trained on (kept in its checkpoint).

The split (``split_rows``), for ``n`` rows, fractions ``test`` and ``validation``:

- sizes: ``round(n * test)`` test rows and ``round(n * validation)`` validation
  rows (at least one of each when its fraction is above 0), the rest for training;
- stratified (``classes`` given): each class gets its share of the test rows,
  then of the validation rows, by largest remainder, so that every class's
  share of a part is within one row of its share of the file; within a class,
  rows are drawn by ``numpy.random.default_rng(seed).permutation``, classes in
  increasing order;
- not stratified: ``default_rng(seed).permutation(n)``, the first rows to test,
  the next to validation.

Each part lists its row numbers in increasing order (the file's order). The
row numbers themselves are what a checkpoint records (``/data/split``), so the
same rows are held out at evaluation whatever this code becomes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from modular_nn.data.dataset import Dataset, num_samples
from modular_nn.data.sources import BatchSource, pick_rows
from modular_nn.errors import DataError

METHOD_STRATIFIED = "stratified"
METHOD_RANDOM = "random"


@dataclass(frozen=True)
class Split:
    """Row numbers of the test and validation parts (sorted); the rest train."""

    samples: int
    seed: int
    method: str
    test_split: float
    validation_split: float
    test: np.ndarray = field(repr=False)
    validation: np.ndarray = field(repr=False)

    @property
    def train(self) -> np.ndarray:
        """The training rows: every row in neither part, in increasing order."""
        keep = np.ones(self.samples, dtype=bool)
        keep[self.test] = False
        keep[self.validation] = False
        return np.flatnonzero(keep)

    def to_json(self) -> dict[str, Any]:
        return {
            "samples": self.samples,
            "seed": self.seed,
            "method": self.method,
            "test_split": self.test_split,
            "validation_split": self.validation_split,
            "test": self.test.tolist(),
            "validation": self.validation.tolist(),
        }

    @classmethod
    def from_json(cls, data: Any) -> Split:
        """The split of ``to_json``; ``ValueError`` saying what is malformed."""
        if not isinstance(data, Mapping):
            raise ValueError("expected a JSON object")
        try:
            samples, seed = int(data["samples"]), int(data["seed"])
            method = str(data["method"])
            fractions = float(data["test_split"]), float(data["validation_split"])
            parts = [np.asarray(data[k], dtype=np.int64) for k in ("test", "validation")]
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"missing or malformed entry: {exc}") from None
        if method not in (METHOD_STRATIFIED, METHOD_RANDOM) or samples < 1:
            raise ValueError(f"unknown method {method!r} or no samples ({samples})")
        joined = np.concatenate(parts)
        if joined.size and (
            joined.min() < 0 or joined.max() >= samples or np.unique(joined).size != joined.size
        ):
            raise ValueError(f"row numbers must be distinct and in [0, {samples})")
        if any(p.ndim != 1 or np.any(np.diff(p) <= 0) for p in parts):
            raise ValueError("row numbers must be lists in increasing order")
        return cls(samples, seed, method, *fractions, parts[0], parts[1])

    def describe(self) -> str:
        return (
            f"{self.samples} rows: {len(self.train)} train, {len(self.validation)} validation, "
            f"{len(self.test)} test ({self.method}, seed {self.seed})"
        )


@dataclass(frozen=True)
class DataRecord:
    """What a model was trained on, kept in its checkpoint (``/data/source``).

    Attributes:
        source: the source as given (the spec's ``data`` path or ``--data``).
        path: that source resolved (an absolute path; the source itself for a built-in).
        label: the label column of a CSV file, if one was named.
        samples: the rows the source held.
        split: the rows held out for testing and validation, if the data was split.
    """

    source: str
    path: str
    label: str | int | None
    samples: int
    split: Split | None = None

    def source_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "path": self.path,
            "label": self.label,
            "samples": self.samples,
        }


def class_of_rows(y: Any) -> np.ndarray | None:
    """Each row's class (an integer), for stratifying: integer labels, or one-hot rows by
    their largest entry; None for labels that are not classes (fractions, several)."""
    if y is None or isinstance(y, Mapping):
        return None
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim == 2:
        return y.argmax(axis=1)
    if y.ndim != 1 or (y.dtype.kind == "f" and not np.all(y == np.round(y))):
        return None
    return y.astype(np.int64)


def _apportion(total: int, counts: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """``total`` split over classes in proportion to ``counts``, at most ``capacity`` each:
    the whole parts, then one more to the largest remainders (ties: the lower class)."""
    exact = counts * (total / counts.sum())
    share = np.minimum(np.floor(exact).astype(np.int64), capacity)
    order = np.argsort(-(exact - np.floor(exact)), kind="stable")
    left = total - int(share.sum())
    while left > 0:
        given = False
        for k in order:
            if left and share[k] < capacity[k]:
                share[k] += 1
                left -= 1
                given = True
        if not given:
            break
    return share


def _part_size(n: int, fraction: float) -> int:
    return 0 if fraction <= 0 else max(1, round(n * fraction))


def split_rows(
    n: int,
    *,
    test: float,
    validation: float,
    seed: int,
    classes: np.ndarray | None = None,
) -> Split:
    """The seeded split of ``n`` rows (stratified by ``classes`` when given); see the
    module docstring. ``DataError`` when no row would be left to train on."""
    n_test, n_val = _part_size(n, test), _part_size(n, validation)
    if n - n_test - n_val < 1:
        raise DataError(
            f"cannot split {n} rows into test ({test}) and validation ({validation}) parts "
            "and keep a row to train on; expected more rows or smaller fractions"
        )
    rng = np.random.default_rng(seed)
    if classes is None:
        order = rng.permutation(n)
        parts = order[:n_test], order[n_test : n_test + n_val]
        method = METHOD_RANDOM
    else:
        labels, inverse = np.unique(classes, return_inverse=True)
        counts = np.bincount(inverse, minlength=len(labels))
        test_k = _apportion(n_test, counts, counts)
        val_k = _apportion(n_val, counts, counts - test_k)
        tests, vals = [], []
        for k in range(len(labels)):
            rows = rng.permutation(np.flatnonzero(inverse == k))
            tests.append(rows[: test_k[k]])
            vals.append(rows[test_k[k] : test_k[k] + val_k[k]])
        parts = np.concatenate(tests), np.concatenate(vals)
        method = METHOD_STRATIFIED
    test_rows, val_rows = (np.sort(p).astype(np.int64) for p in parts)
    return Split(n, seed, method, test, validation, test_rows, val_rows)


def apply_split(dataset: Dataset, split: Split) -> tuple[Dataset, tuple[Any, Any] | None]:
    """``dataset``'s training rows in ``x_train``, its test rows in ``x_test``, and its
    validation rows as ``(x, y)`` (None without a validation part)."""
    x, y = dataset.x_train, dataset.y_train
    if isinstance(x, BatchSource):
        raise DataError(
            f"{dataset.name}: a test or validation split needs the data in memory (.csv or "
            ".npz); an .h5 source is read in blocks: split the file itself instead"
        )
    n = num_samples(x)
    if n != split.samples:
        raise DataError(
            f"{dataset.name} has {n} rows, but the recorded split is of {split.samples} rows: "
            "the file changed since the model was trained"
        )
    train = split.train
    parts = replace(
        dataset,
        x_train=pick_rows(x, train),
        y_train=pick_rows(y, train),
        x_test=pick_rows(x, split.test) if len(split.test) else None,
        y_test=pick_rows(y, split.test) if len(split.test) else None,
    )
    validation = None
    if len(split.validation):
        validation = (pick_rows(x, split.validation), pick_rows(y, split.validation))
    return parts, validation
