"""Shape inference at validation time: chain every layer's output shape, allocate nothing.

Also refuses specs whose parameter count exceeds a limit (``MODULAR_NN_MAX_PARAMS``,
default one billion) before any array exists, and checks that the loss fits the
model's output.
"""

from __future__ import annotations

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


def layer_from_entry(entry: Any) -> Layer:
    """An unbuilt layer from a validated spec entry."""
    options = entry.model_dump(exclude={"type", "name"})
    cls = get_registry().get("layers", entry.type).cls
    return cls(**options, name=entry.name)


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


def check_shapes(spec: ModelSpec) -> list[SpecIssue]:
    """Shape and size problems of a structurally valid spec."""
    try:
        layers = [layer_from_entry(entry) for entry in spec.layers]
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
