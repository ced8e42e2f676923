"""The text table of ``Model.summary()`` and ``modular-nn summary``.

A chain (one input named ``input``, each layer taking the previous one's output)
keeps its table of layers. Any other graph is shown as Keras shows a functional
model: one row per model input (type ``input``) and per node, that is per
application of a layer (a shared layer's further uses are rows of their own, typed
``conv2d (shares stem)``, with 0 parameters so that the totals count each weight
once), with the block each node belongs to and the rows it is connected to.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from modular_nn.graph.plan import DEFAULT_INPUT, GraphPlan, Node

if TYPE_CHECKING:
    from modular_nn.model.model import Model

#: a node of a block has the path of its entry in the block's definition
_BLOCK_PATH = re.compile(r"^blocks\.(?P<block>.+)\.layers\[\d+\]$")


def format_table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    """Left-aligned columns with a rule under the header."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in [header, *rows]
    ]
    rule = "-" * max(len(line) for line in lines)
    return "\n".join([lines[0], rule, *lines[1:], rule])


def batch_shape(shape: tuple[int, ...] | None) -> str:
    """A per-sample shape with the batch axis in front: ``(None, 8, 8, 4)``."""
    return "(None, " + ", ".join(str(d) for d in shape or ()) + ")"


def shows_as_chain(graph: GraphPlan) -> bool:
    """True when the model is a plain chain on the default input (the classic table)."""
    return graph.is_chain and list(graph.inputs) == [DEFAULT_INPUT]


def node_type(model: Model, node: Node) -> str:
    """The layer type of a node; a shared use names the layer it applies again."""
    type_name = model.engine.layers[node.owner].type_name
    return f"{type_name} (shares {node.owner})" if node.shares else type_name


def node_shape(model: Model, node: Node) -> tuple[int, ...] | None:
    """The per-sample output shape of a node (a shared use gives its layer's shape)."""
    return model.engine.layers[node.owner].output_shape


def block_label(node: Node) -> str:
    """``res (residual)``: the block placement a node belongs to and the block it places;
    empty outside blocks."""
    if node.block is None:
        return ""
    match = _BLOCK_PATH.match(node.path)
    return f"{node.block} ({match['block']})" if match else node.block


def output_label(model: Model, name: str, node: str) -> str:
    """An output's name and shape; a block placement's output names its last node too."""
    shape = batch_shape(model.engine.layers[_owner(model.graph, node)].output_shape)
    return f"{name} {shape}" if name == node else f"{name} = {node} {shape}"


def _owner(graph: GraphPlan, name: str) -> str:
    return next(node.owner for node in graph.nodes if node.name == name)


def _totals(model: Model) -> str:
    trainable = model.count_params()
    buffers = sum(b.size for b in model.buffers.values())
    return (
        f"Total params: {trainable + buffers:,}\n"
        f"Trainable params: {trainable:,}\nNon-trainable params: {buffers:,}"
    )


def chain_table(model: Model) -> str:
    """Layer name, type, output shape and parameter count, then the totals."""
    rows = []
    for layer in model.layers:
        count = sum(p.size for p in layer.params.values())
        rows.append(
            (layer.name or "", layer.type_name, batch_shape(layer.output_shape), f"{count:,}")
        )
    table = format_table(rows, ("Layer", "Type", "Output shape", "Params"))
    input_shape = batch_shape(model.input_shape)
    return (
        f'Model "{model.name}" (input {input_shape}, {model.dtype.name})\n{table}\n{_totals(model)}'
    )


def graph_table(model: Model) -> str:
    """One row per model input and per node: name, type, output shape, parameters, block
    and the rows it takes its inputs from; then the outputs and the totals."""
    graph = model.graph
    rows = [
        (name, "input", batch_shape(shape), "0", "", "-") for name, shape in graph.inputs.items()
    ]
    for node in graph.nodes:
        layer = model.engine.layers[node.owner]
        count = 0 if node.shares else sum(p.size for p in layer.params.values())
        rows.append(
            (
                node.name,
                node_type(model, node),
                batch_shape(node_shape(model, node)),
                f"{count:,}",
                block_label(node),
                ", ".join(node.inputs),
            )
        )
    header = ("Layer", "Type", "Output shape", "Params", "Block", "Connected to")
    table = format_table(rows, header)
    inputs = ", ".join(f"{name} {batch_shape(shape)}" for name, shape in graph.inputs.items())
    outputs = ", ".join(
        output_label(model, name, node) for name, node in zip(model.output_names, graph.outputs)
    )
    plural = "s" if len(graph.inputs) > 1 else ""
    return (
        f'Model "{model.name}" (input{plural} {inputs}; {model.dtype.name})\n{table}\n'
        f"Output{'s' if len(graph.outputs) > 1 else ''}: {outputs}\n{_totals(model)}"
    )


def summary_table(model: Model) -> str:
    """The summary text of a model: the chain table, or the graph table for any other
    graph (named inputs, merges, shared layers, blocks, several outputs)."""
    return chain_table(model) if shows_as_chain(model.graph) else graph_table(model)
