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

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainValidator,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    Tag,
    ValidationError,
    create_model,
    field_validator,
    model_serializer,
)
from pydantic_core import PydanticCustomError

from modular_nn.components.component import ComponentConfig
from modular_nn.components.refs import REF_KIND_LABEL
from modular_nn.errors import PluginError
from modular_nn.registry import KIND_LABELS, Registry, get_registry
from modular_nn.spec.data_spec import DataField, DataSpec  # noqa: F401  (DataSpec: re-exported)
from modular_nn.spec.early_stopping import EarlyStoppingConfig

FORMAT_VERSION = 1
_LAYER_NAME = re.compile(r"^[^/\x00-\x1f]{1,128}$")


def _metric_entry(value: Any) -> Any:
    """A ``training.metrics`` entry: a registered metric's name (kept as written: the
    metric with its defaults) or ``{"type": name, "name": ..., **options}`` (options
    validated by the metric's ``Config``, defaults filled in)."""
    from modular_nn.spec.issues import describe_validation_error, show

    log_name = None
    if isinstance(value, str):
        name, options = value, None
    elif isinstance(value, dict) and isinstance(value.get("type"), str):
        name = value["type"]
        options = {k: v for k, v in value.items() if k not in ("type", "name")}
        log_name = value.get("name")
        if log_name is not None and (not isinstance(log_name, str) or not log_name.strip()):
            raise PydanticCustomError(
                "component_ref",
                "expected the metric's 'name' (its key in the logs) as a non-empty string, "
                "received: {received}",
                {"received": show(log_name)},
            )
    else:
        raise PydanticCustomError(
            "component_ref",
            "expected the name of a registered metric or an object with a 'type' key, "
            "received: {received}",
            {"received": show(value)},
        )
    try:
        info = get_registry().get("metrics", name)
    except PluginError as exc:
        raise PydanticCustomError("unknown_component", str(exc)) from None
    if options is None:
        return name
    try:
        config = info.cls.Config.model_validate(options)
    except ValidationError as exc:
        raise PydanticCustomError(
            "component_options",
            "invalid options for metric '{name}': {details}",
            {"name": name, "details": describe_validation_error(exc)},
        ) from None
    head = {"type": name, **({"name": log_name} if log_name else {})}
    return {**head, **config.model_dump(mode="json")}


def _unique_log_names(entries: list[Any]) -> list[Any]:
    """Two metrics of one output may not share a key in the logs."""
    from modular_nn.metrics import metric_log_name

    names = [metric_log_name(entry) for entry in entries]
    twice = [n for i, n in enumerate(names) if n in names[:i]]
    if twice:
        text = (
            f'metric {twice[0]!r} is listed twice; give each entry its own "name" (the key '
            'in the logs), such as {"type": "precision", "average": "macro", "name": '
            '"macro_precision"}'
        )
        raise PydanticCustomError("spec_rule", "{text}", {"text": text})
    return entries


#: union tags of ``training.metrics`` (a list, or lists keyed by output name)
METRIC_TAGS = ("metric list", "metrics per output")


def _metrics_tag(value: Any) -> str:
    return METRIC_TAGS[1] if isinstance(value, dict) else METRIC_TAGS[0]


def _metrics_field(entry_input: Any = Union[str, dict[str, Any]]) -> Any:  # noqa: UP007
    """The type of ``training.metrics``; ``entry_input`` is what the JSON Schema shows for
    one entry (the registered metrics, when composed by ``spec_model``)."""
    entry = Annotated[Any, PlainValidator(_metric_entry, json_schema_input_type=entry_input)]
    entries = list[entry]  # type: ignore[valid-type]
    return Annotated[
        Union[  # noqa: UP007
            Annotated[entries, Tag(METRIC_TAGS[0])],
            Annotated[dict[str, entries], Tag(METRIC_TAGS[1])],
        ],
        Discriminator(_metrics_tag),
    ]


MetricsField = _metrics_field()


class TrainingSpec(BaseModel):
    """Training settings (``fit``'s defaults)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    epochs: int = Field(10, gt=0, le=10_000_000, description="number of epochs")
    batch_size: int = Field(32, gt=0, le=100_000_000, description="samples per step")
    shuffle: bool = Field(True, description="reshuffle the training data every epoch")
    validation_split: float = Field(
        0.0, ge=0, lt=1, description="fraction of the training data held out for validation"
    )
    metrics: Optional[MetricsField] = Field(  # noqa: UP045
        None,
        description='metrics to report: names ("accuracy") or objects with options '
        '({"type": "top_k_accuracy", "k": 3}; "name" sets the key in the logs); by default '
        "accuracy for classification losses. With several outputs, an object of lists "
        "keyed by output name",
    )
    class_weight: Optional[Union[Literal["balanced"], dict[str, Annotated[float, Field(ge=0)]]]] = (  # noqa: E501, UP007, UP045
        Field(
            None,
            description='weight of each class\'s samples in the loss: {"0": 1.0, "1": 5.0} '
            '(class index -> weight), or "balanced" (n / (classes * count)); one output only',
        )
    )
    early_stopping: Optional[EarlyStoppingConfig] = Field(  # noqa: UP045
        None,
        description="stop when a monitored value stops improving: monitor, patience, "
        "min_delta, mode, restore_best_weights (Keras names and defaults)",
    )

    @field_validator("metrics")
    @classmethod
    def _unique_metric_names(cls, value: Any) -> Any:
        for entries in value.values() if isinstance(value, dict) else [value or []]:
            _unique_log_names(entries)
        return value

    @model_serializer(mode="wrap")
    def _without_unset_class_weight(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> dict[str, Any]:
        """Left out when unset, so specs dump as they did before it existed."""
        return _drop_none(handler(self), ("class_weight",))


class ModelSpec(BaseModel):
    """A model as data. ``load_spec`` returns an instance of a registry-composed subclass."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        allow_inf_nan=False,
        json_schema_extra={"oneOf": [{"required": ["input_shape"]}, {"required": ["inputs"]}]},
    )

    schema_ref: Optional[str] = Field(  # noqa: UP045
        None, alias="$schema", exclude=True, description="ignored: lets editors find the schema"
    )
    format_version: Literal[1] = Field(FORMAT_VERSION, description="spec format version")
    name: str = Field("model", min_length=1, max_length=256)
    input_shape: Annotated[list[Annotated[int, Field(gt=0)]], Field(min_length=1)] | None = Field(  # noqa: E501, UP045
        None,
        description="shape of one sample, without the batch axis (one input named 'input'); "
        "give this or 'inputs'",
    )
    inputs: Optional[  # noqa: UP045
        Annotated[
            dict[str, Annotated[list[Annotated[int, Field(gt=0)]], Field(min_length=1)]],
            Field(min_length=1),
        ]
    ] = Field(
        None,
        description="named model inputs: input name -> shape of one sample; "
        "give this or 'input_shape'",
    )
    dtype: Literal["float32", "float64"] = "float32"
    seed: int = Field(0, ge=0, le=2**63 - 1, description="seed of the model's random generator")
    blocks: Optional[dict[str, Any]] = Field(  # noqa: UP045
        None, description="reusable sub-graphs: block name -> {layers: [...]}"
    )
    layers: list[Any] = Field(..., min_length=1)
    outputs: Optional[Annotated[list[str], Field(min_length=1)]] = Field(  # noqa: UP045
        None, description="names of the layers whose outputs the model returns; "
        "default: the last layer"
    )  # fmt: skip
    loss: Optional[Any] = None  # noqa: UP045
    loss_weights: Optional[dict[str, Annotated[float, Field(ge=0)]]] = Field(  # noqa: UP045
        None, description="with several outputs: output name -> weight of its loss (default 1)"
    )
    optimizer: Optional[Any] = None  # noqa: UP045
    training: TrainingSpec = Field(default_factory=TrainingSpec)
    data: Optional[DataField] = Field(  # noqa: UP045
        None,
        description='a data source for the CLI: "builtin:digits", a file path (relative to '
        'the spec\'s folder), or {"path": ..., "label": ..., "test_split": ..., '
        '"validation_split": ..., "stratify": ...}',
    )

    @model_serializer(mode="wrap")
    def _without_unused_graph_keys(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> dict[str, Any]:
        """Graph keys a spec does not use are left out, so a chain dumps as it always did."""
        return _drop_none(handler(self), GRAPH_KEYS)

    def __eq__(self, other: object) -> bool:
        """Specs are equal when their ``model_dump()`` are (``$schema`` is not part of it)."""
        if not isinstance(other, ModelSpec):
            return NotImplemented
        return self.model_dump() == other.model_dump()

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def to_json(self, indent: int | None = 2) -> str:
        """The spec as JSON text."""
        return self.model_dump_json(indent=indent, exclude_none=False)


#: top-level keys that only graph specs use (left out of dumps when unset)
GRAPH_KEYS = ("input_shape", "inputs", "blocks", "outputs", "loss_weights")


def _drop_none(dumped: Any, keys: tuple[str, ...]) -> Any:
    if isinstance(dumped, dict):
        for key in keys:
            if key in dumped and dumped[key] is None:
                del dumped[key]
    return dumped


def _expand_name(value: Any) -> Any:
    """A bare string ``"adam"`` means ``{"type": "adam"}``."""
    return {"type": value} if isinstance(value, str) else value


class _EntryHead(BaseModel):
    """Holds ``type`` (and ``name``) so they come first in a dumped entry."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


def _as_name_list(value: Any) -> Any:
    """``"inputs": "left"`` means ``["left"]``."""
    return [value] if isinstance(value, str) else value


#: an entry's ``inputs``: names of earlier layers or model inputs
InputNames = Annotated[
    Optional[Annotated[list[str], Field(min_length=1)]],  # noqa: UP045
    BeforeValidator(_as_name_list),
    Field(
        None,
        description="names of earlier layers or model inputs this layer takes; "
        "default: the previous entry's output",
    ),
]


class _LayerEntryHead(_EntryHead):
    """A layer entry's graph keys; ``inputs`` is left out of dumps when unset."""

    @model_serializer(mode="wrap")
    def _without_default_inputs(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> dict[str, Any]:
        return _drop_none(handler(self), ("inputs",))


class SharesEntry(_LayerEntryHead):
    """``{"name": ..., "shares": "enc", "inputs": [...]}``: apply layer (or block) ``enc``
    again, with the same weights."""

    @model_serializer(mode="wrap")
    def _without_unset_keys(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> dict[str, Any]:
        return _drop_none(handler(self), ("inputs", "type"))

    name: Optional[str] = Field(None, description="unique name of this use")  # noqa: UP045
    shares: str = Field(..., min_length=1, description="the layer or block applied again")
    type: Optional[str] = Field(  # noqa: UP045
        None, description="optional: must be the type of the shared layer"
    )
    inputs: InputNames


class BlockEntry(_LayerEntryHead):
    """``{"type": "block", "block": "residual", "repeat": 2}``: a block placed ``repeat`` times
    in a row, each copy with its own weights."""

    type: Literal["block"] = Field(..., description="layer type")
    name: Optional[str] = Field(None, description="unique layer name; default block_<n>")  # noqa: UP045
    inputs: InputNames
    block: str = Field(..., min_length=1, description="the name of a block in 'blocks'")
    repeat: int = Field(1, ge=1, le=10_000, description="copies placed one after another")


#: union tag of entries that share a layer (not a key any entry can have)
SHARES_TAG = "shares entry"


def _entry_tag(value: Any) -> str | None:
    """Which union member validates a layer entry: ``shares`` entries by their key, the
    others by their ``type``."""
    if isinstance(value, dict):
        if "shares" in value:
            return SHARES_TAG
        tag = value.get("type")
        return tag if isinstance(tag, str) else None
    if isinstance(value, BaseModel):
        return SHARES_TAG if isinstance(value, SharesEntry) else getattr(value, "type", None)
    return None


def _entry_model(kind: str, name: str, config: type[ComponentConfig]) -> type[BaseModel]:
    head_fields: dict[str, Any] = {
        "type": (Literal[name], Field(..., description=f"{KIND_LABELS[kind]} type"))
    }
    base: type[_EntryHead] = _EntryHead
    if kind == "layers":
        head_fields["name"] = (
            Optional[str],  # noqa: UP045
            Field(None, description="unique layer name; default <type>_<n>"),
        )
        head_fields["inputs"] = (InputNames, None)
        base = _LayerEntryHead
    if kind == "metrics":
        head_fields["name"] = (
            Optional[str],  # noqa: UP045
            Field(None, description="the metric's key in the logs; default its type"),
        )
    head = create_model(f"{config.__name__}Head_{kind}", __base__=base, **head_fields)
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


def _layer_union(registry: Registry) -> Any:
    """Layer entries: registered types, ``block`` placements and ``shares`` entries."""
    models = [
        Annotated[_entry_model("layers", name, registry.get("layers", name).cls.Config), Tag(name)]
        for name in registry.names("layers")
        if name != "block"
    ]
    models += [Annotated[BlockEntry, Tag("block")], Annotated[SharesEntry, Tag(SHARES_TAG)]]
    return Annotated[Union[tuple(models)], Discriminator(_entry_tag)]  # noqa: UP007


def _per_output_tag(value: Any) -> str:
    """A loss is one entry (a name, or an object with ``type``) or an object keyed by output."""
    if isinstance(value, str) or isinstance(value, BaseModel):
        return "one loss"
    if isinstance(value, dict) and isinstance(value.get("type"), str):
        return "one loss"
    return "loss per output"


def _loss_field(registry: Registry) -> Any:
    one = _shorthand_union(registry, "losses")
    return Annotated[
        Union[  # noqa: UP007
            Annotated[one, Tag("one loss")],
            Annotated[dict[str, one], Tag("loss per output")],
        ],
        Discriminator(_per_output_tag),
    ]


def _shorthand_union(registry: Registry, kind: str) -> Any:
    """The union of ``kind`` entries, also accepting a bare name for the defaults."""
    union = _union(registry, kind)
    names = registry.names(kind)
    shorthand = Literal[tuple(names)] if names else str  # type: ignore[valid-type]
    input_type = Union[shorthand, union]  # noqa: UP007
    return Annotated[union, BeforeValidator(_expand_name, json_schema_input_type=input_type)]


def _training_model(registry: Registry) -> type[TrainingSpec]:
    """``TrainingSpec`` whose ``metrics`` entries show the registered metrics and their
    options in the JSON Schema (validation is the same: ``_metric_entry``)."""
    models = [
        _entry_model("metrics", name, registry.get("metrics", name).cls.Config)
        for name in registry.names("metrics")
    ]
    if not models:
        return TrainingSpec
    names = Literal[tuple(registry.names("metrics"))]  # type: ignore[valid-type]
    one = Annotated[Union[tuple(models)], Field(discriminator="type")]  # noqa: UP007
    return create_model(
        "TrainingSpec",
        __base__=TrainingSpec,
        metrics=(
            Optional[_metrics_field(Union[names, one])],  # noqa: UP007, UP045
            TrainingSpec.model_fields["metrics"],
        ),
    )


def _as_plain_data(value: Any) -> Any:
    """A ``TrainingSpec`` of another composition is read again from its data."""
    return value.model_dump() if isinstance(value, TrainingSpec) else value


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
    layer_union = _layer_union(registry)
    block = create_model(
        "BlockSpec",
        __config__=ConfigDict(extra="forbid", allow_inf_nan=False),
        layers=(list[layer_union], Field(..., min_length=1)),
    )
    model = create_model(
        "ModelSpec",
        __base__=ModelSpec,
        blocks=(
            Optional[dict[str, block]],  # noqa: UP045
            Field(None, description="reusable sub-graphs: block name -> {layers: [...]}"),
        ),
        layers=(list[layer_union], Field(..., min_length=1)),
        loss=(
            Optional[_loss_field(registry)],  # noqa: UP045
            Field(
                None,
                description='loss: a name ("mse") or {"type": ..., options}; with several '
                "outputs, also an object of those keyed by output name",
            ),
        ),
        optimizer=(
            Optional[_shorthand_union(registry, "optimizers")],  # noqa: UP045
            Field(None, description='optimizer: a name ("adam") or {"type": ..., options}'),
        ),
        training=(
            Annotated[_training_model(registry), BeforeValidator(_as_plain_data)],
            Field(default_factory=_training_model(registry)),
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


def uses_graph_keys(spec: ModelSpec) -> bool:
    """True for a spec that is more than a chain on ``input_shape``: named inputs, outputs,
    blocks, loss weights, or entries with ``inputs``, ``shares`` or blocks."""
    if any(getattr(spec, key) is not None for key in GRAPH_KEYS if key != "input_shape"):
        return True
    if isinstance(spec.loss, dict):
        return True
    return any(
        getattr(entry, "inputs", None) is not None or isinstance(entry, (SharesEntry, BlockEntry))
        for entry in spec.layers
    )


def component_layer_entries(spec: ModelSpec) -> list[Any]:
    """Every entry that creates a layer component, at the top level and in blocks (not
    block placements, not ``shares`` entries)."""
    scopes = [spec.layers] + [block.layers for block in (spec.blocks or {}).values()]
    return [
        entry
        for entries in scopes
        for entry in entries
        if not isinstance(entry, (SharesEntry, BlockEntry))
    ]


def loss_entries(spec: ModelSpec) -> list[Any]:
    """The spec's loss entries: none, one, or one per output."""
    if spec.loss is None:
        return []
    return list(spec.loss.values()) if isinstance(spec.loss, dict) else [spec.loss]
