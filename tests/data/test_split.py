"""The seeded, stratified split of a file's rows, and its record."""

from __future__ import annotations

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.data import Dataset
from modular_nn.data.split import Split, apply_split, class_of_rows, split_rows

#: 3 classes of 50, 30 and 20 rows, shuffled
CLASSES = np.random.default_rng(1).permutation(np.repeat([0, 1, 2], [50, 30, 20]))


def test_the_split_is_reproducible_from_its_seed() -> None:
    a = split_rows(100, test=0.2, validation=0.1, seed=7, classes=CLASSES)
    b = split_rows(100, test=0.2, validation=0.1, seed=7, classes=CLASSES)
    c = split_rows(100, test=0.2, validation=0.1, seed=8, classes=CLASSES)
    np.testing.assert_array_equal(a.test, b.test)
    np.testing.assert_array_equal(a.validation, b.validation)
    assert not np.array_equal(a.test, c.test)


def test_the_parts_are_disjoint_sorted_and_cover_every_row() -> None:
    split = split_rows(100, test=0.2, validation=0.1, seed=0, classes=CLASSES)
    assert (len(split.train), len(split.validation), len(split.test)) == (70, 10, 20)
    every = np.concatenate([split.train, split.validation, split.test])
    np.testing.assert_array_equal(np.sort(every), np.arange(100))
    for part in (split.train, split.validation, split.test):
        assert np.all(np.diff(part) > 0)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(("test", "validation"), [(0.2, 0.2), (0.15, 0.0), (0.33, 0.1)])
def test_each_class_keeps_its_share_within_one_sample(
    seed: int, test: float, validation: float
) -> None:
    split = split_rows(100, test=test, validation=validation, seed=seed, classes=CLASSES)
    assert split.method == "stratified"
    counts = np.bincount(CLASSES)
    for part in (split.test, split.validation):
        if not len(part):
            continue
        per_class = np.bincount(CLASSES[part], minlength=3)
        expected = counts * len(part) / len(CLASSES)
        assert np.all(np.abs(per_class - expected) <= 1), (per_class, expected)


def test_without_classes_the_split_is_a_seeded_permutation() -> None:
    split = split_rows(10, test=0.3, validation=0.0, seed=4)
    order = np.random.default_rng(4).permutation(10)
    assert split.method == "random"
    np.testing.assert_array_equal(split.test, np.sort(order[:3]))
    assert len(split.validation) == 0


def test_too_few_rows_to_train_is_a_data_error() -> None:
    with pytest.raises(mnn.DataError, match="keep a row to train on"):
        split_rows(2, test=0.4, validation=0.4, seed=0)


def test_the_record_round_trips_through_json_and_refuses_malformed_rows() -> None:
    split = split_rows(50, test=0.2, validation=0.2, seed=3, classes=CLASSES[:50])
    again = Split.from_json(split.to_json())
    np.testing.assert_array_equal(again.test, split.test)
    assert (again.seed, again.method, again.samples) == (3, "stratified", 50)
    bad = {**split.to_json(), "test": [1, 1]}
    with pytest.raises(ValueError, match="distinct"):
        Split.from_json(bad)
    with pytest.raises(ValueError, match="missing or malformed"):
        Split.from_json({"samples": 3})


def test_apply_split_gives_training_test_and_validation_rows() -> None:
    x = np.arange(20, dtype=float).reshape(10, 2)
    y = np.arange(10)
    split = split_rows(10, test=0.2, validation=0.2, seed=0)
    parts, validation = apply_split(Dataset(x, y, name="d.csv"), split)
    np.testing.assert_array_equal(parts.y_train, split.train)
    np.testing.assert_array_equal(parts.y_test, split.test)
    assert validation is not None
    np.testing.assert_array_equal(validation[1], split.validation)
    with pytest.raises(mnn.DataError, match="has 9 rows, but the recorded split is of 10"):
        apply_split(Dataset(x[:9], y[:9], name="d.csv"), split)


def test_classes_of_rows_from_integers_names_or_one_hot_rows() -> None:
    np.testing.assert_array_equal(class_of_rows(np.array([2, 0, 1])), [2, 0, 1])
    np.testing.assert_array_equal(class_of_rows(np.eye(3)[[1, 2]]), [1, 2])
    np.testing.assert_array_equal(class_of_rows(np.array([[1.0], [0.0]])), [1, 0])
    assert class_of_rows(np.array([0.5, 1.2])) is None
