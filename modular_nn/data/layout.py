"""A model's inputs and outputs by name, and data arranged to match them.

A model with several inputs or outputs reads data whose arrays are named
after them (``left``, ``right``, ``same``); a single input may also be ``X``
(or ``x_key``) and a single target ``y``, as files always had it. ``Layout``
finds those names among a file's arrays, and arranges a ``Dataset`` (from a
file or a built-in) the way ``Model.fit`` takes it: dicts keyed by name for
several inputs or targets, one array for one, each input reshaped to the
model's shape.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from modular_nn.data.dataset import Dataset, Inputs
from modular_nn.data.sources import BatchSource, check_reshape
from modular_nn.errors import DataError


def _names(names: Sequence[str]) -> str:
    return ", ".join(repr(n) for n in names)


@dataclass(frozen=True)
class Layout:
    """What a model reads: its inputs (name to shape) and its outputs' names.

    ``outputs`` is empty when labels are not read (prediction); ``[""]`` is one
    target of no known name.
    """

    inputs: dict[str, tuple[int, ...]]
    outputs: list[str]

    @classmethod
    def of(
        cls, inputs: Mapping[str, Sequence[int]] | None, outputs: Sequence[str] | None, labels: bool
    ) -> Layout:
        if inputs is None:
            raise DataError("give the model's inputs (name to shape) with its outputs")
        shapes = {k: tuple(int(d) for d in v) for k, v in inputs.items()}
        # without output names, labels are one target ("y", or y_key)
        names = [""] if outputs is None else list(outputs)
        return cls(shapes, names if labels else [])

    @property
    def several(self) -> bool:
        return len(self.inputs) > 1 or len(self.outputs) > 1

    def describe(self) -> str:
        named = [n for n in self.outputs if n]
        return f"inputs {_names(self.inputs)}" + (f" and outputs {_names(named)}" if named else "")

    def check_single_table(self, path: Path) -> None:
        """``DataError`` for a CSV or ``.npy`` file (one table) when the model reads
        several inputs, or several targets."""
        if len(self.inputs) > 1 or len(self.outputs) > 1:
            csv = path.suffix.lower() == ".csv"
            kind = "CSV file holds one table" if csv else ".npy file holds one array"
            raise DataError(
                f"{path}: a {kind}, but this model has {self.describe()}; use a .npz or .h5 "
                "file with one array per input and output, named after them"
            )

    def slots(self, x_key: str | None, y_key: str | None) -> list[tuple[str, str, list[str]]]:
        """``(role, model name, array names to try)`` for every input and target: a single
        input may be ``X`` (or ``x_key``), a single target ``y``; several need their names."""
        slots = []
        for role, names, key, default, flag in (
            ("input", list(self.inputs), x_key, "X", "--x-key"),
            ("target", self.outputs, y_key, "y", "--y-key"),
        ):
            if len(names) > 1:
                if key is not None:
                    raise DataError(
                        f"{flag} {key!r} names one array, but this model has {len(names)} "
                        f"{role}s ({_names(names)}): name its arrays after them instead"
                    )
                slots += [(role, name, [name]) for name in names]
            elif names:
                tried = [key] if key is not None else [default, names[0]]
                slots.append((role, names[0], [k for k in dict.fromkeys(tried) if k]))
        return slots

    def resolve(
        self, path: Path, found: list[str], kind: str, x_key: str | None, y_key: str | None
    ) -> tuple[dict[str, str], dict[str, str]]:
        """Input and output name to array name among ``found``; one ``DataError`` naming
        every missing array and the arrays there are."""
        chosen: tuple[dict[str, str], dict[str, str]] = ({}, {})
        missing, flags = [], []
        for role, name, tried in self.slots(x_key, y_key):
            key = next((k for k in tried if k in found), None)
            if key is None:
                alternatives = " or ".join(repr(k) for k in tried)
                owner = f"input {name!r}" if role == "input" else f"target of output {name!r}"
                missing.append(f"{alternatives} ({owner})" if name else alternatives)
                single = len(self.inputs if role == "input" else self.outputs) == 1
                flags += ["--x-key" if role == "input" else "--y-key"] if single else []
            else:
                chosen[role == "target"][name] = key
        if missing:
            hint = f"; or choose with {' and '.join(flags)}" if flags else ""
            raise DataError(
                f"{path} does not have the {kind}s this model reads ({self.describe()}, "
                f"{kind}s named after them): missing {', '.join(missing)}; {kind}s found: "
                f"{', '.join(sorted(found)) or 'none'}{hint}"
            )
        return chosen

    def arrange(self, dataset: Dataset) -> Dataset:
        """``dataset`` as the model takes it: a dict of arrays keyed by name for several
        inputs (targets), one array for one (whatever the name a dataset gave it); each
        input reshaped to the model's shape. ``DataError`` when the names differ."""
        return Dataset(
            self._inputs(dataset.x_train, dataset.name),
            self._targets(dataset.y_train, dataset.name),
            None if dataset.x_test is None else self._inputs(dataset.x_test, dataset.name),
            self._targets(dataset.y_test, dataset.name),
            name=dataset.name,
            class_names=dataset.class_names,
        )

    def _inputs(self, x: Inputs, where: str) -> Inputs:
        names = list(self.inputs)
        if isinstance(x, BatchSource):
            return _reshaped_source(x, self.inputs)
        if isinstance(x, Mapping):
            if len(names) == 1 and len(x) == 1:
                x = next(iter(x.values()))
            else:
                _check_names(x, names, where, "inputs")
                return {n: _reshaped(np.asarray(x[n]), self.inputs[n], n) for n in names}
        if len(names) > 1:
            raise DataError(
                f"{where} has one input array, but this model has inputs {_names(names)}: "
                "give one array per input, named after it"
            )
        return _reshaped(x, self.inputs[names[0]], None)

    def _targets(self, y: np.ndarray | Mapping[str, np.ndarray] | None, where: str) -> Any:
        if y is None or not self.outputs:
            return y
        if isinstance(y, Mapping):
            if len(self.outputs) == 1 and len(y) == 1:
                return next(iter(y.values()))
            _check_names(y, self.outputs, where, "outputs")
            return {n: y[n] for n in self.outputs}
        if len(self.outputs) > 1:
            raise DataError(
                f"{where} has one target array, but this model has outputs "
                f"{_names(self.outputs)}: give one target array per output, named after it"
            )
        return y


def _check_names(values: Mapping[str, Any], names: list[str], where: str, what: str) -> None:
    if set(values) != set(names):
        raise DataError(
            f"{where} provides {what} {_names(list(values))}, but this model's {what} are "
            f"{_names(names)}; name the model's {what} after the data's, or the data's "
            "arrays after the model's"
        )


def _reshaped(x: np.ndarray, shape: tuple[int, ...], name: str | None) -> np.ndarray:
    """``x`` with each sample reshaped to ``shape`` (of the input ``name``, if named)."""
    if tuple(x.shape[1:]) == shape:
        return x
    if x.ndim == 0:
        raise DataError(f"input {name!r} is a scalar; expected one row per sample")
    check_reshape(tuple(x.shape[1:]), shape, name)
    return x.reshape((x.shape[0], *shape))


def _reshaped_source(source: BatchSource, shapes: dict[str, tuple[int, ...]]) -> BatchSource:
    """``source`` with its samples reshaped to the model's inputs (``DataError`` if they
    hold other numbers of values)."""
    have = source.sample_shape
    if isinstance(have, dict):
        want = {n: shapes.get(n, have[n]) for n in have}
        return source if want == have else source.reshaped(want)
    if len(shapes) > 1:
        raise DataError(f"{source!r} holds one input, but this model has inputs {_names(shapes)}")
    shape = next(iter(shapes.values()))
    return source if shape == have else source.reshaped(shape)
