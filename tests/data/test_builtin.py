"""Built-in datasets: fixed splits, shapes, reshaping for image models, named inputs and
targets, unknown names."""

from typing import Any

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.data import BUILTIN_DATASETS, load_builtin, load_data


def test_digits_is_the_uci_set_with_a_fixed_stratified_split() -> None:
    ds = load_builtin("digits")
    assert ds.x_train.shape == (1437, 64) and ds.x_test.shape == (360, 64)
    assert ds.x_train.dtype == np.float32 and 0.0 <= ds.x_train.min() < ds.x_train.max() <= 1.0
    assert ds.y_train.dtype == np.int64
    assert len(ds.y_train) + len(ds.y_test) == 1797
    assert set(np.unique(ds.y_test)) == set(range(10))
    assert np.bincount(ds.y_test).min() >= 35  # stratified: 35-37 per digit
    again = load_builtin("digits")
    np.testing.assert_array_equal(ds.x_test, again.x_test)
    np.testing.assert_array_equal(ds.y_train, again.y_train)


def test_digits_reshape_to_images_for_a_cnn() -> None:
    ds = load_builtin("digits", input_shape=[8, 8, 1])
    assert ds.x_train.shape == (1437, 8, 8, 1) and ds.x_test.shape == (360, 8, 8, 1)
    flat = load_builtin("digits")
    np.testing.assert_array_equal(ds.x_train.reshape(1437, 64), flat.x_train)
    with pytest.raises(mnn.DataError, match="64 values per sample.*needs 63"):
        load_builtin("digits", input_shape=[63])


def named(value: Any) -> dict[str, np.ndarray]:
    """A dataset's arrays by name (one unnamed array as ``""``)."""
    return dict(value) if isinstance(value, dict) else {"": value}


@pytest.mark.parametrize("name", sorted(BUILTIN_DATASETS))
def test_every_builtin_is_deterministic_and_has_a_test_split(name: str) -> None:
    a, b = load_builtin(name), load_data(f"builtin:{name}")
    assert a.has_test and a.name == f"builtin:{name}"
    for first, second in ((a.x_train, b.x_train), (a.y_test, b.y_test)):
        assert named(first).keys() == named(second).keys()
        for key, array in named(first).items():
            np.testing.assert_array_equal(array, named(second)[key])
    for x, y in ((a.x_train, a.y_train), (a.x_test, a.y_test)):
        lengths = {len(array) for array in [*named(x).values(), *named(y).values()]}
        assert len(lengths) == 1
    assert all(np.isfinite(array).all() for array in named(a.x_train).values())


def test_toy_datasets_have_the_documented_sizes_and_labels() -> None:
    xor = load_builtin("xor")
    np.testing.assert_array_equal(xor.y_train, [0, 1, 1, 0])
    moons = load_builtin("moons")
    assert (len(moons.x_train), len(moons.x_test)) == (800, 200)
    assert set(np.unique(moons.y_train)) == {0, 1}
    spirals = load_builtin("spirals")
    assert (len(spirals.x_train), len(spirals.x_test)) == (720, 180)
    assert set(np.unique(spirals.y_train)) == {0, 1, 2}


def test_unknown_builtin_suggests_the_close_name() -> None:
    with pytest.raises(mnn.DataError, match=r"'digit'.*did you mean 'digits'.*available"):
        load_builtin("digit")


def test_digits_multitask_has_the_digit_and_whether_it_is_even() -> None:
    ds, digits = load_builtin("digits_multitask"), load_builtin("digits")
    np.testing.assert_array_equal(ds.x_train, digits.x_train)
    for y, labels in ((ds.y_train, digits.y_train), (ds.y_test, digits.y_test)):
        assert set(y) == {"digit", "even"}
        np.testing.assert_array_equal(y["digit"], labels)
        np.testing.assert_array_equal(y["even"], (labels % 2 == 0).astype(np.int64))
        assert y["even"].dtype == np.int64 and 0.4 < y["even"].mean() < 0.6
    assert load_builtin("digits_multitask", [8, 8, 1]).x_test.shape == (360, 8, 8, 1)
    by_name = load_builtin("digits_multitask", {"image": [8, 8, 1]})  # a model's input_shapes
    assert by_name.x_test.shape == (360, 8, 8, 1)
    with pytest.raises(mnn.DataError, match="keyed by 'a', 'b', received one array"):
        load_builtin("digits_multitask", {"a": [64], "b": [64]})


def test_digits_pairs_shapes_dtypes_and_balance() -> None:
    ds = load_builtin("digits_pairs")
    for x, y, n in ((ds.x_train, ds.y_train, 6000), (ds.x_test, ds.y_test, 1000)):
        assert set(x) == {"left", "right"} and set(y) == {"same"}
        for images in x.values():
            assert images.shape == (n, 8, 8, 1) and images.dtype == np.float32
            assert 0.0 <= images.min() < images.max() <= 1.0  # scaled as digits
        assert y["same"].shape == (n,) and y["same"].dtype == np.int64
        assert set(np.unique(y["same"])) == {0, 1} and y["same"].sum() == n // 2
    assert repr(ds) == "Dataset('builtin:digits_pairs', train=6000, test=1000)"


def _digit_of(images: np.ndarray, split_x: np.ndarray, split_y: np.ndarray) -> np.ndarray:
    """The label of each image, found by its index among a split's images."""
    index = {row.tobytes(): k for k, row in enumerate(split_x)}
    return split_y[[index[image.reshape(-1).tobytes()] for image in images]]


def test_digits_pairs_targets_say_whether_the_digits_are_the_same() -> None:
    pairs, digits = load_builtin("digits_pairs"), load_builtin("digits")
    for x, y, split_x, split_y in (
        (pairs.x_train, pairs.y_train, digits.x_train, digits.y_train),
        (pairs.x_test, pairs.y_test, digits.x_test, digits.y_test),
    ):
        left = _digit_of(x["left"], split_x, split_y)  # KeyError: not an image of this split
        right = _digit_of(x["right"], split_x, split_y)
        np.testing.assert_array_equal(y["same"], (left == right).astype(np.int64))
        assert len(set(left[y["same"] == 0])) == 10  # every digit appears in both kinds
        assert len(set(left[y["same"] == 1])) == 10
        assert not np.array_equal(x["left"][:50], x["right"][:50])


def test_digits_pairs_train_and_test_images_are_disjoint() -> None:
    pairs = load_builtin("digits_pairs")

    def images(x: dict[str, np.ndarray]) -> set[bytes]:
        return {image.tobytes() for side in x.values() for image in side}

    train, test = images(pairs.x_train), images(pairs.x_test)
    assert not train & test
    assert len(test) > 300  # most of the 360 test images are used


def test_digits_pairs_is_reproducible_and_reshapes_each_input() -> None:
    a, b = load_builtin("digits_pairs"), load_builtin("digits_pairs")
    for key in ("left", "right"):
        np.testing.assert_array_equal(a.x_train[key], b.x_train[key])
        np.testing.assert_array_equal(a.x_test[key], b.x_test[key])
    np.testing.assert_array_equal(a.y_train["same"], b.y_train["same"])
    flat = load_builtin("digits_pairs", [[64], [64]])  # model.input_shape of two inputs
    assert flat.x_test["left"].shape == (1000, 64) and flat.x_test["right"].shape == (1000, 64)
    named_shapes = load_builtin("digits_pairs", {"left": [64]})
    assert named_shapes.x_train["left"].shape == (6000, 64)
    assert named_shapes.x_train["right"].shape == (6000, 8, 8, 1)
    np.testing.assert_array_equal(flat.x_train["left"].reshape(-1, 8, 8, 1), a.x_train["left"])


def test_digits_rows_are_sequences_of_the_image_rows() -> None:
    rows, flat = load_builtin("digits_rows"), load_builtin("digits")
    assert rows.x_train.shape == (1437, 8, 8) and rows.x_test.shape == (360, 8, 8)
    assert rows.x_train.dtype == np.float32 and rows.name == "builtin:digits_rows"
    assert repr(rows) == "Dataset('builtin:digits_rows', train=1437, test=360)"
    # time step t of sample i is row t of image i: pixels 8t .. 8t+7 of the flat vector
    np.testing.assert_array_equal(rows.x_train[:, 3, :], flat.x_train[:, 24:32])
    np.testing.assert_array_equal(rows.x_test.reshape(360, 64), flat.x_test)
    np.testing.assert_array_equal(rows.y_train, flat.y_train)
    np.testing.assert_array_equal(rows.y_test, flat.y_test)
    again = load_data("builtin:digits_rows", inputs={"input": [8, 8]}, outputs=["dense_1"])
    np.testing.assert_array_equal(again.x_train, rows.x_train)  # deterministic, kept as is
    assert load_builtin("digits_rows", [64]).x_test.shape == (360, 64)
