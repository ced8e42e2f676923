"""The pydantic models of a spec, composed from the registry at run time.

``ModelSpec`` holds the fields every spec has. Its ``layers``, ``loss`` and
``optimizer`` entries are discriminated unions on ``type`` built from the
registered components (``spec_model()``), so each entry is validated by the
``Config`` of the component its ``type`` names, third-party ones included.
"""

from __future__ import annotations

import re
import weakref
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model, field_validator

from modular_nn.components.component import ComponentConfig
from modular_nn.components.refs import REF_KIND_LABEL
from modular_nn.model.callbacks import EarlyStoppingConfig
from modular_nn.registry import Registry, get_registry

FORMAT_VERSION = 1
_LAYER_NAME = re.compile(r"^[^/\x00-\x1f]{1,128}$")


class TrainingSpec(BaseModel):
    """Training settings (``fit``'s defaults)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    epochs: int = Field(10, gt=0, le=10_000_000, description="number of epochs")
    batch_size: int = Field(32, gt=0, le=100_000_000, description="samples per step")
    shuffle: bool = Field(True, description="reshuffle the training data every epoch")
    validation_split: float = Field(
        0.0, ge=0, lt=1, description="fraction of the training data held out for validation"
    )
    metrics: Optional[list[str]] = Field(  # noqa: UP045 - pydantic schema reads better
        None,
        description="metrics to report (accuracy, binary_accuracy, categorical_accuracy, "
        "precision, recall, f1, mae, mse); by default accuracy for classification losses",
    )
    early_stopping: Optional[EarlyStoppingConfig] = Field(  # noqa: UP045
        None,
        description="stop when a monitored value stops improving: monitor, patience, "
        "min_delta, mode, restore_best_weights (Keras names and defaults)",
    )

    @field_validator("metrics")
    @classmethod
    def _known_metrics(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return value
        from modular_nn.metrics import check_metric_names

        check_metric_names(value)
        return value


class ModelSpec(BaseModel):
    """A model as data. ``load_spec`` returns an instance of a registry-composed subclass."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, allow_inf_nan=False)

    schema_ref: Optional[str] = Field(  # noqa: UP045
        None, alias="$schema", exclude=True, description="ignored: lets editors find the schema"
    )
    format_version: Literal[1] = Field(FORMAT_VERSION, description="spec format version")
    name: str = Field("model", min_length=1, max_length=256)
    input_shape: list[Annotated[int, Field(gt=0)]] = Field(
        ..., min_length=1, description="shape of one sample, without the batch axis"
    )
    dtype: Literal["float32", "float64"] = "float32"
    seed: int = Field(0, ge=0, le=2**63 - 1, description="seed of the model's random generator")
    layers: list[Any] = Field(..., min_length=1)
    loss: Optional[Any] = None  # noqa: UP045
    optimizer: Optional[Any] = None  # noqa: UP045
    training: TrainingSpec = Field(default_factory=TrainingSpec)
    data: Optional[str] = Field(  # noqa: UP045
        None, description='a data source for the CLI, such as "builtin:digits"'
    )

    def __eq__(self, other: object) -> bool:
        """Specs are equal when their ``model_dump()`` are (``$schema`` is not part of it)."""
        if not isinstance(other, ModelSpec):
            return NotImplemented
        return self.model_dump() == other.model_dump()

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def to_json(self, indent: int | None = 2) -> str:
        """The spec as JSON text."""
        return self.model_dump_json(indent=indent, exclude_none=False)


def _expand_name(value: Any) -> Any:
    """A bare string ``"adam"`` means ``{"type": "adam"}``."""
    return {"type": value} if isinstance(value, str) else value


class _EntryHead(BaseModel):
    """Holds ``type`` (and ``name``) so they come first in a dumped entry."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


def _entry_model(kind: str, name: str, config: type[ComponentConfig]) -> type[BaseModel]:
    head_fields: dict[str, Any] = {
        "type": (Literal[name], Field(..., description=f"{kind[:-1]} type"))
    }
    if kind == "layers":
        head_fields["name"] = (
            Optional[str],  # noqa: UP045
            Field(None, description="unique layer name; default <type>_<n>"),
        )
    head = create_model(f"{config.__name__}Head_{kind}", __base__=_EntryHead, **head_fields)
    title = "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]", name)) or "Component"
    label = REF_KIND_LABEL[kind].capitalize()
    return create_model(f"{title}{label}Spec", __base__=(config, head))


def _union(registry: Registry, kind: str) -> Any:
    models = [
        _entry_model(kind, name, registry.get(kind, name).cls.Config)
        for name in registry.names(kind)
    ]
    if not models:
        return dict[str, Any]
    return Annotated[Union[tuple(models)], Field(discriminator="type")]  # noqa: UP007


def _shorthand_union(registry: Registry, kind: str) -> Any:
    """The union of ``kind`` entries, also accepting a bare name for the defaults."""
    union = _union(registry, kind)
    names = registry.names(kind)
    shorthand = Literal[tuple(names)] if names else str  # type: ignore[valid-type]
    input_type = Union[shorthand, union]  # noqa: UP007
    return Annotated[union, BeforeValidator(_expand_name, json_schema_input_type=input_type)]


#: per registry (weakly held: no stale entry once it is gone): (generation, ModelSpec subclass)
_cache: weakref.WeakKeyDictionary[Registry, tuple[int, type[ModelSpec]]] = (
    weakref.WeakKeyDictionary()
)


def spec_model(registry: Registry | None = None) -> type[ModelSpec]:
    """The ``ModelSpec`` subclass for the components registered now (cached per registry state)."""
    registry = registry or get_registry()
    cached = _cache.get(registry)
    if cached is not None and cached[0] == registry.generation:
        return cached[1]
    layer_union = _union(registry, "layers")
    model = create_model(
        "ModelSpec",
        __base__=ModelSpec,
        layers=(list[layer_union], Field(..., min_length=1)),
        loss=(
            Optional[_shorthand_union(registry, "losses")],  # noqa: UP045
            Field(None, description='loss: a name ("mse") or {"type": ..., options}'),
        ),
        optimizer=(
            Optional[_shorthand_union(registry, "optimizers")],  # noqa: UP045
            Field(None, description='optimizer: a name ("adam") or {"type": ..., options}'),
        ),
    )
    _cache[registry] = (registry.generation, model)
    return model


def layer_name_problem(name: object) -> str | None:
    """Why ``name`` cannot be a layer name, or None when it can."""
    if not isinstance(name, str) or not _LAYER_NAME.match(name) or name in (".", ".."):
        return (
            "expected a layer name of 1 to 128 characters without '/' or control characters, "
            f"received: {name!r}"
        )
    return None
