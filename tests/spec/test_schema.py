"""The JSON Schema of specs: valid draft 2020-12, up to date, and agreeing with the examples."""

import json
from pathlib import Path

import jsonschema
import pytest

import modular_nn as mnn
from modular_nn.spec.schema import spec_json_schema, spec_json_schema_text

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = ROOT / "schemas" / "model-spec.schema.json"
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))


def test_schema_is_valid_draft_2020_12() -> None:
    schema = spec_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_committed_schema_is_not_stale() -> None:
    expected = spec_json_schema_text(builtins_only=True)
    assert SCHEMA_FILE.read_text(encoding="utf-8") == expected, (
        "schemas/model-spec.schema.json is stale: regenerate it with "
        "`modular-nn schema --builtins-only -o schemas/model-spec.schema.json`"
    )


def test_builtins_only_schema_lists_only_builtin_types() -> None:
    text = spec_json_schema_text(builtins_only=True)
    assert '"dense"' in text and "extras." not in text


def test_there_are_examples() -> None:
    names = {path.name for path in EXAMPLES}
    assert {"xor.json", "digits_mlp.json"} <= names
    uses_bn_and_dropout = [
        path
        for path in EXAMPLES
        if {"batch_norm", "dropout"}
        <= {layer.get("type") for layer in json.loads(path.read_text())["layers"]}
    ]
    assert uses_bn_and_dropout, "an example must use batch_norm and dropout"


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_validates_against_schema_and_round_trips(path: Path) -> None:
    data = json.loads(path.read_text())
    jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text())).validate(data)
    model = mnn.build_model(path)
    normalized = model.to_spec()
    assert mnn.build_model(normalized).to_spec().model_dump() == normalized.model_dump()
    assert mnn.load_spec(normalized.model_dump()).model_dump() == normalized.model_dump()


def test_schema_rejects_what_load_spec_rejects() -> None:
    validator = jsonschema.Draft202012Validator(spec_json_schema(builtins_only=True))
    assert not validator.is_valid({"input_shape": [2], "layers": [{"type": "dense", "units": -1}]})
    assert not validator.is_valid({"input_shape": [2], "layers": [{"type": "dense2", "units": 1}]})
    assert not validator.is_valid({"layers": [{"type": "dense", "units": 1}]})
    assert validator.is_valid(
        {"input_shape": [2], "layers": [{"type": "dense", "units": 1}], "loss": "mse"}
    )
