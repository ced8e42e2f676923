"""The JSON Schema of specs: valid draft 2020-12, up to date, and agreeing with the examples."""

import json
from pathlib import Path

import jsonschema
import numpy as np
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
        <= {layer["type"] for layer in json.loads(path.read_text())["layers"]}
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


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"layers": [{"type": "dense", "units": True}]}, "layers[0].units"),
        ({"layers": [{"type": "dense", "units": "5"}]}, "layers[0].units"),
        ({"input_shape": ["2"]}, "input_shape[0]"),
        ({"seed": "3"}, "seed"),
        ({"training": {"shuffle": "no"}}, "training.shuffle"),
        ({"optimizer": {"type": "sgd", "nesterov": "off", "momentum": 0.9}}, "optimizer.nesterov"),
    ],
)
def test_load_spec_refuses_the_coerced_types_the_schema_refuses(change: dict, path: str) -> None:
    spec = {"input_shape": [2], "layers": [{"type": "dense", "units": 1}], **change}
    validator = jsonschema.Draft202012Validator(spec_json_schema(builtins_only=True))
    assert not validator.is_valid(spec)
    with pytest.raises(mnn.SpecError) as caught:
        mnn.load_spec(spec)
    assert [issue.path for issue in caught.value.issues] == [path]


def test_python_containers_and_numpy_scalars_are_read_as_the_json_they_would_be() -> None:
    spec = mnn.load_spec(
        {
            "input_shape": (8, 8, 1),
            "layers": ({"type": "conv2d", "filters": np.int64(2), "kernel_size": (3, 3)},),
            "optimizer": {"type": "sgd", "learning_rate": np.float32(0.5)},
        }
    )
    assert spec.input_shape == [8, 8, 1] and spec.layers[0].filters == 2
    assert spec.layers[0].kernel_size == (3, 3) and spec.optimizer.learning_rate == 0.5
    with pytest.raises(mnn.SpecError, match="a spec is JSON data: object is not JSON data"):
        mnn.load_spec({"input_shape": [2], "layers": [{"type": "dense", "units": object()}]})
