"""Shape inference at validation time: chain every layer's output shape, allocate nothing.

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


def layer_from_entry(entry: Any, path: str = "layers") -> Layer:
    """An unbuilt layer from a validated spec entry (at ``path``, for messages)."""
    options = entry.model_dump(exclude={"type", "name"})
    cls = get_registry().get("layers", entry.type).cls
    try:
        return cls(**options, name=entry.name)
    except ModularNNError:
        raise
    except Exception as exc:  # noqa: BLE001 - a (third-party) component's own bug
        problem = f"creating it raised {type(exc).__name__}: {exc}"
        raise SpecError([component_bug(entry.type, entry.name, path, problem)]) from exc


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


def infer_shapes(
    layers: list[Layer], input_shape: Shape, paths: list[str]
) -> tuple[list[SpecIssue], Shape | None]:
    """Chain output shapes; return the issues found and the final shape (None if broken)."""
    issues: list[SpecIssue] = []
    shape: Shape | None = tuple(input_shape)
    total = 0
    limit = max_params()
    for layer, path in zip(layers, paths):
        try:
            count = layer.param_count(shape)
            output = layer.compute_output_shape(shape)
        except ShapeError as exc:
            issues.append(SpecIssue(path, f"layer {layer.name!r}: {exc}"))
            return issues, None
        except (ValueError, OverflowError, ModularNNError) as exc:
            issues.append(
                SpecIssue(path, f"layer {layer.name!r} cannot take input shape {shape}: {exc}")
            )
            return issues, None
        except Exception as exc:  # noqa: BLE001 - a (third-party) component's own bug
            problem = f"its shape methods raised {type(exc).__name__}: {exc} (input shape {shape})"
            issues.append(component_bug(layer.type_name, layer.name, path, problem))
            return issues, None
        if _shape(output) is None or not isinstance(count, numbers.Integral) or count < 0:
            problem = (
                f"for input shape {shape}, compute_output_shape returned {output!r} and "
                f"param_shapes {count!r} parameters; expected a tuple of non-negative integers "
                "and a non-negative count"
            )
            issues.append(component_bug(layer.type_name, layer.name, path, problem))
            return issues, None
        output = _shape(output)
        total += count
        if count > limit:
            issues.append(
                SpecIssue(
                    path,
                    f"layer {layer.name!r} would have {count:,} parameters, more than the limit "
                    f"of {limit:,}",
                    "make the layer smaller, or raise MODULAR_NN_MAX_PARAMS",
                )
            )
        shape = output
    if total > limit and not issues:
        issues.append(
            SpecIssue(
                "layers",
                f"the model would have {total:,} parameters, more than the limit of {limit:,}",
                "make the model smaller, or raise MODULAR_NN_MAX_PARAMS",
            )
        )
    return issues, shape


def spec_param_count(spec: ModelSpec) -> int:
    """The trainable scalars the layers of a valid spec create, counted without
    allocating any (``load_spec`` has checked the shapes)."""
    shape: Shape = tuple(spec.input_shape)
    total = 0
    for i, entry in enumerate(spec.layers):
        layer = layer_from_entry(entry, f"layers[{i}]")
        total += layer.param_count(shape)
        shape = layer.compute_output_shape(shape)
    return total


def check_shapes(spec: ModelSpec) -> list[SpecIssue]:
    """Shape and size problems of a structurally valid spec."""
    try:
        layers = [layer_from_entry(entry, f"layers[{i}]") for i, entry in enumerate(spec.layers)]
    except SpecError as exc:
        return exc.issues
    paths = [f"layers[{i}]" for i in range(len(layers))]
    issues, output = infer_shapes(layers, tuple(spec.input_shape), paths)
    if output is not None and spec.loss is not None:
        options = component_options(spec.loss)
        loss = get_registry().create("losses", options)
        try:
            loss.check_output_shape(output)
        except ShapeError as exc:
            issues.append(SpecIssue("loss", str(exc)))
    return issues
