"""The spec's ``data``: a string kept as written, or an object with a label and a split."""

from __future__ import annotations

from typing import Any

import pytest

import modular_nn as mnn

BASE: dict[str, Any] = {"input_shape": [2], "layers": [{"type": "dense", "units": 1}]}


def test_the_string_form_dumps_as_written() -> None:
    spec = mnn.load_spec({**BASE, "data": "train.csv?label=y"})
    assert spec.model_dump()["data"] == "train.csv?label=y"
    assert mnn.load_spec(spec.model_dump()) == spec


def test_the_object_form_is_normalized_with_its_defaults() -> None:
    spec = mnn.load_spec({**BASE, "data": {"path": "d.csv", "label": "target", "test_split": 0.2}})
    assert spec.model_dump()["data"] == {
        "path": "d.csv",
        "label": "target",
        "test_split": 0.2,
        "validation_split": 0.0,
        "stratify": None,
    }
    again = mnn.load_spec(spec.model_dump(mode="json"))
    assert again == spec and again.data.label == "target"
    assert mnn.load_spec({**BASE, "data": {"path": "d.csv", "label": 3}}).data.label == 3


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"path": "d.csv", "test_split": 0.6, "validation_split": 0.4}, "data: test_split + "),
        ({"path": "d.csv", "label": 1.5}, "data.label: expected a valid integer"),
        ({"label": "y"}, "data.path: required field is missing"),
        ({"path": "d.csv", "lable": "y"}, "data.lable: unknown option 'lable'"),
        (5, "data: expected a valid string, received: 5"),
    ],
)
def test_a_bad_data_entry_is_one_issue_at_its_path(data: Any, expected: str) -> None:
    with pytest.raises(mnn.SpecError) as caught:
        mnn.load_spec({**BASE, "data": data})
    assert len(caught.value.issues) == 1
    assert expected in str(caught.value)


def test_a_validation_split_in_data_and_in_training_is_refused() -> None:
    with pytest.raises(mnn.SpecError) as caught:
        mnn.load_spec(
            {
                **BASE,
                "data": {"path": "d.csv", "validation_split": 0.2},
                "training": {"validation_split": 0.1},
            }
        )
    (issue,) = caught.value.issues
    assert issue.path == "data.validation_split" and "given twice" in issue.message
