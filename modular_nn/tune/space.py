"""The search space: a JSON object keyed by paths in a spec, each naming what to sample.

```json
{
  "layers[0].units": {"int": [16, 256], "log": true},
  "optimizer.learning_rate": {"float": [1e-4, 0.1], "log": true},
  "layers[dense_2].activation": {"choice": ["relu", "tanh", "gelu"]},
  "training.batch_size": {"choice": [32, 64, 128]}
}
```

Paths address the *normalized* spec (defaults filled in, layers named, as
``load_spec(...).model_dump()`` gives it):

- ``key`` or ``.key`` selects an object member (``optimizer.learning_rate``);
- ``[3]`` selects a list entry by position, from 0 (``layers[3]``);
- ``[name]`` selects the list entry whose ``"name"`` is ``name``, so layers of
  a graph and of a block are addressed by name (``layers[res].repeat``,
  ``blocks.residual.layers[conv_a].filters``); on an object ``[key]`` is the
  member ``key``;
- ``["text"]`` (a JSON string) selects by a name or key that holds ``.``,
  ``[``, ``]`` or only digits (``layers["0"]`` is the layer named ``0``).

Every path is resolved against the spec before any trial: a path that does
not exist is a ``SpecError`` naming it, with the closest existing key or name
("did you mean"). So is a malformed entry, an empty range or an empty choice.
"""

from __future__ import annotations

import copy
import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from modular_nn.errors import SpecError, SpecIssue

#: A resolved path: object keys (str) and list positions (int), in order.
Location = tuple[Union[str, int], ...]  # noqa: UP007


class IntRange(BaseModel):
    """``{"int": [lo, hi], "log": false, "step": 1}``: an integer in [lo, hi], both included."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    bounds: tuple[int, int] = Field(alias="int", description="lowest and highest value")
    log: bool = Field(False, description="sample on a log scale (lo must be at least 1)")
    step: int = Field(1, gt=0, description="spacing of the values from lo")

    @model_validator(mode="after")
    def _check(self) -> IntRange:
        lo, hi = self.bounds
        if lo > hi:
            raise ValueError(f"expected lo <= hi, received the empty range [{lo}, {hi}]")
        if self.log and lo < 1:
            raise ValueError(f"a log range needs lo >= 1, received: [{lo}, {hi}]")
        if self.log and self.step != 1:
            raise ValueError(f"a log range takes no step, received: step {self.step}")
        return self

    def suggest(self, trial: Any, name: str) -> int:
        lo, hi = self.bounds
        return int(trial.suggest_int(name, lo, hi, step=self.step, log=self.log))


class FloatRange(BaseModel):
    """``{"float": [lo, hi], "log": false}``: a real number in [lo, hi]."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, allow_inf_nan=False)

    bounds: tuple[float, float] = Field(alias="float", description="lowest and highest value")
    log: bool = Field(False, description="sample on a log scale (lo must be positive)")

    @model_validator(mode="after")
    def _check(self) -> FloatRange:
        lo, hi = self.bounds
        if lo > hi:
            raise ValueError(f"expected lo <= hi, received the empty range [{lo}, {hi}]")
        if self.log and lo <= 0:
            raise ValueError(f"a log range needs lo > 0, received: [{lo}, {hi}]")
        return self

    def suggest(self, trial: Any, name: str) -> float:
        lo, hi = self.bounds
        return float(trial.suggest_float(name, lo, hi, log=self.log))


class Choice(BaseModel):
    """``{"choice": [a, b, ...]}``: one of the listed JSON values (objects and lists too)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    options: list[Any] = Field(alias="choice", min_length=1, description="the values to try")

    @model_validator(mode="after")
    def _check(self) -> Choice:
        texts = [json.dumps(o, sort_keys=True) for o in self.options]
        repeated = sorted({t for t in texts if texts.count(t) > 1})
        if repeated:
            raise ValueError(f"expected distinct choices, received {', '.join(repeated)} twice")
        return self

    @property
    def _scalar(self) -> bool:
        return all(o is None or isinstance(o, (bool, int, float, str)) for o in self.options)

    def suggest(self, trial: Any, name: str) -> Any:
        if self._scalar:
            return trial.suggest_categorical(name, self.options)
        # Optuna stores scalar choices only: objects and lists go in as their JSON text
        texts = [json.dumps(o, sort_keys=True) for o in self.options]
        return json.loads(trial.suggest_categorical(name, texts))


Distribution = Union[IntRange, FloatRange, Choice]  # noqa: UP007
_KINDS: dict[str, type[BaseModel]] = {"int": IntRange, "float": FloatRange, "choice": Choice}
_SHAPE = '{"int": [lo, hi]}, {"float": [lo, hi]} or {"choice": [...]}'


@dataclass(frozen=True)
class Dimension:
    """One entry of the space: its path as written, where it points, and what to sample."""

    path: str
    location: Location
    distribution: Distribution


@dataclass(frozen=True)
class Space:
    """A validated search space over one spec."""

    dimensions: tuple[Dimension, ...]

    @property
    def paths(self) -> list[str]:
        return [d.path for d in self.dimensions]

    def suggest(self, trial: Any) -> dict[str, Any]:
        """Ask ``trial`` (an ``optuna.Trial``) for a value of every path; path -> value."""
        return {d.path: d.distribution.suggest(trial, d.path) for d in self.dimensions}

    def apply(self, spec: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of ``spec`` (a dict) with ``values`` (path -> value) written in."""
        out = copy.deepcopy(dict(spec))
        for dim in self.dimensions:
            if dim.path in values:
                _set(out, dim.location, copy.deepcopy(values[dim.path]))
        return out


# ----- the space file ---------------------------------------------------------------------
def load_space(source: Mapping[str, Any], spec: Mapping[str, Any]) -> Space:
    """Validate ``source`` (the space file's JSON object) against ``spec`` (a normalized
    spec as a dict). Raises one ``SpecError`` listing every problem, each with its path."""
    if not isinstance(source, Mapping):
        raise SpecError(
            f"expected the space to be a JSON object keyed by spec paths, "
            f"received: {type(source).__name__}"
        )
    if not source:
        raise SpecError('the space is empty: name at least one spec path, e.g. "layers[0].units"')
    issues: list[SpecIssue] = []
    dimensions = []
    for path, entry in source.items():
        distribution = _distribution(path, entry, issues)
        try:
            location = resolve_path(spec, path)
        except SpecError as exc:
            issues.extend(exc.issues)
            continue
        if distribution is None:
            continue
        problem = _type_problem(distribution, get_path(spec, location))
        if problem:
            issues.append(SpecIssue(path, problem))
            continue
        dimensions.append(Dimension(path, location, distribution))
    seen: dict[Location, str] = {}
    for dim in dimensions:
        if dim.location in seen:
            issues.append(
                SpecIssue(dim.path, f"names the same value as {seen[dim.location]!r}; keep one")
            )
        seen.setdefault(dim.location, dim.path)
    if issues:
        raise SpecError(issues, source="the search space")
    return Space(tuple(dimensions))


def _distribution(path: str, entry: Any, issues: list[SpecIssue]) -> Distribution | None:
    if not isinstance(entry, Mapping):
        issues.append(SpecIssue(path, f"expected {_SHAPE}, received: {json.dumps(entry)}"))
        return None
    kinds = [k for k in _KINDS if k in entry]
    if len(kinds) != 1:
        unknown = [k for k in entry if k not in ("log", "step")]
        hint = ""
        for key in unknown:
            close = difflib.get_close_matches(str(key), list(_KINDS), n=1)
            if close:
                hint = f"did you mean {close[0]!r} instead of {key!r}?"
        what = "both " + " and ".join(kinds) if kinds else "no 'int', 'float' or 'choice'"
        issues.append(
            SpecIssue(path, f"expected {_SHAPE}, received {what}: {json.dumps(entry)}", hint)
        )
        return None
    try:
        return _KINDS[kinds[0]].model_validate(dict(entry))  # type: ignore[return-value]
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"] if p != kinds[0] or len(error["loc"]) > 1)
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                allowed = ", ".join(_KINDS[kinds[0]].model_json_schema()["properties"])
                message = f"unknown option for {kinds[0]!r} (options: {allowed})"
            elif error["type"] == "too_short" and kinds[0] == "choice":
                message = "expected at least one choice, received an empty list"
            issues.append(SpecIssue(f"{path} -> {where}" if where else path, message))
        return None


def _type_problem(distribution: Distribution, current: Any) -> str:
    """A numeric range cannot replace text or a flag: say so before any trial runs."""
    if isinstance(distribution, Choice) or current is None:
        return ""
    if isinstance(current, (bool, str)) or not isinstance(current, (int, float)):
        kind = "an int" if isinstance(distribution, IntRange) else "a float"
        return (
            f"{kind} range needs a number here, but the spec has {json.dumps(current)}; "
            'use {"choice": [...]} for other values'
        )
    return ""


# ----- paths ------------------------------------------------------------------------------
def parse_path(path: str) -> list[tuple[Literal["key", "index", "name"], Any]]:
    """Split ``path`` into steps: ("key", "optimizer"), ("index", 0), ("name", "conv_a")."""
    if not isinstance(path, str) or not path.strip():
        raise SpecError([SpecIssue(str(path), "expected a spec path, received an empty one")])
    steps: list[tuple[Literal["key", "index", "name"], Any]] = []
    i, n = 0, len(path)

    def fail(message: str) -> SpecError:
        return SpecError([SpecIssue(path, f"cannot read the path at character {i + 1}: {message}")])

    while i < n:
        char = path[i]
        if char == "[":
            if i + 1 < n and path[i + 1] == '"':
                decoder = json.JSONDecoder()
                try:
                    text, end = decoder.raw_decode(path, i + 1)
                except json.JSONDecodeError:
                    raise fail("expected a JSON string after '[\"'") from None
                if end >= n or path[end] != "]":
                    i = end
                    raise fail("expected ']' after the quoted name")
                steps.append(("name", text))
                i = end + 1
            else:
                end = path.find("]", i)
                if end < 0:
                    raise fail(f"expected ']' to close {path[i:]!r}")
                inner = path[i + 1 : end].strip()
                if not inner:
                    raise fail("expected a position or a name inside '[]'")
                if inner.lstrip("-").isdigit():
                    steps.append(("index", int(inner)))
                else:
                    steps.append(("name", inner))
                i = end + 1
        elif char == ".":
            if i == 0 or i + 1 >= n or path[i + 1] in ".[":
                raise fail("expected a key after '.'")
            i += 1
        elif char == "]":
            raise fail("']' without '['")
        else:
            if steps and path[i - 1] == "]":
                raise fail("expected '.' or '[' after ']'")
            end = i
            while end < n and path[end] not in ".[]":
                end += 1
            steps.append(("key", path[i:end]))
            i = end
    return steps


def resolve_path(spec: Mapping[str, Any], path: str) -> Location:
    """Where ``path`` points in ``spec``; a ``SpecError`` with did-you-mean if nowhere."""
    steps = parse_path(path)
    node: Any = spec
    location: list[str | int] = []
    for at, (kind, step) in enumerate(steps):
        here = _written(steps[:at]) or "the spec"
        if isinstance(node, Mapping) and kind in ("key", "name"):
            if step not in node:
                raise _missing(path, steps, at, list(node))
            location.append(step)
            node = node[step]
        elif isinstance(node, list) and kind == "index":
            if not 0 <= step < len(node):
                message = (
                    f"{here} has {len(node)} entries (positions 0 to {len(node) - 1}), "
                    f"received position {step}"
                )
                raise SpecError([SpecIssue(path, message)])
            location.append(step)
            node = node[step]
        elif isinstance(node, list) and kind == "name":
            names = [e.get("name") if isinstance(e, Mapping) else None for e in node]
            if step not in names:
                raise _missing(path, steps, at, [n for n in names if isinstance(n, str)])
            location.append(names.index(step))
            node = node[names.index(step)]
        else:
            what = "a list" if isinstance(node, list) else json.dumps(node)
            wanted = f"'{step}'" if kind == "key" else f"[{step}]"
            raise SpecError([SpecIssue(path, f"{here} is {what}, which has no {wanted}")])
    return tuple(location)


def _written(steps: list[tuple[str, Any]]) -> str:
    """``steps`` as a path: ``blocks.residual.layers[conv_a]``."""
    text = ""
    for kind, step in steps:
        if kind == "key":
            text = f"{text}.{step}" if text else str(step)
        elif kind == "index" or not (any(c in str(step) for c in ".[]") or str(step).isdigit()):
            text = f"{text}[{step}]"
        else:
            text = f"{text}[{json.dumps(step)}]"
    return text


def _missing(path: str, steps: list[tuple[str, Any]], at: int, options: list[str]) -> SpecError:
    kind, step = steps[at]
    here = _written(steps[:at]) or "the spec"
    what = "entry named" if kind == "name" else "key"
    message = f"{here} has no {what} {step!r}"
    close = difflib.get_close_matches(str(step), [str(o) for o in options], n=1, cutoff=0.6)
    hint = ""
    if close:
        fixed = [*steps[:at], (kind, close[0]), *steps[at + 1 :]]
        hint = f"did you mean {_written(fixed)!r}?"
    elif options:
        shown = ", ".join(str(o) for o in options[:12]) + (", ..." if len(options) > 12 else "")
        message += f" (it has: {shown})"
    return SpecError([SpecIssue(path, message, hint)])


def get_path(spec: Any, location: Location) -> Any:
    node = spec
    for step in location:
        node = node[step]
    return node


def _set(spec: Any, location: Location, value: Any) -> None:
    get_path(spec, location[:-1])[location[-1]] = value
