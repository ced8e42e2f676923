"""The options of the built-in callbacks (Keras names and defaults) as pydantic models,
and their validation: a wrong option is a ``CallbackError`` naming the callback, the
option, what was expected and received, and a fix, never pydantic's own message."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Literal, Optional, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from modular_nn.errors import CallbackError, SpecIssue
from modular_nn.spec.issues import issues_from_validation_error

Mode = Literal["auto", "min", "max"]

#: logged values that are better when larger (``mode="auto"``); ``val_`` and an output's
#: name before them do not matter: ``val_accuracy``, ``out_f1``
MAXIMIZED = ("accuracy", "precision", "recall", "f1", "auc", "r2")


def maximizes(monitor: str, mode: str) -> bool:
    """Whether a larger ``monitor`` is better: ``mode`` "max", or "auto" and an
    accuracy-like name (Keras's rule)."""
    return mode == "max" or (mode == "auto" and monitor.endswith(MAXIMIZED))


class CallbackOptions(BaseModel):
    """Options every callback's options model shares: strict types, no unknown keys."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


_MONITOR = "the name of a logged value, such as 'val_loss', 'loss' or 'val_accuracy'"
_MODE = "'auto' (max for accuracy, precision, recall, f1, auc, r2; min otherwise), 'min' or 'max'"


class ModelCheckpointOptions(CallbackOptions):
    filepath: str = Field(..., min_length=1, description="an HDF5 file path ending in .h5 or .hdf5")
    monitor: str = Field("val_loss", min_length=1, description=_MONITOR)
    save_best_only: bool = Field(
        False, description="True or False: save only epochs that improve on monitor"
    )
    mode: Mode = Field("auto", description=_MODE)
    every: int = Field(1, ge=1, description="a whole number of epochs from 1 up")
    keep: Optional[int] = Field(  # noqa: UP045
        None, ge=1, description="a number of files from 1 up, or None to keep them all"
    )
    initial_value_threshold: Optional[float] = Field(  # noqa: UP045
        None, description="a finite number the first saved value must beat, or None"
    )


class ReduceLROnPlateauOptions(CallbackOptions):
    monitor: str = Field("val_loss", min_length=1, description=_MONITOR)
    factor: float = Field(
        0.1, gt=0, lt=1, description="a number between 0 and 1 that multiplies the rate"
    )
    patience: int = Field(
        10, ge=0, description="a whole number of epochs (0 or more) without improvement"
    )
    mode: Mode = Field("auto", description=_MODE)
    min_delta: float = Field(
        1e-4, ge=0, description="a number (0 or more): the smallest change that improves"
    )
    cooldown: int = Field(
        0, ge=0, description="a whole number of epochs (0 or more) to wait after a reduction"
    )
    min_lr: float = Field(0.0, ge=0, description="a number (0 or more): the lowest rate")


class CSVLoggerOptions(CallbackOptions):
    filename: str = Field(..., min_length=1, description="a file path")
    separator: str = Field(
        ",", min_length=1, max_length=1, description="one character, such as ',' or ';'"
    )
    append: bool = Field(
        False, description="True (add rows to the file) or False (start it afresh)"
    )


Options = TypeVar("Options", bound=BaseModel)


def validated(options: type[Options], callback: str, values: Mapping[str, Any]) -> Options:
    """``options`` validated from ``values``; a ``CallbackError`` listing every problem,
    each with the option's name and a fix, otherwise. Paths (``os.PathLike``) are
    given as text."""
    data = {k: os.fspath(v) if isinstance(v, os.PathLike) else v for k, v in values.items()}
    try:
        return options.model_validate(data)
    except ValidationError as exc:
        fields = options.model_fields
        issues = issues_from_validation_error(
            exc, data, allowed_keys=lambda _data, _loc: list(fields)
        )
        problems = [_with_fix(issue, fields) for issue in issues]
        raise CallbackError(f"{callback}: " + "; ".join(map(str, problems))) from None


def _with_fix(issue: SpecIssue, fields: Mapping[str, Any]) -> SpecIssue:
    """The issue, with the option's description as the fix when it has none."""
    message = issue.message.replace("String should have", "expected")
    field = fields.get(issue.path.split(".")[0].split("[")[0])
    if issue.hint or field is None or not field.description:
        return SpecIssue(issue.path, message, issue.hint)
    return SpecIssue(issue.path, message, f"give {issue.path} {field.description}")
