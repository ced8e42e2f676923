"""Built-in datasets, named ``builtin:NAME`` in a spec's ``data`` or on the command line.

Each has a fixed train/test split: the same data on every machine and run.

- ``xor``: the seed notebook's four points; labels ``(4,)`` in {0, 1}. Its
  "test" split is the same four points (there is nothing to hold out).
- ``moons``: two interleaving half circles (as scikit-learn's ``make_moons``),
  1,000 points with Gaussian noise 0.15, generated from a fixed seed; binary
  labels; 800 train / 200 test.
- ``spirals``: three interleaved spiral arms (the CS231n toy problem), 900
  points from a fixed seed; labels 0-2; 720 train / 180 test.
- ``digits``: the UCI "Optical Recognition of Handwritten Digits" test set,
  1,797 8x8 grey-level images of the digits 0-9 (pixel values 0-16, scaled to
  [0, 1] here; flattened to 64 features unless an ``input_shape`` asks for
  ``[8, 8, 1]`` or another shape of 64 values); a stratified split of 1,437
  train / 360 test images, fixed in the shipped file.

  Source: E. Alpaydin and C. Kaynak, "Optical Recognition of Handwritten
  Digits", UCI Machine Learning Repository, 1998,
  https://doi.org/10.24432/C50P49. Licence: Creative Commons Attribution 4.0
  International (CC BY 4.0). ``digits.npz`` beside this file was generated
  once with scikit-learn's ``load_digits`` (which ships the same data) and
  ``train_test_split(test_size=360, stratify=labels, random_state=0)``; it
  holds ``images`` (uint8, 1797x8x8), ``labels`` (uint8) and the
  ``train_index``/``test_index`` of the split.
- ``digits_rows``: ``digits`` as sequences for recurrent and attention models:
  each image's 8 rows, top first, are 8 time steps of 8 features,
  ``(n, 8, 8)`` (batch, time, features); the same values, labels and split.
- ``digits_multitask``: ``digits`` with two named targets, ``{"digit": label,
  "even": 1 if the digit is even else 0}``, for a model whose outputs are
  named ``digit`` and ``even``; the same images and split.
- ``digits_pairs``: pairs of digit images for a Siamese model, inputs
  ``{"left": ..., "right": ...}`` (8x8x1 each, scaled as ``digits``), target
  ``{"same": 1 if both show the same digit else 0}``. 6,000 train pairs made
  from the 1,437 train images of ``digits`` only and 1,000 test pairs from its
  360 test images only (no image is in both), exactly half of each "same",
  drawn from a fixed seed.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from modular_nn.data.dataset import Dataset
from modular_nn.errors import DataError

DIGITS_FILE = Path(__file__).with_name("digits.npz")


def _split(x: np.ndarray, y: np.ndarray, n_test: int, seed: int) -> tuple[np.ndarray, ...]:
    order = np.random.default_rng(seed).permutation(x.shape[0])
    x, y = x[order], y[order]
    return x[:-n_test], y[:-n_test], x[-n_test:], y[-n_test:]


def xor() -> Dataset:
    """The four XOR points; the test split is the same four points."""
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y = np.array([0, 1, 1, 0], dtype=np.int64)
    return Dataset(x, y, x.copy(), y.copy(), name="builtin:xor")


def moons(n: int = 1000, noise: float = 0.15, seed: int = 0) -> Dataset:
    """Two interleaving half circles with Gaussian noise; 20% held out."""
    rng = np.random.default_rng(seed)
    half = n // 2
    t_out = np.linspace(0, np.pi, n - half)
    t_in = np.linspace(0, np.pi, half)
    x = np.concatenate(
        [
            np.stack([np.cos(t_out), np.sin(t_out)], axis=1),
            np.stack([1 - np.cos(t_in), 0.5 - np.sin(t_in)], axis=1),
        ]
    )
    x += rng.normal(0.0, noise, x.shape)
    y = np.concatenate([np.zeros(n - half, np.int64), np.ones(half, np.int64)])
    parts = _split(x.astype(np.float32), y, n // 5, seed)
    return Dataset(*parts, name="builtin:moons")


def spirals(per_class: int = 300, classes: int = 3, noise: float = 0.2, seed: int = 0) -> Dataset:
    """``classes`` spiral arms of ``per_class`` points each; 20% held out."""
    rng = np.random.default_rng(seed)
    radius = np.tile(np.linspace(0.0, 1.0, per_class), classes)
    label = np.repeat(np.arange(classes, dtype=np.int64), per_class)
    angle = (
        label * (2 * np.pi / classes) + radius * 4.0 + rng.normal(0.0, noise, per_class * classes)
    )
    x = np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1)
    parts = _split(x.astype(np.float32), label, (per_class * classes) // 5, seed)
    return Dataset(*parts, name="builtin:spirals")


def digits() -> Dataset:
    """UCI handwritten digits: 1,437 train / 360 test 8x8 images, 64 features in [0, 1]."""
    with np.load(DIGITS_FILE) as f:
        images, labels = f["images"], f["labels"]
        train, test = f["train_index"], f["test_index"]
    x = images.reshape(images.shape[0], -1).astype(np.float32) / np.float32(16.0)
    y = labels.astype(np.int64)
    return Dataset(x[train], y[train], x[test], y[test], name="builtin:digits")


def digits_rows() -> Dataset:
    """``digits`` as ``(n, 8, 8)`` sequences: row ``t`` of each image is time step ``t``."""
    ds = digits()
    x_train, x_test = ds.x_train.reshape(-1, 8, 8), ds.x_test.reshape(-1, 8, 8)
    return Dataset(x_train, ds.y_train, x_test, ds.y_test, name="builtin:digits_rows")


def digits_multitask() -> Dataset:
    """``digits`` with targets ``{"digit": label, "even": label % 2 == 0}`` (int64)."""
    ds = digits()

    def targets(labels: np.ndarray) -> dict[str, np.ndarray]:
        return {"digit": labels, "even": (labels % 2 == 0).astype(np.int64)}

    return replace(
        ds, y_train=targets(ds.y_train), y_test=targets(ds.y_test), name="builtin:digits_multitask"
    )


def _pairs(
    labels: np.ndarray, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices ``(left, right)`` of ``n`` pairs of distinct images, half of the same label
    (a label, then two of its images), half of two different labels, shuffled; and 0/1
    "same" targets."""
    classes = np.unique(labels)
    members = [np.flatnonzero(labels == c) for c in classes]
    same = rng.permutation(np.arange(n) % 2 == 0)
    left, right = np.empty(n, np.int64), np.empty(n, np.int64)
    for k in range(n):
        if same[k]:
            left[k], right[k] = rng.choice(members[rng.integers(len(classes))], 2, replace=False)
        else:
            a, b = rng.choice(len(classes), 2, replace=False)
            left[k], right[k] = rng.choice(members[a]), rng.choice(members[b])
    return left, right, same.astype(np.int64)


def digits_pairs(n_train: int = 6000, n_test: int = 1000, seed: int = 0) -> Dataset:
    """Pairs of digit images, ``same`` 1 when both show the same digit; train pairs from
    the train images of ``digits``, test pairs from its test images; half "same"."""
    ds = digits()
    rng = np.random.default_rng(seed)
    parts: list[dict[str, np.ndarray]] = []
    for x, y, n in ((ds.x_train, ds.y_train, n_train), (ds.x_test, ds.y_test, n_test)):
        images = x.reshape(-1, 8, 8, 1)
        left, right, same = _pairs(y, n, rng)
        parts += [{"left": images[left], "right": images[right]}, {"same": same}]
    return Dataset(*parts, name="builtin:digits_pairs")


BUILTIN_DATASETS: dict[str, Callable[[], Dataset]] = {
    "digits": digits,
    "digits_multitask": digits_multitask,
    "digits_pairs": digits_pairs,
    "digits_rows": digits_rows,
    "moons": moons,
    "spirals": spirals,
    "xor": xor,
}


def load_builtin(
    name: str,
    input_shape: Sequence[int]
    | Sequence[Sequence[int]]
    | Mapping[str, Sequence[int]]
    | None = None,
) -> Dataset:
    """The built-in dataset ``name`` (``digits``, ``digits_multitask``, ``digits_pairs``,
    ``digits_rows``, ``moons``, ``spirals``, ``xor``).

    With ``input_shape`` each sample is reshaped to it when it holds the same
    number of values (``load_builtin("digits", [8, 8, 1])`` gives NHWC images); for
    named inputs, a dict of shapes or a list in input order (``model.input_shape``).
    Raises ``DataError`` for an unknown name.
    """
    name = name.removeprefix("builtin:")
    factory = BUILTIN_DATASETS.get(name)
    if factory is None:
        close = difflib.get_close_matches(name, list(BUILTIN_DATASETS), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise DataError(
            f"unknown built-in dataset {name!r}{hint}; available: "
            + ", ".join(sorted(BUILTIN_DATASETS))
        )
    dataset = factory()
    return dataset if input_shape is None else dataset.reshaped(input_shape)
