"""``load_spec``: a path, JSON text or dict in; a validated, normalized ``ModelSpec`` out.

Every problem is collected and reported at once in one ``SpecError``: schema
problems (from pydantic, with JSON paths), duplicate or malformed layer names,
and, once the entries themselves are valid, shape problems found by inferring
every layer's output shape without allocating anything.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from modular_nn.errors import SpecError, SpecIssue
from modular_nn.registry import get_registry
from modular_nn.spec.graph import resolve_graph
from modular_nn.spec.issues import issues_from_validation_error
from modular_nn.spec.model_spec import ModelSpec, TrainingSpec, layer_name_problem, spec_model
from modular_nn.spec.shapes import check_shapes

SpecSource = ModelSpec | dict[str, Any] | str | os.PathLike[str]


def read_spec_source(source: SpecSource) -> tuple[Any, str | None]:
    """Parse ``source`` into plain data; return it with a label for messages."""
    if isinstance(source, ModelSpec):
        return source.model_dump(mode="json", by_alias=True), None
    if isinstance(source, dict):
        return source, None
    if isinstance(source, str) and source.lstrip().startswith("{"):
        return _parse_json(source, "JSON text"), None
    if isinstance(source, (str, os.PathLike)):
        if not os.fspath(source).strip():
            raise SpecError("expected a spec path or JSON text, received an empty string")
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8-sig")  # editors may write a byte-order mark
        except FileNotFoundError:
            raise SpecError(f"spec file not found: {str(path)!r}") from None
        except IsADirectoryError:
            raise SpecError(f"expected a spec file, received a directory: {str(path)!r}") from None
        except (OSError, UnicodeDecodeError, ValueError) as exc:  # ValueError: a NUL in the path
            raise SpecError(f"cannot read spec file {str(path)!r}: {exc}") from None
        return _parse_json(text, str(path)), str(path)
    raise SpecError(
        "expected a spec as a path, JSON text, dict or ModelSpec, "
        f"received: {type(source).__name__}"
    )


def _parse_json(text: str, label: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpecError(
            [SpecIssue("", f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}")],
            source=label,
        ) from None
    except RecursionError:
        raise SpecError("the JSON is nested too deeply to read", source=label) from None


def load_spec(source: SpecSource) -> ModelSpec:
    """Validate a spec and return it normalized (defaults filled in, layers named).

    ``source`` is a ``ModelSpec``, a dict, JSON text (first non-blank character
    ``{``) or a path. Raises ``SpecError`` listing every problem found.
    """
    data, label = read_spec_source(source)
    if not isinstance(data, dict):
        raise SpecError(
            f"expected a JSON object at the top level, received: {type(data).__name__}",
            source=label,
        )
    registry = get_registry()
    model = spec_model(registry)
    issues = _input_issues(data) + _name_issues(data) + _data_issues(data)
    try:
        spec = model.model_validate(data)
    except ValidationError as exc:
        issues = issues_from_validation_error(exc, data, allowed_keys=_allowed_keys) + issues
        raise SpecError(issues, source=label) from None
    except RecursionError:
        raise SpecError("the spec is nested too deeply to validate", source=label) from None
    if issues:
        raise SpecError(issues, source=label)
    _assign_layer_names(spec)
    plan, graph_issues = resolve_graph(spec)
    if plan is None:
        raise SpecError(graph_issues, source=label)
    shape_issues = check_shapes(spec, plan)
    if shape_issues:
        raise SpecError(shape_issues, source=label)
    return spec


def _input_issues(data: dict[str, Any]) -> list[SpecIssue]:
    """Exactly one of ``input_shape`` and ``inputs``."""
    given = [key for key in ("input_shape", "inputs") if data.get(key) is not None]
    if not given:
        return [
            SpecIssue(
                "input_shape",
                "required field is missing",
                "add 'input_shape' (one input), or 'inputs' (named inputs and their shapes)",
            )
        ]
    if len(given) == 2:
        return [
            SpecIssue(
                "inputs",
                "give either 'input_shape' or 'inputs', not both",
                "'input_shape' is one input named 'input'; 'inputs' names several",
            )
        ]
    return []


def _data_issues(data: dict[str, Any]) -> list[SpecIssue]:
    """A validation fraction in ``data`` or in ``training``, not both."""
    source, training = data.get("data"), data.get("training")
    if not isinstance(source, dict) or not isinstance(training, dict):
        return []
    mine, theirs = source.get("validation_split"), training.get("validation_split")
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (mine, theirs))
    if numbers and mine > 0 and theirs > 0:
        return [
            SpecIssue(
                "data.validation_split",
                f"a validation split is given twice, here ({mine}) and in "
                f"training.validation_split ({theirs})",
                "keep data.validation_split (a seeded, stratified split recorded in the "
                "checkpoint) and remove training.validation_split",
            )
        ]
    return []


def _name_issues(data: dict[str, Any]) -> list[SpecIssue]:
    layers = data.get("layers")
    if not isinstance(layers, list):
        return []
    issues: list[SpecIssue] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(layers):
        if not isinstance(entry, dict) or entry.get("name") is None:
            continue
        name = entry["name"]
        problem = layer_name_problem(name)
        if problem:
            issues.append(SpecIssue(f"layers[{index}].name", problem))
        elif name in seen:
            issues.append(
                SpecIssue(
                    f"layers[{index}].name",
                    f"duplicate layer name {name!r} (already used by layers[{seen[name]}])",
                    "give each layer a unique name, or leave 'name' out for an automatic one",
                )
            )
        else:
            seen[name] = index
    return issues


def auto_layer_names(types: list[str], names: list[str | None]) -> list[str]:
    """User names win; the rest become ``<type>_<n>``, counted per type in order."""
    taken = {name for name in names if name}
    counters: dict[str, int] = {}
    result: list[str] = []
    for type_name, name in zip(types, names):
        if name:
            result.append(name)
            continue
        while True:
            counters[type_name] = counters.get(type_name, 0) + 1
            candidate = f"{type_name}_{counters[type_name]}"
            if candidate not in taken:
                break
        taken.add(candidate)
        result.append(candidate)
    return result


def _auto_name_type(entry: Any) -> str:
    """What an unnamed entry is counted as: its type, or for a ``shares`` entry the
    layer it shares (``enc_1``, ``enc_2``...)."""
    shared = getattr(entry, "shares", None)
    return shared if shared is not None else entry.type


def _assign_layer_names(spec: ModelSpec) -> None:
    """Name every unnamed entry, at the top level and in each block's definition."""
    scopes = [spec.layers] + [block.layers for block in (spec.blocks or {}).values()]
    for entries in scopes:
        names = auto_layer_names([_auto_name_type(e) for e in entries], [e.name for e in entries])
        for entry, name in zip(entries, names):
            entry.name = name


def _allowed_keys(data: Any, path: tuple[Any, ...]) -> list[str]:
    """The keys allowed in the object at ``path`` of the spec ``data`` (for 'did you mean'
    on unknown keys), or [] when that object's model is unknown."""
    if not path:
        return _field_names(ModelSpec)
    head: list[str] = []
    if path[0] == "training":
        model: Any = TrainingSpec
        node, rest = _child(data, path[0]), path[1:]
    else:
        kind = {"layers": "layers", "loss": "losses", "optimizer": "optimizers"}.get(str(path[0]))
        entry_path = path[:2] if kind == "layers" else path[:1]
        node, rest = data, path[len(entry_path) :]
        for part in entry_path:
            node = _child(node, part)
        registry = get_registry()
        type_name = node.get("type") if isinstance(node, dict) else None
        if kind is None or not isinstance(type_name, str) or type_name not in registry.names(kind):
            return []
        model = registry.get(kind, type_name).cls.Config
        head = ["type", "name"] if kind == "layers" else ["type"]
    for part in rest:
        node = _child(node, part)
        model = _nested_model(model, part, node)
        if model is None:
            return []
        head = []
    return head + _field_names(model)


def _child(node: Any, part: Any) -> Any:
    try:
        return node[part]
    except (KeyError, IndexError, TypeError):
        return None


def _field_names(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def _nested_model(model: type[BaseModel], field: Any, node: Any) -> type[BaseModel] | None:
    """The pydantic model of ``model``'s field ``field`` holding ``node`` (for a union of
    models, the member whose ``type`` is ``node``'s), or None."""
    info = model.model_fields.get(str(field))
    if info is None:
        return None
    candidates = _model_classes(info.annotation)
    if len(candidates) == 1:
        return candidates[0]
    wanted = node.get("type") if isinstance(node, dict) else None
    for candidate in candidates:
        type_field = candidate.model_fields.get("type")
        if type_field is not None and type_field.default == wanted:
            return candidate
    return None


def _model_classes(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic model classes inside an annotation (through Optional, unions, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in get_args(annotation):
        found += _model_classes(arg)
    return found
