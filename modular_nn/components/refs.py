"""Options that name another registered component (``"activation": "relu"``).

``ComponentRef("activations")`` is a pydantic annotation: it accepts a name or
``{"type": name, **options}``, checks the name against the registry (with the
same did-you-mean message as everywhere else), validates the options with that
component's ``Config``, and normalizes to ``{"type": name, **options}`` with
defaults filled in, which is what ``to_spec()`` writes out.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler, ValidationError
from pydantic_core import PydanticCustomError, core_schema

from modular_nn.errors import PluginError
from modular_nn.registry import KIND_LABELS, get_registry

#: Kind -> its label in messages ("activations" -> "activation"); the registry's table.
REF_KIND_LABEL = KIND_LABELS


def normalize_ref(kind: str, value: Any) -> dict[str, Any]:
    """Validate a reference to a ``kind`` component; return its normalized dict form.

    Raises ``PydanticCustomError`` so that pydantic reports it at the field's path.
    """
    from modular_nn.spec.issues import describe_validation_error, show

    label = REF_KIND_LABEL[kind]
    if isinstance(value, str):
        name, options = value, {}
    elif isinstance(value, dict) and isinstance(value.get("type"), str):
        name = value["type"]
        options = {k: v for k, v in value.items() if k != "type"}
    else:
        raise PydanticCustomError(
            "component_ref",
            "expected the name of a registered {label} or an object with a 'type' key, "
            "received: {received}",
            {"label": label, "received": show(value)},
        )
    try:
        info = get_registry().get(kind, name)
    except PluginError as exc:
        raise PydanticCustomError("unknown_component", str(exc)) from None
    try:
        config = info.cls.Config.model_validate(options)
    except ValidationError as exc:
        raise PydanticCustomError(
            "component_options",
            "invalid options for {label} '{name}': {details}",
            {"label": label, "name": name, "details": describe_validation_error(exc)},
        ) from None
    return {"type": name, **config.model_dump(mode="json")}


def ref_json_schema(kind: str) -> dict[str, Any]:
    """JSON Schema of a reference to any currently registered ``kind`` component."""
    names = get_registry().names(kind)
    return {
        "anyOf": [
            {"type": "string", "enum": names},
            {
                "type": "object",
                "properties": {"type": {"type": "string", "enum": names}},
                "required": ["type"],
            },
        ],
        "description": f"a registered {REF_KIND_LABEL[kind]}: its name, or "
        '{"type": name, ...options}',
    }


class ComponentRef:
    """Pydantic annotation for an option naming a registered component of ``kind``.

    Use as ``Annotated[dict[str, Any], ComponentRef("activations")]``.
    """

    def __init__(self, kind: str) -> None:
        if kind not in REF_KIND_LABEL:
            raise ValueError(f"unknown component kind {kind!r}")
        self.kind = kind

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        kind = self.kind
        return core_schema.no_info_plain_validator_function(
            lambda value: normalize_ref(kind, value),
            serialization=core_schema.plain_serializer_function_ser_schema(lambda v: v),
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        return ref_json_schema(self.kind)


ActivationRef = Annotated[Any, ComponentRef("activations")]
"""An option naming an activation: ``"relu"`` or ``{"type": "leaky_relu", "alpha": 0.2}``."""

InitializerRef = Annotated[Any, ComponentRef("initializers")]
"""An option naming a weight initializer: ``"he_normal"`` or ``{"type": "normal", ...}``."""
