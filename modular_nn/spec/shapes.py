"""Shape inference at validation time: every node's output shape through the graph, allocate
nothing.

Also refuses specs whose parameter count exceeds a limit (``MODULAR_NN_MAX_PARAMS``,
default one billion) before any array exists, and checks that the loss fits the
model's output.
"""

from __future__ import annotations

import numbers
import os
from typing import TYPE_CHECKING, Any

from modular_nn.components.layer import Layer, Shape
from modular_nn.errors import ModularNNError, ShapeError, SpecError, SpecIssue
from modular_nn.graph.plan import GraphPlan, Node
from modular_nn.registry import get_registry

if TYPE_CHECKING:
    from modular_nn.spec.model_spec import ModelSpec

DEFAULT_MAX_PARAMS = 1_000_000_000


def max_params() -> int:
    """The largest parameter count a spec may ask for (env ``MODULAR_NN_MAX_PARAMS``)."""
    raw = os.environ.get("MODULAR_NN_MAX_PARAMS", "")
    try:
        return int(raw) if raw.strip() else DEFAULT_MAX_PARAMS
    except ValueError:
        return DEFAULT_MAX_PARAMS


def layer_from_entry(entry: Any, path: str = "layers", name: str | None = None) -> Layer:
    """An unbuilt layer from a validated spec entry (at ``path``, for messages), called
    ``name`` (default: the entry's name)."""
    options = entry.model_dump(exclude={"type", "name", "inputs"})
    cls = get_registry().get("layers", entry.type).cls
    name = entry.name if name is None else name
    try:
        return cls(**options, name=name)
    except ModularNNError:
        raise
    except Exception as exc:  # noqa: BLE001 - a (third-party) component's own bug
        problem = f"creating it raised {type(exc).__name__}: {exc}"
        raise SpecError([component_bug(entry.type, name, path, problem)]) from exc


def plan_layers(plan: GraphPlan) -> dict[str, Layer]:
    """One unbuilt layer per owning node of a plan made from a spec, by node name."""
    return {
        node.name: layer_from_entry(node.entry, node.path, node.name)
        for node in plan.nodes
        if not node.shares
    }


def component_bug(type_name: str, name: str | None, path: str, problem: str) -> SpecIssue:
    """The issue for a layer class whose own code misbehaved, naming its provider."""
    try:
        provider = f", from {get_registry().get('layers', type_name).provider.describe()}"
    except ModularNNError:
        provider = ""
    label = (
        f"layer {name!r} ({type_name}{provider})" if name else f"a {type_name!r} layer{provider}"
    )
    return SpecIssue(
        path,
        f"{label}: {problem}",
        "this is a bug in that component; report it to its author (or disable its plugin)",
    )


def _shape(value: Any) -> Shape | None:
    """``value`` as a shape, or None unless it is a sequence of non-negative integers."""
    if not isinstance(value, (tuple, list)):
        return None
    if not all(
        isinstance(d, numbers.Integral) and not isinstance(d, bool) and d >= 0 for d in value
    ):
        return None
    return tuple(int(d) for d in value)


def component_options(entry: Any) -> dict[str, Any]:
    """A validated loss/optimizer entry as ``{"type": ..., **options}``."""
    return entry.model_dump(mode="json")


def _show(shape: Any) -> str:
    return ", ".join(str(s) for s in shape) if isinstance(shape, list) else str(shape)


def _node_output(
    layer: Layer, node: Node, shape: Any, issues: list[SpecIssue]
) -> tuple[Shape | None, int]:
    """The output shape and parameter count of one node, or None after adding its issue."""
    label = f"layer {node.name!r}"
    try:
        count = 0 if node.shares else layer.param_count(shape)
        output = layer.compute_output_shape(shape)
    except ShapeError as exc:
        issues.append(SpecIssue(node.path, f"{label}: {exc}"))
        return None, 0
    except (ValueError, OverflowError, ModularNNError) as exc:
        issues.append(
            SpecIssue(node.path, f"{label} cannot take input shape {_show(shape)}: {exc}")
        )
        return None, 0
    except Exception as exc:  # noqa: BLE001 - a (third-party) component's own bug
        problem = (
            f"its shape methods raised {type(exc).__name__}: {exc} (input shape {_show(shape)})"
        )
        issues.append(component_bug(layer.type_name, node.name, node.path, problem))
        return None, 0
    if _shape(output) is None or not isinstance(count, numbers.Integral) or count < 0:
        problem = (
            f"for input shape {_show(shape)}, compute_output_shape returned {output!r} and "
            f"param_shapes {count!r} parameters; expected a tuple of non-negative integers "
            "and a non-negative count"
        )
        issues.append(component_bug(layer.type_name, node.name, node.path, problem))
        return None, 0
    return _shape(output), int(count)


def infer_graph_shapes(
    plan: GraphPlan, layers: dict[str, Layer]
) -> tuple[list[SpecIssue], dict[str, Shape] | None]:
    """Every value's per-sample shape through the plan (nothing allocated); the issues found
    and the shapes by value name (None when any node failed)."""
    issues: list[SpecIssue] = []
    shapes: dict[str, Shape | None] = dict(plan.inputs)
    masks = MaskFlow()
    owner_input: dict[str, Any] = {}
    total = 0
    limit = max_params()
    for node in plan.nodes:
        given = [shapes.get(value) for value in node.inputs]
        if any(shape is None for shape in given):
            shapes[node.name] = None  # an earlier node failed: say nothing more here
            continue
        layer = layers[node.owner]
        shape: Any = list(given) if layer.takes_several_inputs() else given[0]
        if node.shares:
            first = owner_input.get(node.owner)
            if first is not None and first != shape:
                issues.append(
                    SpecIssue(
                        node.path,
                        f"{node.name!r} shares layer {node.owner!r}, whose input shape is "
                        f"{_show(first)}, but receives {_show(shape)}",
                        "a shared layer is applied to inputs of the shape it was built for",
                    )
                )
                shapes[node.name] = None
                continue
        else:
            owner_input[node.name] = shape
        output, count = _node_output(layer, node, shape, issues)
        if output is not None and not masks.through(layer, node, shape, issues):
            output = None
        shapes[node.name] = output
        total += count
        if count > limit:
            issues.append(
                SpecIssue(
                    node.path,
                    f"layer {node.name!r} would have {count:,} parameters, more than the limit "
                    f"of {limit:,}",
                    "make the layer smaller, or raise MODULAR_NN_MAX_PARAMS",
                )
            )
    if total > limit and not issues:
        issues.append(
            SpecIssue(
                "layers",
                f"the model would have {total:,} parameters, more than the limit of {limit:,}",
                "make the model smaller, or raise MODULAR_NN_MAX_PARAMS",
            )
        )
    if issues or any(shapes.get(name) is None for name in plan.outputs):
        return issues, None
    return issues, shapes  # type: ignore[return-value]


class MaskFlow:
    """Which values carry a mask (padded sequences), node by node, and who put it there."""

    def __init__(self) -> None:
        #: value name -> the node whose layer made the mask it carries
        self.source: dict[str, str] = {}

    def through(self, layer: Layer, node: Node, shape: Any, issues: list[SpecIssue]) -> bool:
        """Record whether ``node``'s output carries a mask; False (with an issue) when a
        masked value reaches a layer that does not support masking."""
        flags = [value in self.source for value in node.inputs]
        if any(flags) and not layer.supports_masking:
            origin = next(self.source[v] for v in node.inputs if v in self.source)
            issues.append(
                SpecIssue(
                    node.path,
                    f"layer {node.name!r} ({layer.type_name}) cannot take a masked input: the "
                    f"mask that {origin!r} puts on padded steps reaches it, and "
                    f"{layer.type_name} does not support masking",
                    "consume the mask first (a recurrent layer, a global pooling), or drop "
                    "mask_zero",
                )
            )
            return False
        try:
            masked = layer.produces_mask(shape, flags if layer.takes_several_inputs() else flags[0])
        except Exception as exc:  # noqa: BLE001 - a (third-party) component's own bug
            problem = f"produces_mask raised {type(exc).__name__}: {exc}"
            issues.append(component_bug(layer.type_name, node.name, node.path, problem))
            return False
        if masked:
            inherited = [self.source[v] for v in node.inputs if v in self.source]
            self.source[node.name] = inherited[0] if inherited else node.name
        return True


def spec_param_count(spec: ModelSpec) -> int:
    """The trainable scalars the layers of a valid spec create, counted without
    allocating any (``load_spec`` has checked the shapes)."""
    from modular_nn.spec.graph import resolve_graph

    plan, _ = resolve_graph(spec)
    if plan is None:
        return 0
    layers = plan_layers(plan)
    shapes: dict[str, Any] = dict(plan.inputs)
    total = 0
    for node in plan.nodes:
        layer = layers[node.owner]
        given = [shapes[value] for value in node.inputs]
        shape = given if layer.takes_several_inputs() else given[0]
        if not node.shares:
            total += layer.param_count(shape)
        shapes[node.name] = layer.compute_output_shape(shape)
    return total


def output_losses(spec: Any, outputs: list[str]) -> dict[str, Any]:
    """The loss entry of each output (one loss applies to every output), by output name."""
    if spec.loss is None:
        return {}
    if isinstance(spec.loss, dict):
        return {name: spec.loss[name] for name in outputs if name in spec.loss}
    return {name: spec.loss for name in outputs}


def check_shapes(spec: ModelSpec, plan: GraphPlan) -> list[SpecIssue]:
    """Shape and size problems of a structurally valid spec, and losses that do not fit."""
    try:
        layers = plan_layers(plan)
    except SpecError as exc:
        return exc.issues
    issues, shapes = infer_graph_shapes(plan, layers)
    if shapes is None:
        return issues
    names = output_names(spec)
    for name, value in zip(names, plan.outputs):
        entry = output_losses(spec, names).get(name)
        if entry is None:
            continue
        loss = get_registry().create("losses", component_options(entry))
        try:
            loss.check_output_shape(shapes[value])
        except ShapeError as exc:
            where = f"loss.{name}" if isinstance(spec.loss, dict) else "loss"
            prefix = f"output {name!r}: " if len(names) > 1 else ""
            issues.append(SpecIssue(where, prefix + str(exc)))
    return issues


def output_names(spec: Any) -> list[str]:
    """The user-facing names of a named spec's outputs, in order."""
    return list(spec.outputs) if spec.outputs else [spec.layers[-1].name]
