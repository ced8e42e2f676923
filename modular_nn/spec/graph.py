"""A spec's graph: references resolved, blocks expanded, every structural mistake found.

``resolve_graph(spec)`` turns the validated entries into a ``GraphPlan`` (nodes in
topological order) without creating any layer, and reports each problem as a
``SpecIssue`` with its JSON path: unknown or later references (with did-you-mean),
cycles, merges given too few inputs, unknown or self-referring blocks, ``shares``
of an unknown layer or another type, outputs, losses, weights or metrics keyed by
unknown outputs, and layers or inputs that no output uses. Shapes are checked
afterwards, on the plan (``modular_nn.spec.shapes``).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from modular_nn.errors import ModularNNError, SpecIssue
from modular_nn.graph.plan import DEFAULT_INPUT, GraphPlan, Node
from modular_nn.registry import get_registry

#: the name of a block's input inside its definition
BLOCK_INPUT = "block_input"


@dataclass
class _Defined:
    """A name defined in one scope: the value it stands for and how to share it."""

    value: str  #: the node (or input) whose output the name stands for
    kind: str  #: "input", "layer", "block", or "broken" (an entry already reported)
    owner: str = ""  #: layers: the owning node; blocks: the owners' name prefix
    entry: Any = None
    type_name: str = ""


def _did_you_mean(name: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else ""


def _input_count(entry: Any) -> tuple[int, int | None]:
    try:
        cls = get_registry().get("layers", entry.type).cls
    except ModularNNError:
        return (1, 1)
    return tuple(getattr(cls, "input_count", (1, 1)))  # type: ignore[return-value]


class _Resolver:
    def __init__(self, spec: Any) -> None:
        self.spec = spec
        self.blocks: dict[str, Any] = dict(spec.blocks or {})
        self.nodes: list[Node] = []
        #: the path of the top-level entry being expanded (nodes of blocks keep it)
        self.origin = ""
        self.issues: list[SpecIssue] = []
        self.aliases: dict[str, str] = {}
        #: entry paths whose names are reported once (block definitions expand many times)
        self._reported: set[tuple[str, str]] = set()

    def issue(self, path: str, message: str, hint: str = "") -> None:
        if (path, message) not in self._reported:
            self._reported.add((path, message))
            self.issues.append(SpecIssue(path, message, hint))

    # ----- one scope: the top-level layers or one copy of a block -----------------
    def expand(
        self,
        entries: list[Any],
        base_path: str,
        prefix: str,
        owner_prefix: str,
        visible: dict[str, _Defined],
        previous: str | None,
        stack: tuple[str, ...],
        block: str | None,
    ) -> str | None:
        """Add the nodes of ``entries``; return the value of the last one (None if broken).

        ``prefix`` is put before node names (``res/1/``), ``owner_prefix`` before the
        owners' (the same, unless a shared block is applied again).
        """
        scope: dict[str, _Defined] = dict(visible)
        order = [entry.name for entry in entries]
        for index, entry in enumerate(entries):
            path = f"{base_path}[{index}]"
            if block is None:
                self.origin = path
            inputs = self._inputs(entry, path, scope, order, index, previous, entries)
            full = prefix + entry.name
            if hasattr(entry, "shares"):
                defined = self._shares(entry, path, full, inputs, scope, stack, block)
            elif entry.type == "block":
                defined = self._block(entry, path, full, owner_prefix + entry.name, inputs, stack)
            else:
                defined = self._layer(entry, path, full, owner_prefix + entry.name, inputs, block)
            if defined is None:  # reported: later references to it say nothing more
                scope[entry.name] = _Defined("", "broken")
                previous = None
                continue
            if defined.kind == "block":
                self.aliases[full] = defined.value
            scope[entry.name] = defined
            previous = defined.value
        return previous

    def _inputs(
        self,
        entry: Any,
        path: str,
        scope: dict[str, _Defined],
        order: list[str],
        index: int,
        previous: str | None,
        entries: list[Any],
    ) -> list[str] | None:
        if entry.inputs is None:
            if previous is None:
                if index == 0:
                    self.issue(
                        f"{path}.inputs",
                        "the model has several inputs, so the first layer must name the one "
                        "it takes",
                        f'add "inputs": [one of {", ".join(map(repr, self.spec_inputs()))}]',
                    )
                return None
            return [previous]
        values: list[str] = []
        ok = True
        for i, ref in enumerate(entry.inputs):
            found = scope.get(ref)
            if found is not None and found.kind == "broken":
                ok = False
                continue
            if found is not None:
                values.append(found.value)
                continue
            ok = False
            where = f"{path}.inputs[{i}]"
            if ref in order[index:]:
                self._later_reference(entry, ref, where, order, index, entries)
            else:
                hint = _did_you_mean(ref, [n for n in scope if n not in order[index:]])
                self.issue(
                    where,
                    f"unknown name {ref!r}: expected an earlier layer or a model input "
                    f"({', '.join(repr(n) for n in scope)})",
                    hint,
                )
        return values if ok else None

    def _later_reference(
        self, entry: Any, ref: str, where: str, order: list[str], index: int, entries: list[Any]
    ) -> None:
        if ref == entry.name:
            self.issue(where, f"cycle: layer {ref!r} takes its own output")
            return
        # does the later layer depend, through its own inputs, on this one?
        position = {name: i for i, name in enumerate(order)}

        def refs(i: int) -> list[str]:
            later = entries[i]
            if later.inputs is None:
                return [order[i - 1]] if i > 0 else []
            return [r for r in later.inputs if r in position]

        trail = [ref]
        seen = set()
        stack = [(ref, [ref])]
        while stack:
            name, trail = stack.pop()
            if name == entry.name:
                self.issue(where, "cycle: " + " -> ".join([entry.name, *trail]))
                return
            if name in seen:
                continue
            seen.add(name)
            stack += [(r, [*trail, r]) for r in refs(position[name])]
        self.issue(
            where,
            f"{ref!r} is a later layer; a layer may only take the outputs of earlier layers "
            "or model inputs",
            f"move {entry.name!r} after {ref!r}",
        )

    def spec_inputs(self) -> list[str]:
        return list(self.spec.inputs or {DEFAULT_INPUT: None})

    def _check_count(self, entry: Any, path: str, type_name: str, count: int) -> bool:
        low, high = _input_count(entry)
        if count < low or (high is not None and count > high):
            if (low, high) == (1, 1):
                expected = "one input"
            elif high is None:
                expected = f"at least {low} inputs"
            elif low == high:
                expected = f"exactly {low} inputs"
            else:
                expected = f"{low} to {high} inputs"
            self.issue(
                f"{path}.inputs",
                f"{type_name} takes {expected}, received {count}",
                "list the layers it merges in 'inputs'" if low > 1 else "",
            )
            return False
        return True

    def _layer(
        self,
        entry: Any,
        path: str,
        full: str,
        owner: str,
        inputs: list[str] | None,
        block: str | None,
    ) -> _Defined | None:
        if inputs is None or not self._check_count(entry, path, entry.type, len(inputs)):
            return None
        self.nodes.append(Node(full, owner, entry, inputs, path, block, self.origin))
        return _Defined(full, "layer", owner, entry, entry.type)

    def _shares(
        self,
        entry: Any,
        path: str,
        full: str,
        inputs: list[str] | None,
        scope: dict[str, _Defined],
        stack: tuple[str, ...],
        block: str | None,
    ) -> _Defined | None:
        target = scope.get(entry.shares)
        if target is not None and target.kind == "broken":
            return None
        if target is None or target.kind == "input":
            candidates = [n for n, d in scope.items() if d.kind != "input"]
            self.issue(
                f"{path}.shares",
                f"unknown layer {entry.shares!r} to share: expected an earlier layer or block "
                f"of this {'block' if block else 'model'}",
                _did_you_mean(entry.shares, candidates),
            )
            return None
        if entry.type is not None and entry.type != target.type_name:
            self.issue(
                f"{path}.type",
                f"{entry.shares!r} is a {target.type_name} layer, not {entry.type}",
                f'remove "type" or share a {entry.type} layer',
            )
            return None
        if inputs is None:
            return None
        if target.kind == "block":
            if len(inputs) != 1:
                self.issue(f"{path}.inputs", f"a block takes one input, received {len(inputs)}")
                return None
            value = self._place(target.entry, path, full, target.owner, inputs[0], stack)
            return (
                None
                if value is None
                else _Defined(value, "block", target.owner, target.entry, "block")
            )
        if not self._check_count(target.entry, path, target.type_name, len(inputs)):
            return None
        self.nodes.append(Node(full, target.owner, target.entry, inputs, path, block, self.origin))
        return _Defined(full, "layer", target.owner, target.entry, target.type_name)

    def _block(
        self,
        entry: Any,
        path: str,
        full: str,
        owner: str,
        inputs: list[str] | None,
        stack: tuple[str, ...],
    ) -> _Defined | None:
        if inputs is None:
            return None
        if len(inputs) != 1:
            self.issue(f"{path}.inputs", f"a block takes one input, received {len(inputs)}")
            return None
        value = self._place(entry, path, full, owner + "/", inputs[0], stack)
        return None if value is None else _Defined(value, "block", owner + "/", entry, "block")

    def _place(
        self,
        entry: Any,
        path: str,
        full: str,
        owner_prefix: str,
        value: str,
        stack: tuple[str, ...],
    ) -> str | None:
        """``entry.repeat`` copies of block ``entry.block`` after ``value``."""
        name = entry.block
        definition = self.blocks.get(name)
        if definition is None:
            self.issue(
                f"{path}.block",
                f"unknown block {name!r}; blocks: {', '.join(map(repr, self.blocks)) or 'none'}",
                _did_you_mean(name, list(self.blocks)),
            )
            return None
        if name in stack:
            cycle = " -> ".join([*stack[stack.index(name) :], name])
            self.issue(f"{path}.block", f"block {name!r} refers to itself ({cycle})")
            return None
        current: str | None = value
        for copy in range(1, entry.repeat + 1):
            if current is None:
                return None
            visible = {BLOCK_INPUT: _Defined(current, "input")}
            current = self.expand(
                definition.layers,
                f"blocks.{name}.layers",
                f"{full}/{copy}/",
                f"{owner_prefix}{copy}/",
                visible,
                current,
                (*stack, name),
                full,
            )
        return current


def resolve_graph(spec: Any) -> tuple[GraphPlan | None, list[SpecIssue]]:
    """The plan of a validated spec whose layers are named, and the structural issues."""
    resolver = _Resolver(spec)
    issues = resolver.issues
    inputs = {k: tuple(v) for k, v in (spec.inputs or {DEFAULT_INPUT: spec.input_shape}).items()}
    visible = {name: _Defined(name, "input") for name in inputs}
    for index, entry in enumerate(spec.layers):
        if entry.name in inputs:
            resolver.issue(
                f"layers[{index}].name",
                f"layer name {entry.name!r} is also the name of a model input",
                "give the layer or the input another name",
            )
    for name, definition in (spec.blocks or {}).items():
        _check_block_names(resolver, name, definition)
    first = next(iter(inputs)) if len(inputs) == 1 else None
    last = resolver.expand(spec.layers, "layers", "", "", visible, first, (), None)
    if issues:
        return None, issues
    top_names = {entry.name for entry in spec.layers}
    outputs = _outputs(resolver, spec, top_names, last)
    if outputs is None:
        return None, issues
    plan = GraphPlan(inputs, resolver.nodes, outputs, resolver.aliases)
    _unused(resolver, plan)
    _per_output_settings(resolver, spec, [o for o in (spec.outputs or [])])
    return (None if issues else plan), issues


def _check_block_names(resolver: _Resolver, name: str, definition: Any) -> None:
    seen: dict[str, int] = {}
    for index, entry in enumerate(definition.layers):
        path = f"blocks.{name}.layers[{index}].name"
        if entry.name == BLOCK_INPUT:
            resolver.issue(path, f"{BLOCK_INPUT!r} names the block's input; choose another name")
        elif entry.name in seen:
            resolver.issue(
                path,
                f"duplicate layer name {entry.name!r} in block {name!r} "
                f"(already used by blocks.{name}.layers[{seen[entry.name]}])",
            )
        else:
            seen[entry.name] = index


def _outputs(
    resolver: _Resolver, spec: Any, top_names: set[str], last: str | None
) -> list[str] | None:
    if spec.outputs is None:
        return [last] if last is not None else None
    values = []
    for i, name in enumerate(spec.outputs):
        if name not in top_names:
            resolver.issue(
                f"outputs[{i}]",
                f"unknown layer {name!r}: outputs name layers of the model",
                _did_you_mean(name, sorted(top_names)),
            )
        elif name in spec.outputs[:i]:
            resolver.issue(f"outputs[{i}]", f"{name!r} is listed twice")
        else:
            values.append(resolver.aliases.get(name, name))
    return None if resolver.issues else values


def _unused(resolver: _Resolver, plan: GraphPlan) -> None:
    """Every layer must reach an output, and every model input must be used."""
    producers = {node.name: node for node in plan.nodes}
    needed: set[str] = set()
    pending = list(plan.outputs)
    while pending:
        value = pending.pop()
        if value in needed:
            continue
        needed.add(value)
        node = producers.get(value)
        if node is not None:
            pending += node.inputs
    final = {}  # top-level entry path -> the last node it placed
    for node in plan.nodes:
        final[node.origin] = node.name
    for node in plan.nodes:
        if node.name in needed:
            continue
        if node.block is None or final[node.origin] not in needed:
            label = node.name if node.block is None else node.block.split("/")[0]
            resolver.issue(
                node.origin,
                f"the output of {label!r} reaches no model output",
                "use it in a later layer's 'inputs', list it in 'outputs', or remove it",
            )
        else:
            inner = node.name.rsplit("/", 1)[-1]
            resolver.issue(
                node.path,
                f"layer {inner!r} reaches neither the block's output (its last layer) nor any "
                "model output",
                "use it in a later layer's 'inputs' in the block, or remove it",
            )
    for name in plan.inputs:
        if name not in needed:
            resolver.issue(
                f"inputs.{name}",
                f"model input {name!r} is not used by any layer",
                "name it in a layer's 'inputs', or remove it",
            )


def _per_output_settings(resolver: _Resolver, spec: Any, declared: list[str]) -> None:
    """Losses, loss weights and metrics keyed by output name must name outputs."""
    outputs = declared or [spec.layers[-1].name]
    keyed = {
        "loss": spec.loss if isinstance(spec.loss, dict) else None,
        "loss_weights": spec.loss_weights,
        "training.metrics": spec.training.metrics
        if isinstance(spec.training.metrics, dict)
        else None,
    }
    for where, mapping in keyed.items():
        for key in mapping or {}:
            if key not in outputs:
                resolver.issue(
                    f"{where}.{key}",
                    f"{key!r} is not an output of the model; outputs: "
                    f"{', '.join(map(repr, outputs))}",
                    _did_you_mean(key, outputs),
                )
    if isinstance(spec.loss, dict):
        missing = [name for name in outputs if name not in spec.loss]
        if missing:
            resolver.issue(
                "loss",
                f"no loss for output{'s' if len(missing) > 1 else ''} "
                f"{', '.join(map(repr, missing))}",
                "give every output a loss, or one loss for all of them",
            )
