"""Loading .npz, .npy and .csv files: keys, label columns, headers, and every user error."""

from pathlib import Path

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.data import load_data, load_inputs


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_npz_default_and_chosen_keys(tmp_path: Path) -> None:
    x, y = np.arange(12.0).reshape(6, 2), np.array([0, 1, 0, 1, 1, 0])
    np.savez(tmp_path / "d.npz", X=x, y=y, images=x * 2, labels=1 - y)
    ds = load_data(tmp_path / "d.npz")
    np.testing.assert_array_equal(ds.x_train, x)
    assert not ds.has_test and ds.held_out()[0] is ds.x_train
    chosen = load_data(tmp_path / "d.npz", x_key="images", y_key="labels")
    np.testing.assert_array_equal(chosen.y_train, 1 - y)
    query = load_data(f"{tmp_path / 'd.npz'}?x=images&y=labels")
    np.testing.assert_array_equal(query.x_train, x * 2)


def test_npz_errors_name_the_problem(tmp_path: Path) -> None:
    np.savez(tmp_path / "d.npz", images=np.zeros((3, 2)), y=np.zeros(4))
    with pytest.raises(mnn.DataError, match=r"no array 'X'; arrays: images, y.*--x-key"):
        load_data(tmp_path / "d.npz")
    with pytest.raises(mnn.DataError, match="3 samples but 'y' has 4"):
        load_data(tmp_path / "d.npz", x_key="images")
    np.savez(tmp_path / "nan.npz", X=np.array([[1.0, np.nan]]), y=np.zeros(1))
    with pytest.raises(mnn.DataError, match="1 NaN or infinite value"):
        load_data(tmp_path / "nan.npz")
    (tmp_path / "bad.npz").write_text("not a zip")
    with pytest.raises(mnn.DataError, match=r"'.*bad.npz' is not a \.npz file") as caught:
        load_data(tmp_path / "bad.npz")
    assert "pickle" not in str(caught.value)
    with pytest.raises(mnn.DataError, match="unknown data option 'z'"):
        load_data(f"{tmp_path / 'd.npz'}?z=1")


def test_csv_with_header_label_by_name_index_or_last(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "d.csv", "a,label,b\n1,0,2\n3,1,4\n5.5,1,6\n")
    by_name = load_data(path, label_column="label")
    np.testing.assert_array_equal(by_name.x_train, [[1, 2], [3, 4], [5.5, 6]])
    np.testing.assert_array_equal(by_name.y_train, [0, 1, 1])
    assert by_name.y_train.dtype == np.int64 and by_name.x_train.dtype == np.float64
    by_index = load_data(path, label_column="1")
    np.testing.assert_array_equal(by_index.x_train, by_name.x_train)
    last = load_data(path)
    np.testing.assert_array_equal(last.y_train, [2, 4, 6])
    np.testing.assert_array_equal(load_data(f"{path}?label=-2").y_train, [0, 1, 1])


def test_csv_without_header_and_inputs_only(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "d.csv", "1,2,0.5\n3,4,1.5\n")
    ds = load_data(path)
    np.testing.assert_array_equal(ds.y_train, np.array([0.5, 1.5]))
    assert ds.y_train.dtype == np.float64  # the text's values; the model casts them
    np.testing.assert_array_equal(load_inputs(path), [[1, 2, 0.5], [3, 4, 1.5]])
    np.testing.assert_array_equal(load_inputs(path, label_column=2), [[1, 2], [3, 4]])


@pytest.mark.parametrize(
    ("text", "options", "message"),
    [
        ("a,b\n1,2\n3\n", {}, r"line 3: expected 2 columns, received 1"),
        ("a,b\n1,2\n3,x\n", {}, r"line 3, column 'b': expected a number, received 'x'"),
        ("a,b\n1,2\n3,\n", {}, r"line 3, column 'b': missing, NaN"),
        ("a,b\n1,nan\n", {}, r"line 2, column 'b': missing, NaN"),
        ("a,b\n1,2\n", {"label_column": "c"}, r"label column 'c' not found.*columns: a, b"),
        ("1,2\n", {"label_column": "c"}, r"no header line"),
        ("1,2\n", {"label_column": 5}, r"label column 5 is out of range"),
        ("", {}, r"is empty"),
        ("a,b\n", {}, r"header but no data"),
    ],
)
def test_csv_user_errors(tmp_path: Path, text: str, options: dict, message: str) -> None:
    path = write_csv(tmp_path / "d.csv", text)
    with pytest.raises(mnn.DataError, match=message):
        load_data(path, **options)


def test_missing_and_unsupported_files(tmp_path: Path) -> None:
    with pytest.raises(mnn.DataError, match="data file not found: '.*nope.csv'"):
        load_data(tmp_path / "nope.csv")
    (tmp_path / "d.txt").write_text("1,2")
    with pytest.raises(mnn.DataError, match=r"expected builtin:NAME or a file ending in \.npz"):
        load_data(tmp_path / "d.txt")
    np.save(tmp_path / "x.npy", np.zeros((2, 3)))
    with pytest.raises(mnn.DataError, match="inputs only"):
        load_data(tmp_path / "x.npy")
    assert load_inputs(tmp_path / "x.npy").shape == (2, 3)


def test_wrong_column_count_is_reported_against_the_input_shape(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "d.csv", "1,2,3,0\n4,5,6,1\n")
    with pytest.raises(mnn.DataError, match=r"3 values per sample .* input_shape \[4\] needs 4"):
        load_data(path, input_shape=[4])
    assert load_data(path, input_shape=[3, 1]).x_train.shape == (2, 3, 1)


def test_a_file_that_is_not_npy_gets_no_advice_to_unpickle_it(tmp_path: Path) -> None:
    (tmp_path / "junk.npy").write_text("junk")
    with pytest.raises(mnn.DataError, match=r"'.*junk.npy' is not a \.npy file") as caught:
        load_inputs(tmp_path / "junk.npy")
    assert "pickle" not in str(caught.value)
    np.save(tmp_path / "empty.npy", np.zeros((0, 3)))
    assert load_inputs(tmp_path / "empty.npy").shape == (0, 3)


def test_csv_values_keep_the_digits_the_text_holds(tmp_path: Path) -> None:
    ds = load_data(write_csv(tmp_path / "d.csv", "a,b,label\n0.1234567890123,1.0000000001,0.25\n"))
    assert ds.x_train[0, 0] == 0.1234567890123 and ds.x_train[0, 1] == 1.0000000001
    assert ds.y_train[0] == 0.25


def test_a_first_line_with_an_empty_field_is_a_missing_value_not_a_header(tmp_path: Path) -> None:
    with pytest.raises(mnn.DataError, match="line 1, column '1': missing"):
        load_data(write_csv(tmp_path / "d.csv", "1,,0\n3,4,1\n5,6,0\n"))
    with_header = load_data(write_csv(tmp_path / "h.csv", "a,,label\n3,4,1\n5,6,0\n"))
    assert with_header.x_train.shape == (2, 2)
