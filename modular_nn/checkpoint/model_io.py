"""Whole-model checkpoints: ``save_model`` (``model.save``) and ``load_model`` (``mnn.load``).

A checkpoint holds the normalized spec, provenance, weights, optimizer state,
training state (see ``modular_nn.checkpoint.format``) and, for a model trained
on text, its vocabulary; for one trained by the CLI on a file, its class names,
data source and split. Loading checks the file, makes sure every component it
records is installed, validates the embedded spec like any other spec, rebuilds
the model from it, then reads and verifies every array before restoring
anything, so that ``predict`` is bit-identical and a further ``fit`` continues
the run exactly.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import h5py

from modular_nn.checkpoint.data_record import (
    read_class_names,
    read_data_record,
    write_data_record,
)
from modular_nn.checkpoint.format import KIND_MODEL, PROVENANCE_COMPONENTS, SPEC, WEIGHTS
from modular_nn.checkpoint.provenance import (
    components_used,
    describe_missing,
    missing_components,
    parse_records,
)
from modular_nn.checkpoint.reader import CheckpointReader, open_checkpoint
from modular_nn.checkpoint.state import (
    read_optimizer,
    read_training,
    write_optimizer,
    write_training,
)
from modular_nn.checkpoint.vocabulary import read_vocabulary, write_vocabulary
from modular_nn.checkpoint.weights import (
    copy_into,
    match_arrays,
    model_weights,
    read_planned,
    write_weights,
)
from modular_nn.checkpoint.writer import atomic_write, write_header, write_text
from modular_nn.errors import CheckpointError, ModularNNError, SpecError

if TYPE_CHECKING:
    from modular_nn.spec.model_spec import ModelSpec


def save_model(model: Any, path: str | os.PathLike[str]) -> None:
    """Write ``model`` (spec, weights, optimizer and training state) to ``path``, atomically."""
    spec = model.to_spec()
    components = components_used(spec)

    def fill(file: h5py.File) -> None:
        write_header(file, KIND_MODEL)
        write_text(file, SPEC, spec.to_json(indent=2))
        file.create_group("provenance")
        write_text(file, PROVENANCE_COMPONENTS, json.dumps(components, indent=2))
        write_weights(file, model)
        write_optimizer(file, model.optimizer)
        write_training(file, model)
        write_vocabulary(file, getattr(model, "vocabulary", None))
        write_data_record(file, model)

    atomic_write(path, fill)


def load_model(path: str | os.PathLike[str], build: Callable[[ModelSpec], Any]) -> Any:
    """Rebuild a model saved with ``save_model`` with ``build`` (``build_model``: the
    checkpoint package sits below the model package and does not import it) and restore
    all of its state.

    Raises only ``CheckpointError``, with a message saying what is wrong; a spec
    problem is a ``CheckpointError`` whose ``__cause__`` is the ``SpecError``.
    """
    with open_checkpoint(path, kinds=(KIND_MODEL,)) as reader:
        check_components(reader)
        spec = read_spec(reader)
        check_size(reader, spec)
        model = _build(reader, spec, build)
        report, planned = match_arrays(reader, WEIGHTS, model_weights(model))
        if not report.ok:
            raise reader.error(f"its weights do not match its spec:\n{report.describe()}")
        restore_optimizer = read_optimizer(reader, model.optimizer)
        restore_training = read_training(reader, model)
        vocabulary = read_vocabulary(reader)
        class_names, record = read_class_names(reader), read_data_record(reader)
        weights = read_planned(reader, planned)
    copy_into(weights)
    restore_optimizer()
    restore_training()
    model.vocabulary = vocabulary
    model.class_names, model.data_record = class_names, record
    return model


def check_components(reader: CheckpointReader) -> None:
    """Every component type the file records must be installed; say what to install if not."""
    records = parse_records(reader.read_json(PROVENANCE_COMPONENTS))
    if records is None:
        raise reader.error(
            f"/{PROVENANCE_COMPONENTS} is malformed: expected a JSON list of "
            "{kind, name, plugin, distribution, version} objects"
        )
    missing = missing_components(records)
    if missing:
        raise reader.error(
            "it needs components that are not available: " + describe_missing(missing)
        )


#: The fewest bytes a stored parameter takes (float16; any float dtype is cast on load).
SMALLEST_FLOAT_BYTES = 2


def check_size(reader: CheckpointReader, spec: ModelSpec) -> None:
    """Refuse, before building anything, a spec whose parameters the file is too small to
    hold: building it would allocate memory in proportion to the spec, not to the file."""
    from modular_nn.spec.shapes import spec_param_count

    count = spec_param_count(spec)
    needed = count * SMALLEST_FLOAT_BYTES  # stored weights are cast to the model's dtype
    if needed > reader.size:
        raise reader.error(
            f"its spec describes {count:,} parameters (at least {needed:,} bytes), more than "
            f"the file's {reader.size:,} bytes can hold: it is damaged or was altered"
        )


def read_spec(reader: CheckpointReader) -> ModelSpec:
    """The embedded spec, validated like any spec (``SpecError`` becomes the cause)."""
    from modular_nn.spec.loading import load_spec

    data = reader.read_json(SPEC)
    if not isinstance(data, dict):  # never a str: load_spec would take it for a path
        raise reader.error(f"/{SPEC} must hold a JSON object, received: {type(data).__name__}")
    try:
        return load_spec(data)
    except SpecError as exc:
        raise reader.error(f"its embedded spec is invalid: {exc}") from exc


def _build(reader: CheckpointReader, spec: ModelSpec, build: Callable[[ModelSpec], Any]) -> Any:
    try:
        return build(spec)
    except ModularNNError as exc:
        raise CheckpointError(
            f"cannot read checkpoint {reader.label}: its spec cannot be built: {exc}"
        ) from exc
