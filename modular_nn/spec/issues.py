"""Turning pydantic validation errors into ``SpecIssue`` lines users can act on.

Each issue gets the JSON path of the offending value (``layers[2].units``,
union tags stripped), what was expected, what was received, and a fix to try
where one can be guessed (a close option name, a field to add).
"""

from __future__ import annotations

import difflib
import reprlib
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import ValidationError

from modular_nn.errors import SpecIssue
from modular_nn.spec.data_spec import DATA_TAGS

#: Given the whole spec and the path of the object holding an unknown key, the keys
#: allowed in that object ([] when unknown).
AllowedKeys = Callable[[Any, tuple[Any, ...]], list[str]]

_MAX_RECEIVED = 60


def format_path(loc: Sequence[Any]) -> str:
    """``("layers", 2, "units")`` -> ``layers[2].units``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


#: union tags of the spec's own unions (``spec.model_spec``): never a part of a path
INTERNAL_TAGS = frozenset({"one loss", "loss per output", "shares entry"}) | DATA_TAGS


def clean_loc(loc: Sequence[Any], data: Any) -> tuple[Any, ...]:
    """Drop pydantic's internal loc parts (union tags, member names) by walking ``data``."""
    kept: list[Any] = []
    current = data
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        if part in INTERNAL_TAGS:
            continue
        if (
            isinstance(current, dict)
            and not last
            and isinstance(part, str)
            and part == current.get("type")
        ):
            continue  # the tag of an entry whose type is also one of its keys ("block")
        if isinstance(current, dict) and isinstance(part, str) and part in current:
            kept.append(part)
            current = current[part]
        elif (
            isinstance(current, (list, tuple))
            and isinstance(part, int)
            and 0 <= part < len(current)
        ):
            kept.append(part)
            current = current[part]
        elif last and not (isinstance(part, str) and "[" in part):
            kept.append(part)
        # otherwise an internal tag such as 'dense' or 'function-after[...]': skip it
    return tuple(kept)


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother = 3, 40, 40
_REPR.maxdict = _REPR.maxlist = 4


def show(value: Any) -> str:
    """A short ``repr`` of a received value (bounded depth and length, safe on deep nesting)."""
    text = _REPR.repr(value)
    return text if len(text) <= _MAX_RECEIVED else text[: _MAX_RECEIVED - 3] + "..."


def issues_from_validation_error(
    exc: ValidationError,
    data: Any = None,
    *,
    prefix: tuple[Any, ...] = (),
    allowed_keys: AllowedKeys | None = None,
) -> list[SpecIssue]:
    """One ``SpecIssue`` per pydantic error, paths relative to ``data`` plus ``prefix``."""
    issues: list[SpecIssue] = []
    for error in exc.errors(include_url=False):
        loc = clean_loc(error["loc"], data) if data is not None else tuple(error["loc"])
        issues.append(_issue(error, prefix + loc, data, allowed_keys))
    return issues


def describe_validation_error(exc: ValidationError) -> str:
    """All of a validation error on one line: ``alpha: ... ; beta: ...``."""
    return "; ".join(str(issue) for issue in issues_from_validation_error(exc))


def _parent(data: Any, loc: tuple[Any, ...]) -> Any:
    current = data
    for part in loc[:-1]:
        try:
            current = current[part]
        except (KeyError, IndexError, TypeError):
            return None
    return current


_KIND_BY_FIELD = {"layers": "layers", "loss": "losses", "optimizer": "optimizers"}


def _unknown_type_message(loc: tuple[Any, ...], ctx: dict[str, Any]) -> str:
    from modular_nn.registry import UnknownComponentError

    tag = ctx.get("tag", "?")
    available = [t.strip().strip("'") for t in str(ctx.get("expected_tags", "")).split(",")]
    kind = _KIND_BY_FIELD.get(str(loc[0]) if loc else "", "layers")
    from modular_nn.registry import get_registry

    if isinstance(tag, str) and (kind, tag) in get_registry().conflicts():
        return str(get_registry().conflict_error(kind, tag))  # two plugins registered it
    return str(UnknownComponentError(kind, tag, [a for a in available if a]))


def _issue(
    error: Any, loc: tuple[Any, ...], data: Any, allowed_keys: AllowedKeys | None
) -> SpecIssue:
    kind = error["type"]
    path = format_path(loc)
    received = error.get("input")
    message = error["msg"]
    if kind == "missing":
        field = loc[-1] if loc else "?"
        return SpecIssue(path, "required field is missing", f"add {field!r}")
    if kind == "extra_forbidden":
        key = str(loc[-1]) if loc else "?"
        hint = "remove it"
        parent = _parent(data, loc) if data is not None else None
        allowed = allowed_keys(data, loc[:-1]) if allowed_keys and isinstance(parent, dict) else []
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
        if close:
            hint = f"did you mean {close[0]!r}?"
        if allowed:
            hint += f"; allowed here: {', '.join(allowed)}"
        return SpecIssue(path, f"unknown option {key!r}", hint)
    if kind == "union_tag_invalid":
        return SpecIssue(path, _unknown_type_message(loc, error.get("ctx", {})))
    if kind == "union_tag_not_found":
        return SpecIssue(
            path,
            f"missing 'type', received: {show(received)}",
            'add "type": the name of a registered component',
        )
    if kind in ("unknown_component", "component_options", "component_ref", "spec_rule"):
        return SpecIssue(path, message)
    if kind.startswith("value_error") or kind == "assertion_error":
        message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        return SpecIssue(path, f"{message}, received: {show(received)}")
    if message.startswith("Input should be"):
        message = "expected " + message[len("Input should be ") :]
    return SpecIssue(path, f"{message}, received: {show(received)}")
