"""What a model was trained on, in its checkpoint: class names, data source and split.

Three optional JSON datasets under ``/data`` (docs/checkpoint-format.md):

- ``/data/class_names``: the list of class names when the labels were names
  (a CSV's ``malignant``, ``benign``): label ``k`` is ``class_names[k]``.
- ``/data/source``: ``{"source", "path", "label", "samples"}``: the data source
  as given, the absolute path it resolved to, the CSV label column, the rows.
- ``/data/split``: the rows held out (``modular_nn.data.split.Split.to_json``).

Files without them (models trained through the API, and every file written
before they existed) load with ``model.class_names`` and ``model.data_record``
None.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import h5py

from modular_nn.checkpoint.format import CLASS_NAMES, DATA, DATA_SOURCE, DATA_SPLIT
from modular_nn.checkpoint.reader import CheckpointReader
from modular_nn.checkpoint.writer import write_text


def write_data_record(file: h5py.File, model: Any) -> None:
    """``/data/class_names``, ``/data/source`` and ``/data/split`` for what ``model`` has."""
    names = getattr(model, "class_names", None)
    record = getattr(model, "data_record", None)
    if names is None and record is None:
        return
    file.require_group(DATA)
    if names is not None:
        write_text(file, CLASS_NAMES, json.dumps(list(names), ensure_ascii=False))
    if record is not None:
        write_text(file, DATA_SOURCE, json.dumps(record.source_json(), ensure_ascii=False))
        if record.split is not None:
            write_text(file, DATA_SPLIT, json.dumps(record.split.to_json()))


def read_class_names(reader: CheckpointReader) -> list[str] | None:
    """The stored class names, checked: a JSON list of distinct strings; None without."""
    if not reader.has(CLASS_NAMES):
        return None
    data = reader.read_json(CLASS_NAMES)
    if not isinstance(data, list) or not data or not all(isinstance(c, str) for c in data):
        raise reader.error(f"/{CLASS_NAMES} is malformed: expected a JSON list of strings")
    repeated = sorted(c for c, n in Counter(data).items() if n > 1)
    if repeated:
        raise reader.error(f"/{CLASS_NAMES} lists names more than once: {', '.join(repeated)}")
    return data


def read_data_record(reader: CheckpointReader) -> Any:
    """The stored ``DataRecord`` (``modular_nn.data.split``), checked; None without."""
    if not reader.has(DATA_SOURCE):
        return None
    from modular_nn.data.split import DataRecord, Split

    data = reader.read_json(DATA_SOURCE)
    ok = (
        isinstance(data, dict)
        and isinstance(data.get("source"), str)
        and isinstance(data.get("path"), str)
        and (data.get("label") is None or isinstance(data.get("label"), (str, int)))
        and isinstance(data.get("samples"), int)
        and not isinstance(data.get("samples"), bool)
    )
    if not ok:
        raise reader.error(
            f"/{DATA_SOURCE} is malformed: expected a JSON object with source (string), "
            "path (string), label (string, integer or null) and samples (integer)"
        )
    split = None
    if reader.has(DATA_SPLIT):
        try:
            split = Split.from_json(reader.read_json(DATA_SPLIT))
        except ValueError as exc:
            raise reader.error(f"/{DATA_SPLIT} is malformed: {exc}") from None
        if split.samples != data["samples"]:
            raise reader.error(
                f"/{DATA_SPLIT} is of {split.samples} rows but /{DATA_SOURCE} of {data['samples']}"
            )
    return DataRecord(data["source"], data["path"], data["label"], data["samples"], split)
