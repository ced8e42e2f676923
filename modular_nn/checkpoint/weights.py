"""Parameters and buffers in checkpoint files: ``save_weights`` / ``load_weights``.

Weights live at ``/weights/<layer name>/<param name>``, the same paths in a
full checkpoint (``model.save``) and a weights-only file (``model.save_weights``).

Loading matches datasets to the model's parameters and buffers by name, in the
manner of PyTorch's ``load_state_dict``: it reports every missing, unexpected
and mis-shaped entry at once. Values are cast to the model's dtype as they are
copied (a float64 file loads into a float32 model rounded to float32, and a
float32 file into a float64 model exactly); the model's dtype never changes.
Loading is all-or-nothing: everything is checked and read before anything is
copied into the model.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import h5py
import numpy as np

from modular_nn.checkpoint.format import (
    ATTR_ROLE,
    KIND_WEIGHTS,
    ROLE_BUFFER,
    ROLE_PARAMETER,
    WEIGHTS,
)
from modular_nn.checkpoint.reader import CheckpointReader, Shape, open_checkpoint
from modular_nn.checkpoint.writer import atomic_write, write_array, write_header
from modular_nn.errors import CheckpointError


@dataclass(frozen=True)
class ShapeMismatch:
    """An entry present in the model and the file with different shapes."""

    name: str
    expected: Shape  #: the model's shape
    received: Shape  #: the file's shape

    def __str__(self) -> str:
        return f"{self.name}: model has shape {self.expected}, file has {self.received}"


@dataclass
class WeightsReport:
    """What a weights load found: ``missing`` (in the model, not the file), ``unexpected``
    (in the file, not the model), ``mismatched`` shapes, and the names ``loaded``."""

    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    mismatched: list[ShapeMismatch] = field(default_factory=list)
    loaded: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every entry matched by name and shape."""
        return not (self.missing or self.unexpected or self.mismatched)

    def describe(self) -> str:
        """Every problem, one per line (empty when ``ok``)."""
        lines = [f"missing from the file: {name}" for name in self.missing]
        lines += [f"unexpected in the file: {name}" for name in self.unexpected]
        lines += [f"shape mismatch: {item}" for item in self.mismatched]
        return "\n".join(f"  - {line}" for line in lines)


Planned = list[tuple[str, h5py.Dataset, np.ndarray]]


def match_arrays(
    reader: CheckpointReader, group: str, targets: dict[str, np.ndarray]
) -> tuple[WeightsReport, Planned]:
    """Match the datasets below ``group`` with ``targets`` by name; read nothing.

    Returns the report and the (name, dataset, target) triples that match by
    name and shape, in the order of ``targets``. A matched dataset whose dtype
    cannot hold weights is an error, not a mismatch.
    """
    found = reader.datasets_under(group)
    report = WeightsReport(
        missing=[name for name in targets if name not in found],
        unexpected=sorted(name for name in found if name not in targets),
    )
    planned: Planned = []
    for name, target in targets.items():
        dataset = found.get(name)
        if dataset is None:
            continue
        reader.check(dataset, _kind(target))
        if tuple(dataset.shape) != target.shape:
            report.mismatched.append(ShapeMismatch(name, target.shape, tuple(dataset.shape)))
        else:
            planned.append((name, dataset, target))
    return report, planned


def read_planned(reader: CheckpointReader, planned: Planned) -> list[tuple[np.ndarray, np.ndarray]]:
    """Read and verify every planned dataset: (target, values) pairs, nothing copied yet."""
    return [
        (target, reader.read_array(dataset, _kind(target), target.shape))
        for _, dataset, target in planned
    ]


def _kind(target: np.ndarray) -> str:
    """Float arrays accept any float dataset (cast on copy); others need integers."""
    return "float" if target.dtype.kind == "f" else "int"


def copy_into(pairs: list[tuple[np.ndarray, np.ndarray]]) -> None:
    """Copy read values into the model's arrays in place, cast to each array's dtype."""
    for target, values in pairs:
        target[...] = values


def model_weights(model: Any) -> dict[str, np.ndarray]:
    """The model's parameters and buffers by ``layer/name`` (views, not copies)."""
    return {**model.params, **model.buffers}


def write_weights(file: h5py.File, model: Any) -> None:
    """Every parameter and buffer at ``/weights/<layer>/<name>``."""
    group = file.create_group(WEIGHTS)
    for layer in model.layers:
        for name, value in layer.params.items():
            write_array(group, f"{layer.name}/{name}", value, **{ATTR_ROLE: ROLE_PARAMETER})
        for name, value in layer.buffers.items():
            write_array(group, f"{layer.name}/{name}", value, **{ATTR_ROLE: ROLE_BUFFER})


def save_weights(model: Any, path: str | os.PathLike[str]) -> None:
    """Write the model's parameters and buffers (no spec, no state) to ``path``, atomically."""

    def fill(file: h5py.File) -> None:
        write_header(file, KIND_WEIGHTS)
        write_weights(file, model)

    atomic_write(path, fill)


def load_weights(model: Any, path: str | os.PathLike[str], strict: bool = True) -> WeightsReport:
    """Load parameters and buffers by name from a weights file or a full checkpoint.

    With ``strict=True`` any missing, unexpected or mis-shaped entry raises a
    ``CheckpointError`` listing all of them (its ``report`` attribute holds the
    ``WeightsReport``) and nothing is loaded. With
    ``strict=False`` the entries that match by name and shape are loaded and
    the report says what did not. Values are cast to the model's dtype. A
    damaged file always raises ``CheckpointError`` and leaves the model as it was.
    """
    with open_checkpoint(path) as reader:
        report, planned = match_arrays(reader, WEIGHTS, model_weights(model))
        if strict and not report.ok:
            count = len(report.missing) + len(report.unexpected) + len(report.mismatched)
            error = CheckpointError(
                f"cannot load weights from {reader.label} into model {model.name!r}: "
                f"{count} problem{'s' if count != 1 else ''}, nothing was loaded "
                f"(strict=False loads the entries that match)\n{report.describe()}"
            )
            error.report = report  # type: ignore[attr-defined]
            raise error
        pairs = read_planned(reader, planned)
    copy_into(pairs)
    report.loaded = [name for name, _, _ in planned]
    return report
