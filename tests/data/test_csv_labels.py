"""String labels in CSV files: class indices, class names, unseen names."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.data import load_data
from modular_nn.data.files import read_csv_table


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_names_become_sorted_class_indices(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "a,b,diagnosis\n1,2,malignant\n3,4,benign\n5,6,malignant\n")
    ds = load_data(path)
    assert ds.class_names == ("benign", "malignant")
    np.testing.assert_array_equal(ds.y_train, [1, 0, 1])
    assert ds.y_train.dtype == np.int64
    np.testing.assert_array_equal(ds.x_train, [[1, 2], [3, 4], [5, 6]])


def test_a_file_without_header_may_have_named_labels(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "1,2,class_1\n3,4,class_0\n")
    table = read_csv_table(path)
    assert table.class_names == ("class_0", "class_1")
    np.testing.assert_array_equal(table.x, [[1, 2], [3, 4]])
    np.testing.assert_array_equal(table.y, [1, 0])


def test_the_label_column_by_name_or_index(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "kind,a,b\ncat,1,2\ndog,3,4\n")
    by_name = load_data(path, label_column="kind")
    by_index = load_data(path, label_column=0)
    np.testing.assert_array_equal(by_name.y_train, [0, 1])
    np.testing.assert_array_equal(by_index.x_train, [[1, 2], [3, 4]])


def test_numeric_labels_still_give_no_class_names(tmp_path: Path) -> None:
    ds = load_data(write(tmp_path / "d.csv", "a,y\n1,0\n2,1\n"))
    assert ds.class_names is None
    np.testing.assert_array_equal(ds.y_train, [0, 1])


def test_known_class_names_encode_and_an_unseen_one_is_named(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "a,y\n1,b\n2,a\n")
    ds = load_data(path, class_names=["a", "b", "c"])
    np.testing.assert_array_equal(ds.y_train, [1, 0])
    assert ds.class_names == ("a", "b", "c")
    unseen = write(tmp_path / "e.csv", "a,y\n1,b\n2,zebra\n")
    with pytest.raises(mnn.DataError) as caught:
        load_data(unseen, class_names=["a", "b"])
    assert "1 label(s) the model does not know: 'zebra'" in str(caught.value)
    assert "its classes are 'a', 'b'" in str(caught.value)


def test_numbers_mixed_with_names_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "a,y\n1,0\n2,cat\n")
    with pytest.raises(mnn.DataError, match=r"line 3, column 'y': expected a number, received"):
        load_data(path)


def test_inputs_only_leave_out_a_named_label_column(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "a,b,y\n1,2,cat\n3,4,dog\n")
    x = mnn.data.load_inputs(path, label_column="y")
    np.testing.assert_array_equal(x, [[1, 2], [3, 4]])
    with pytest.raises(mnn.DataError, match="leave it out with --label-column"):
        mnn.data.load_inputs(path)
