"""A model's graph as an ONNX file: ``model.export(path, format="onnx")``.

The walk follows the model's graph (``model.engine.steps``, the nodes in order)
and asks each layer to export itself (``export_onnx``, see
``modular_nn.export.builder``); a shared layer's further uses hold the very same
arrays as its first, so they read the same initializers. An embedding's ``mask_zero``
mask is carried beside the values it masks, where the engine carries it
(``step.mask_in``/``step.mask_out``): the walk sets ``builder.input_mask`` before each
layer's export and takes the output's mask from ``export_onnx_mask`` (or the input's);
recurrent layers reached by one unroll their time loop. Before anything is built,
every layer and activation of the model is checked for an export method: a missing
one is an ``ExportError`` naming the layer, its type and the plugin that provides it, and
so is a mask reaching a layer whose export would ignore it.

The file: opset ``OPSET``, a dynamic batch axis (``batch``) on every input and
output, inputs and outputs named as in the spec (integer ids for inputs that only
embeddings read, as int64), the model's name, ``modular_nn`` and its version as the
producer, and the normalized spec JSON in ``metadata_props`` (key ``spec``). It
passes ``onnx.checker.check_model(full_check=True)`` before it is written, and it
is written atomically.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modular_nn.components.activation import Activation
from modular_nn.errors import ExportError, ModularNNError
from modular_nn.export.atomic import checked_target, write_bytes_atomically
from modular_nn.export.builder import IR_VERSION, OPSET, OnnxBuilder, exports_onnx

if TYPE_CHECKING:
    from modular_nn.components.layer import Layer
    from modular_nn.model.model import Model

#: What a user without the ``onnx`` package is told to install.
INSTALL_HINT = "pip install 'modular-nn[onnx]'"
#: Metadata keys of an exported file.
SPEC_KEY = "spec"
NAME_KEY = "name"
#: Built-in layers whose values do not depend on a mask reaching them (they pass it on):
#: a masked value may flow through them in an exported model.
MASK_PASSING = frozenset(
    {"dense", "dropout", "activation", "layer_norm", "rescaling", "add", "subtract", "multiply",
     "average", "maximum", "minimum", "concatenate", "positional_embedding"}
)  # fmt: skip
FORMATS = ("onnx",)


def require_onnx() -> Any:
    """The ``onnx`` module; ``ExportError`` saying which extra to install without it."""
    try:
        import onnx
    except ImportError as exc:
        raise ExportError(
            f"exporting to ONNX needs the onnx package, which is not installed ({exc}); "
            f"install the [onnx] extra: {INSTALL_HINT}"
        ) from None
    return onnx


def export_model(model: Model, path: str | os.PathLike[str], format: str = "onnx") -> Path:
    """Write ``model`` (inference mode) to ``path`` as ONNX; returns the path written.

    Raises ``ExportError`` before writing anything when the format is unknown, the
    ``onnx`` package is missing, a component cannot be exported or the built graph
    fails ONNX's checker; a failure while writing leaves any file at ``path`` as it was.
    """
    if format not in FORMATS:
        raise ExportError(f"expected format 'onnx', received: {format!r}")
    checked_target(path)
    onnx = require_onnx()
    check_exportable(model)
    proto, owners = _build(model)
    try:
        onnx.checker.check_model(proto, full_check=True)
    except Exception as exc:  # noqa: BLE001 - onnx raises several types
        culprits = [owner for node, owner in owners.items() if f"Name: {node} " in str(exc)]
        where = "the exported graph"
        if culprits:
            name, layer = culprits[0]
            where = (
                f"the export of layer {name!r} (type {layer.type_name!r}, from "
                f"{provider_of('layers', layer.type_name)})"
            )
        raise ExportError(f"{where} fails ONNX's checker: {exc}") from exc
    return write_bytes_atomically(path, proto.SerializeToString())


# ----- checks before building ---------------------------------------------------------------


def provider_of(kind: str, type_name: str) -> str:
    """Who provides a component, for messages (``modular-nn-extras 0.1.0 (plugin 'extras')``)."""
    from modular_nn.registry import get_registry

    try:
        return get_registry().get(kind, type_name).provider.describe()
    except ModularNNError:
        return "an unregistered class"


def activations_of(layer: Layer) -> list[Activation]:
    """The activations a layer holds (``self.activation`` and any other attribute)."""
    return [value for value in vars(layer).values() if isinstance(value, Activation)]


def carries_masks(layer: Layer) -> bool:
    """Whether the export of ``layer`` is right with a mask reaching it: its value does
    not depend on the mask (``MASK_PASSING``) or its export reads ``builder.input_mask``
    (``onnx_reads_mask``: the recurrent layers, ``bidirectional``, the 1-D global pools,
    ``multi_head_attention``)."""
    return layer.type_name in MASK_PASSING or bool(getattr(layer, "onnx_reads_mask", False))


def exports_output_mask(layer: Layer) -> bool:
    """Whether the mask of ``layer``'s output can be exported: the input's (the default
    ``compute_mask``) or the layer's own ``export_onnx_mask``."""
    from modular_nn.components.layer import Layer as BaseLayer

    own = type(layer).compute_mask is not BaseLayer.compute_mask
    return not own or callable(getattr(layer, "export_onnx_mask", None))


def check_exportable(model: Model) -> None:
    """``ExportError`` listing every layer or activation without ``export_onnx`` (with
    its type and provider), every layer a mask reaches whose export would ignore it, and
    every output mask the export cannot compute."""
    problems = []
    for node, step in zip(model.graph.nodes, model.engine.steps):
        if node.shares:
            continue  # its owner is checked
        layer = step.layer
        provider = provider_of("layers", layer.type_name)
        where = f"layer {node.name!r} (type {layer.type_name!r}, from {provider})"
        if not exports_onnx(layer):
            problems.append(f"{where} has no ONNX export (no export_onnx method of its own)")
        for activation in activations_of(layer):
            if not activation.is_identity and not exports_onnx(activation):
                problems.append(
                    f"{where} uses activation {activation.type_name!r} (from "
                    f"{provider_of('activations', activation.type_name)}), which has no ONNX "
                    "export (no export_onnx method of its own)"
                )
    for node, step in zip(model.graph.nodes, model.engine.steps):
        layer = step.layer
        if step.mask_in and not carries_masks(layer):
            problems.append(
                f"layer {node.name!r} (type {layer.type_name!r}) reads a mask (an "
                "embedding's mask_zero), which its ONNX export does not carry; expected a "
                "model without mask_zero (docs/export.md, 'Masks')"
            )
        elif step.mask_out and not exports_output_mask(layer):
            problems.append(
                f"layer {node.name!r} (type {layer.type_name!r}) computes its output's mask "
                "(compute_mask) without an export_onnx_mask method to export it; expected a "
                "model without mask_zero (docs/export.md, 'Masks')"
            )
    if problems:
        raise ExportError(
            "cannot export the model to ONNX: "
            + ("; ".join(problems) if len(problems) == 1 else "\n  - " + "\n  - ".join(problems))
        )


# ----- building ------------------------------------------------------------------------------


def build_onnx_model(model: Model) -> Any:
    """The ``onnx.ModelProto`` of ``model`` (checked with ``check_exportable`` first)."""
    return _build(model)[0]


def _build(model: Model) -> tuple[Any, dict[str, tuple[str, Layer]]]:
    """The ``ModelProto`` and, by ONNX node name, the graph node and layer that added it."""
    from onnx import TensorProto, helper

    from modular_nn import __version__

    builder = OnnxBuilder(model.dtype)
    for name in [*model.input_names, *model.output_names]:
        builder.unique(name)  # the graph's own names: no inner value takes them
    graph_inputs = []
    values: dict[str, str] = {}
    owners: dict[str, tuple[str, Layer]] = {}
    for name, shape, integer in zip(
        model.input_names, model.input_shapes.values(), model._integer_flags
    ):
        elem = TensorProto.INT64 if integer else builder.elem_type
        graph_inputs.append(helper.make_tensor_value_info(name, elem, ["batch", *shape]))
        values[name] = name
    masks: dict[str, str | None] = {}  # the boolean (batch, time) mask of a masked value
    for node, step in zip(model.graph.nodes, model.engine.steps):
        given = [values[v] for v in node.inputs]
        start = len(builder.nodes)
        given_masks = [masks.get(v) for v in node.inputs]
        builder.input_mask = (
            (given_masks if step.several else given_masks[0]) if step.mask_in else None
        )
        values[node.name], masks[node.name] = _export_layer(
            builder, node.name, step.layer, given, step.mask_out
        )
        builder.input_mask = None
        owners.update({added.name: (node.name, step.layer) for added in builder.nodes[start:]})
    graph_outputs = []
    for name, value, shape in zip(
        model.output_names, model.graph.outputs, model.output_shapes.values()
    ):
        builder.nodes.append(helper.make_node("Identity", [values[value]], [name], name=name))
        graph_outputs.append(
            helper.make_tensor_value_info(name, builder.elem_type, ["batch", *shape])
        )
    graph = helper.make_graph(
        builder.nodes, model.name, graph_inputs, graph_outputs, builder.initializers
    )
    proto = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", builder.opset)],
        producer_name="modular_nn",
        producer_version=__version__,
        ir_version=IR_VERSION,
        doc_string=f"modular_nn model {model.name!r} ({model.dtype.name}), inference mode",
    )
    helper.set_model_props(proto, {NAME_KEY: model.name, SPEC_KEY: model.to_spec().to_json()})
    return proto, owners


def _export_layer(
    builder: OnnxBuilder, name: str, layer: Layer, inputs: list[str], mask_out: bool
) -> tuple[str, str | None]:
    """The layer's export under its node's name, and its output's mask when it has one
    (``mask_out``); failures name the layer and its provider."""
    try:
        with builder.scoped(name):
            out = layer.export_onnx(builder, inputs)  # type: ignore[attr-defined]
            mask = output_mask(builder, layer, inputs) if mask_out else None
    except Exception as exc:  # noqa: BLE001 - a plugin's export may raise anything
        detail = str(exc) if isinstance(exc, ExportError) else f"{type(exc).__name__}: {exc}"
        raise ExportError(
            f"cannot export layer {name!r} (type {layer.type_name!r}, from "
            f"{provider_of('layers', layer.type_name)}) to ONNX: {detail}"
        ) from exc
    if not isinstance(out, str):
        raise ExportError(
            f"layer {name!r} (type {layer.type_name!r}): export_onnx must return its output's "
            f"value name, returned {out!r}"
        )
    return out, mask


def output_mask(builder: OnnxBuilder, layer: Layer, inputs: list[str]) -> str | None:
    """The boolean mask value of ``layer``'s output, as its ``compute_mask``: its own
    ``export_onnx_mask`` if it has one, else the input's (the AND of several inputs')."""
    own = getattr(layer, "export_onnx_mask", None)
    if callable(own):
        return own(builder, inputs, builder.input_mask)  # type: ignore[no-any-return]
    given = builder.input_mask
    return builder.mask_and(given) if isinstance(given, list) else given


__all__ = ["INSTALL_HINT", "OPSET", "build_onnx_model", "check_exportable", "export_model"]
