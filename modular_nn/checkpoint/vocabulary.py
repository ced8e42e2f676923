"""The vocabulary of a model trained on text (``text:PATH``) in its checkpoint.

``/data/vocabulary`` (optional) is JSON text: the list of the model's
characters, each a string of one Unicode code point, with no repeats;
``vocabulary[k]`` has id ``k + 1`` (id 0 is padding; ``modular_nn.data.text``).
Files without it (every file of a model not trained on text, and those written
before it existed) load with ``model.vocabulary`` None.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

import h5py

from modular_nn.checkpoint.format import DATA, VOCABULARY
from modular_nn.checkpoint.reader import CheckpointReader
from modular_nn.checkpoint.writer import write_text


def write_vocabulary(file: h5py.File, vocabulary: Sequence[str] | None) -> None:
    """``/data/vocabulary`` when the model has a vocabulary; nothing otherwise."""
    if vocabulary is None:
        return
    file.require_group(DATA)
    write_text(file, VOCABULARY, json.dumps(list(vocabulary), ensure_ascii=False))


def read_vocabulary(reader: CheckpointReader) -> list[str] | None:
    """The stored vocabulary, checked: a JSON list of distinct one-character strings;
    None when the file has none."""
    if not reader.has(VOCABULARY):
        return None
    data = reader.read_json(VOCABULARY)
    if not isinstance(data, list) or not all(isinstance(c, str) and len(c) == 1 for c in data):
        raise reader.error(
            f"/{VOCABULARY} is malformed: expected a JSON list of one-character strings"
        )
    repeated = sorted(c for c, n in Counter(data).items() if n > 1)
    if repeated:
        raise reader.error(
            f"/{VOCABULARY} lists characters more than once: "
            + ", ".join(f"{c!r} (U+{ord(c):04X})" for c in repeated)
        )
    return data
