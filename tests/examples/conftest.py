"""Shared by the example tests: where the examples are, and the schema they must satisfy."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = ROOT / "schemas" / "model-spec.schema.json"


@pytest.fixture(scope="session")
def example() -> Callable[[str], Path]:
    """``example(name)``: the path of ``examples/<name>.json``, checked against the
    committed JSON Schema."""
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text()))

    def path_of(name: str) -> Path:
        path = ROOT / "examples" / f"{name}.json"
        validator.validate(json.loads(path.read_text()))
        return path

    return path_of
