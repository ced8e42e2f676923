"""The spec's ``data``: a source string, or an object naming the label column and a split.

``"data": "d.csv"`` means ``{"path": "d.csv"}`` and is kept as written (every
existing spec dumps as before). A relative path is relative to the spec file's
folder. The split is drawn once from the spec's ``seed``, stratified by class
for a classification loss unless ``stratify`` is false, and recorded in the
checkpoint (``modular_nn.data.split``; docs/data.md).
"""

from __future__ import annotations

from typing import Annotated, Any, Optional, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator


def _label_tag(value: Any) -> str:
    return "label index" if isinstance(value, (int, float)) else "label name"


#: a CSV label column: its header name, or its index
LabelField = Annotated[
    Union[  # noqa: UP007
        Annotated[Annotated[str, Field(min_length=1)], Tag("label name")],
        Annotated[int, Tag("label index")],
    ],
    Discriminator(_label_tag),
]


class DataSpec(BaseModel):
    """The spec's ``data`` as an object: a source and how to read and split it."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    path: str = Field(
        ...,
        min_length=1,
        description="builtin:NAME, text:PATH or a data file; a relative path is relative "
        "to the spec's folder",
    )
    label: Optional[LabelField] = Field(  # noqa: UP045
        None,
        description="the label column of a .csv file: its header name or its index "
        "(default: the last column)",
    )
    test_split: float = Field(
        0.0, ge=0, lt=1, description="fraction of the rows held out for testing (evaluate)"
    )
    validation_split: float = Field(
        0.0, ge=0, lt=1, description="fraction of the rows held out for validation while training"
    )
    stratify: Optional[bool] = Field(  # noqa: UP045
        None,
        description="keep each class's share in every part of the split; default: true for "
        "a classification loss, false otherwise",
    )

    @model_validator(mode="after")
    def _rows_left_to_train(self) -> DataSpec:
        if self.test_split + self.validation_split >= 1:
            raise ValueError(
                "test_split + validation_split must be below 1, so that rows are left to "
                f"train on ({self.test_split} + {self.validation_split})"
            )
        return self


def _data_tag(value: Any) -> str:
    """The spec's ``data`` is a string (a source) or an object (``DataSpec``)."""
    return "data object" if isinstance(value, (dict, DataSpec)) else "data source"


#: ``"data"``: a source string, kept as given, or a ``DataSpec`` object
DataField = Annotated[
    Union[Annotated[str, Tag("data source")], Annotated[DataSpec, Tag("data object")]],  # noqa: UP007
    Discriminator(_data_tag),
]

#: union tags of these fields: never part of an issue's path (``spec.issues``)
DATA_TAGS = frozenset({"data source", "data object", "label name", "label index"})
