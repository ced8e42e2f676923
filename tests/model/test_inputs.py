"""``model.inputs``: the finiteness check behind input, target, data-file and guard checks."""

from __future__ import annotations

import numpy as np
import pytest

from modular_nn.errors import DataError
from modular_nn.model.inputs import ROW, all_finite, prepare_inputs


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.complex64])
def test_all_finite_on_finite_arrays(dtype: type) -> None:
    assert all_finite(np.linspace(-3, 3, 101).astype(dtype).reshape(1, 101))
    assert all_finite(np.zeros((0, 4), dtype))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_all_finite_finds_one_bad_value_anywhere(bad: float, dtype: type) -> None:
    for position in (0, 57, 999):
        arr = np.ones(1000, dtype)
        arr[position] = bad
        assert not all_finite(arr)
        assert not all_finite(arr.reshape(10, 100)[:, ::3].T)  # a strided view


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_all_finite_through_the_row_sums_finds_a_bad_value_in_the_rows_and_the_tail(
    bad: float, dtype: type
) -> None:
    size = 3 * ROW + 77  # three rows for the matrix-vector product, then a tail
    for position in (0, ROW - 1, ROW, 2 * ROW + 5, 3 * ROW, size - 1):
        arr = np.ones(size, dtype)
        arr[position] = bad
        assert not all_finite(arr), position
        if position < 3 * ROW:
            assert not all_finite(np.asfortranarray(arr[:-77].reshape(ROW, 3))), position
    assert all_finite(np.ones((ROW, 3), dtype, order="F"))


def test_all_finite_when_the_sum_overflows_but_every_value_is_finite() -> None:
    big = np.full(10, np.finfo(np.float32).max, np.float32)
    with np.errstate(over="ignore"):
        assert not np.isfinite(big.sum())
    assert all_finite(big)
    assert all_finite(np.full(3 * ROW, np.finfo(np.float32).max, np.float32))  # row sums too
    assert all_finite(np.array([60000.0, 60000.0], np.float16))  # float16 sum overflows too
    assert not all_finite(np.array([np.inf, -np.inf], np.float32))  # sum NaN
    assert not all_finite(np.array([1 + 1j, complex(0, np.nan)], np.complex128))


def test_all_finite_integers_are_always_finite() -> None:
    assert all_finite(np.arange(10))
    assert all_finite(np.array([True, False]))


def test_prepare_inputs_rejects_non_finite_values_with_a_count() -> None:
    x = np.ones((4, 3), np.float32)
    x[1, 2], x[3, 0] = np.nan, np.inf
    with pytest.raises(DataError, match="2 NaN or infinite"):
        prepare_inputs(x, (3,), np.dtype(np.float32))


def _tiny_model():  # noqa: ANN202
    import modular_nn as mnn

    return mnn.build_model(
        {
            "input_shape": [3],
            "layers": [
                {"type": "dense", "units": 4, "activation": "relu"},
                {"type": "dense", "units": 2},
            ],
            "loss": "mse",
            "optimizer": "sgd",
        }
    )


def test_predict_checks_each_batch_and_counts_every_bad_value() -> None:
    model = _tiny_model()
    x = np.ones((10, 3), np.float32)
    x[1, 0], x[8, 2], x[9, 1] = np.nan, np.inf, -np.inf  # the first batch and the last
    for batch_size in (4, 100):
        with pytest.raises(DataError, match="inputs contain 3 NaN or infinite"):
            model.predict(x, batch_size=batch_size)
    x[1, 0] = 0.0
    with pytest.raises(DataError, match="inputs contain 2 NaN or infinite"):
        model.predict(x, batch_size=4)  # found in the last batch only


def test_predict_of_no_rows_and_of_one_batch() -> None:
    model = _tiny_model()
    assert model.predict(np.empty((0, 3), np.float32)).shape == (0, 2)
    x = np.random.default_rng(0).random((7, 3)).astype(np.float32)
    np.testing.assert_allclose(
        model.predict(x, batch_size=7), model.predict(x, batch_size=3), rtol=1e-6
    )


def test_values_beyond_the_model_dtype_are_refused_alike_by_fit_evaluate_and_predict() -> None:
    model = _tiny_model()  # float32
    x = np.array([[1e300, 0.0, 0.0], [1.0, 2.0, 3.0]])  # finite in float64, inf in float32
    y = np.zeros((2, 2))
    for call in (lambda: model.fit(x, y, epochs=1), lambda: model.evaluate(x, y),
                 lambda: model.predict(x)):  # fmt: skip
        with pytest.raises(DataError, match="1 NaN or infinite value.* in float32"):
            call()


def test_targets_beyond_the_model_dtype_are_refused_alike_by_fit_and_evaluate() -> None:
    model = _tiny_model()  # float32, mean squared error
    x = np.ones((2, 3), np.float32)
    y = np.array([[1e300, 0.0], [1.0, 2.0]])  # finite in float64, inf in float32
    for call in (lambda: model.fit(x, y, epochs=1), lambda: model.evaluate(x, y)):
        with pytest.raises(DataError, match="targets contain NaN or infinite values in float32"):
            call()


@pytest.mark.parametrize("bad", [complex(np.inf, 0), complex(0.5, np.inf), complex(0, -np.inf)])
def test_all_finite_finds_an_infinite_real_or_imaginary_part(bad: complex) -> None:
    for size in (3, 3 * ROW + 1):
        arr = np.zeros(size, np.complex128)
        arr[[0, -1]] = [-1.0, 2.0]
        arr[size // 2] = bad
        assert not all_finite(arr), (bad, size)
        assert all_finite(np.zeros(size, np.complex64))


def test_predict_of_an_empty_batch_source_keeps_the_model_dtype(tmp_path) -> None:  # noqa: ANN001
    import h5py

    from modular_nn.data.sources import H5Source

    with h5py.File(tmp_path / "d.h5", "w") as f:
        f["X"] = np.ones((4, 3), np.float32)
    out = _tiny_model().predict(H5Source(tmp_path / "d.h5", labels=False).subset(0, 0))
    assert out.shape == (0, 2) and out.dtype == np.float32
