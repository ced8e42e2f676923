"""The JSON Schema (draft 2020-12) of model specs, for the registered components."""

from __future__ import annotations

import json
from typing import Any

from modular_nn.registry import builtins_only_registry, get_registry, use_registry
from modular_nn.spec.model_spec import spec_model

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID = "https://modular-nn.example/schemas/model-spec.schema.json"


def spec_json_schema(*, builtins_only: bool = False) -> dict[str, Any]:
    """The schema of specs using the components registered now (or only the built-ins)."""
    registry = builtins_only_registry() if builtins_only else get_registry()
    with use_registry(registry):
        schema = spec_model(registry).model_json_schema(by_alias=True)
    schema = {"$schema": SCHEMA_DIALECT, "$id": SCHEMA_ID, **schema}
    schema["title"] = "modular_nn model spec"
    return schema


def spec_json_schema_text(*, builtins_only: bool = False) -> str:
    """The schema as stable, indented JSON text ending with a newline."""
    return (
        json.dumps(spec_json_schema(builtins_only=builtins_only), indent=2, sort_keys=False) + "\n"
    )
