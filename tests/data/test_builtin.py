"""Built-in datasets: fixed splits, shapes, reshaping for image models, unknown names."""

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


@pytest.mark.parametrize("name", sorted(BUILTIN_DATASETS))
def test_every_builtin_is_deterministic_and_has_a_test_split(name: str) -> None:
    a, b = load_builtin(name), load_data(f"builtin:{name}")
    assert a.has_test and a.name == f"builtin:{name}"
    for first, second in ((a.x_train, b.x_train), (a.y_test, b.y_test)):
        np.testing.assert_array_equal(first, second)
    assert len(a.x_train) == len(a.y_train) and len(a.x_test) == len(a.y_test)
    assert np.isfinite(a.x_train).all()


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
