"""A text description of a checkpoint, read without rebuilding the model.

Used by ``modular-nn inspect``. Only metadata and small JSON datasets are read
(the spec is shown as recorded, not validated), so it works when a plugin the
model needs is missing; ``verify=True`` also reads every dataset and checks
its checksums.
"""

from __future__ import annotations

import json
import math
import os
import textwrap
from typing import Any

import h5py

from modular_nn.checkpoint.data_record import read_class_names, read_data_record
from modular_nn.checkpoint.format import (
    ATTR_CREATED,
    ATTR_FORMAT_VERSION,
    ATTR_KIND,
    ATTR_LIBRARY_VERSION,
    ATTR_ROLE,
    ATTR_TYPE,
    EPOCHS_DONE,
    GLOBAL_STEP,
    HISTORY_METRICS,
    KIND_MODEL,
    OPTIMIZER,
    OPTIMIZER_ITERATIONS,
    OPTIMIZER_SLOTS,
    PROVENANCE_COMPONENTS,
    SPEC,
    TRAINING,
    WEIGHTS,
)
from modular_nn.checkpoint.provenance import advice, missing_components, parse_records
from modular_nn.checkpoint.reader import CheckpointReader, open_checkpoint
from modular_nn.checkpoint.vocabulary import read_vocabulary
from modular_nn.errors import CheckpointError
from modular_nn.model.summary import format_table


def describe_checkpoint(path: str | os.PathLike[str], *, verify: bool = False) -> str:
    """Spec summary, weight table, optimizer, epochs and step, and providers of ``path``."""
    with open_checkpoint(path) as reader:
        root = reader.file
        kind = reader.text_attr(root, ATTR_KIND)
        lines = [
            f"checkpoint {reader.label}: {kind} file, format_version "
            f"{reader.attr(root, ATTR_FORMAT_VERSION)}, {reader.size:,} bytes",
            f"written by modular_nn {_optional_attr(reader, ATTR_LIBRARY_VERSION)} "
            f"at {_optional_attr(reader, ATTR_CREATED)}",
        ]
        spec = reader.read_json(SPEC) if kind == KIND_MODEL else None
        weights = reader.datasets_under(WEIGHTS)
        if isinstance(spec, dict):
            lines += ["", *_spec_lines(reader, spec, weights)]
        lines += ["", *_weight_lines(reader, spec, weights)]
        if kind == KIND_MODEL:
            lines += ["", *_state_lines(reader)]
            lines += ["", *_provider_lines(reader)]
        if verify:
            lines += ["", _verify(reader)]
    return "\n".join(lines)


def _optional_attr(reader: CheckpointReader, name: str) -> str:
    return str(reader.attr(reader.file, name)) if name in reader.file.attrs else "(unknown)"


def _spec_lines(
    reader: CheckpointReader, spec: dict[str, Any], weights: dict[str, h5py.Dataset]
) -> list[str]:
    inputs = spec.get("inputs")
    if isinstance(inputs, dict):  # a graph's named inputs
        shapes = ", ".join(f"{name} {tuple(shape or ())}" for name, shape in inputs.items())
        described = f"inputs {shapes}"
    else:
        described = f"input_shape {tuple(spec.get('input_shape') or ())}"
    lines = [
        f"model {spec.get('name')!r}: {described}, "
        f"dtype {spec.get('dtype')}, seed {spec.get('seed')}"
    ]
    rows = []
    for entry in spec.get("layers") or []:
        if not isinstance(entry, dict):
            continue
        name = str(entry.get("name"))
        count = sum(
            math.prod(d.shape or ())
            for key, d in weights.items()
            if key.startswith(f"{name}/") and _role(reader, d) != "buffer"
        )
        options = {k: v for k, v in entry.items() if k not in ("type", "name")}
        kind = entry.get("type") or ("shared" if "shares" in entry else None)
        first, *rest = _wrapped(options) or [""]
        rows.append((name, str(kind), f"{count:,}", first))
        rows += [("", "", "", more) for more in rest]  # every option, wrapped, never cut
    lines += _table(("layer", "type", "params", "options"), rows)
    for label in ("loss", "optimizer"):
        first, *rest = _wrapped(spec.get(label)) or [""]
        lines += [f"{label}: {first}", *(" " * (len(label) + 2) + more for more in rest)]
    return lines


def _weight_lines(
    reader: CheckpointReader, spec: Any, weights: dict[str, h5py.Dataset]
) -> list[str]:
    order = {}
    if isinstance(spec, dict):
        layers = [e.get("name") for e in spec.get("layers") or [] if isinstance(e, dict)]
        order = {name: index for index, name in enumerate(layers)}
    names = sorted(weights, key=lambda k: (order.get(k.split("/")[0], len(order)), k))
    rows = [
        (
            name,
            str(tuple(weights[name].shape or ())),
            str(weights[name].dtype),
            _role(reader, weights[name]),
        )
        for name in names
    ]
    total = sum(math.prod(weights[name].shape or ()) for name in names)
    lines = [
        f"weights (/{WEIGHTS}): {len(rows)} arrays, {total:,} values",
        *_table(("name", "shape", "dtype", "role"), rows),
    ]
    # the statistics a model keeps (batch_norm's running ones, normalization's adapted
    # ones) are worth seeing: their first values
    buffers = [name for name in names if _role(reader, weights[name]) == "buffer"]
    if buffers:
        values = [(name, _first_values(reader, weights[name])) for name in buffers]
        lines += ["buffers (first values):", *_table(("name", "values"), values)]
    return lines


def _first_values(reader: CheckpointReader, dataset: h5py.Dataset, shown: int = 6) -> str:
    try:
        values = reader.read_array(dataset, "float").ravel()
    except CheckpointError as exc:  # inspect still describes a damaged file: --verify says more
        return f"(unreadable: {exc})"
    text = ", ".join(f"{v:.6g}" for v in values[:shown])
    return f"[{text}{', ...' if values.size > shown else ''}]"


def _role(reader: CheckpointReader, dataset: h5py.Dataset) -> str:
    return str(reader.attr(dataset, ATTR_ROLE)) if ATTR_ROLE in dataset.attrs else "?"


def _state_lines(reader: CheckpointReader) -> list[str]:
    lines = []
    if reader.has(OPTIMIZER):
        group = reader.group(OPTIMIZER)
        slots = reader.datasets_under(OPTIMIZER_SLOTS) if reader.has(OPTIMIZER_SLOTS) else {}
        slot_names = sorted({name.rsplit("/", 1)[-1] for name in slots})
        lines.append(
            f"optimizer state: {reader.text_attr(group, ATTR_TYPE)}, "
            f"iterations {reader.read_int(OPTIMIZER_ITERATIONS)}, {len(slots)} slot arrays"
            + (f" ({', '.join(slot_names)})" if slot_names else "")
        )
    else:
        lines.append("optimizer state: none (the model has no optimizer)")
    if reader.has(TRAINING):
        lines.append(
            f"training: {reader.read_int(EPOCHS_DONE)} epochs done, "
            f"global step {reader.read_int(GLOBAL_STEP)}"
        )
        if reader.has(HISTORY_METRICS):
            last = []
            for key, dataset in sorted(reader.datasets_under(HISTORY_METRICS).items()):
                values = reader.read_array(dataset, "float")
                last.append(f"{key}={values[-1]:.6g}" if values.size else f"{key}=[]")
            lines.append("history (last epoch): " + (", ".join(last) or "empty"))
    vocabulary = read_vocabulary(reader)
    if vocabulary is not None:  # a model trained on text:PATH
        text = json.dumps("".join(vocabulary), ensure_ascii=False)
        lines.append(f"vocabulary: {len(vocabulary)} characters {_brief(text)}")
    class_names = read_class_names(reader)
    if class_names is not None:  # labels that were names
        lines.append(f"classes: {len(class_names)} {_brief(', '.join(class_names))}")
    record = read_data_record(reader)
    if record is not None:
        label = "" if record.label is None else f", label {record.label!r}"
        lines.append(f"data: {record.source} ({record.samples} rows{label}) at {record.path}")
        if record.split is not None:
            lines.append(f"split: {record.split.describe()}")
    return lines


def _provider_lines(reader: CheckpointReader) -> list[str]:
    records = parse_records(reader.read_json(PROVENANCE_COMPONENTS))
    if records is None:
        return ["providers: (malformed record)"]
    missing = {(r["kind"], r["name"]) for r in missing_components(records)}
    rows = []
    for record in records:
        source = " ".join(x for x in (record["distribution"], record["version"]) if x) or "-"
        status = (
            f"MISSING: {advice(record)}"
            if (record["kind"], record["name"]) in missing
            else "installed"
        )
        rows.append((f"{record['kind']}/{record['name']}", source, str(record["plugin"]), status))
    return ["providers:", *_table(("component", "distribution", "plugin", "status"), rows)]


def _verify(reader: CheckpointReader) -> str:
    count = 0

    def visit(name: str, node: Any) -> None:
        nonlocal count
        if not isinstance(node, h5py.Dataset):
            return
        if node.dtype.kind == "S":
            reader.read_text(name)
        else:
            reader.read_array(node, "float" if node.dtype.kind == "f" else "int")
        count += 1

    reader.file.visititems(visit)
    return f"verified {count} datasets: every checksum matches"


def _brief(value: Any, width: int = 60) -> str:
    """A short one-line rendering: ``relu``, ``leaky_relu(alpha=0.2)``, ``units=3, ...``."""
    if isinstance(value, dict) and isinstance(value.get("type"), str):
        options = {k: v for k, v in value.items() if k != "type"}
        text = value["type"] + (f"({_brief(options, 10**6)})" if options else "")
    elif isinstance(value, dict):
        text = ", ".join(f"{k}={_brief(v, 10**6)}" for k, v in value.items())
    else:
        text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _wrapped(value: Any, width: int = 60) -> list[str]:
    """``_brief``'s rendering in full, wrapped after commas into lines of about
    ``width`` characters (a single option longer than that keeps a line of its own)."""
    text = _brief(value, 10**9)
    return textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False)


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    """``format_table`` (the layout of ``Model.summary``), indented under its heading."""
    return ["  " + line for line in format_table(rows, header).splitlines()]
