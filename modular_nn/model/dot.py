"""A model's graph as Graphviz DOT (``modular-nn summary SPEC --format dot``).

``dot -Tpng model.dot -o model.png`` draws it, as Keras's ``plot_model`` does:
an ellipse per model input, a box per node (each application of a layer) labelled
with its name, type and output shape, an arrow from each value to every node that
takes it. The copies of a block sit in nested clusters (the placement ``res``,
then each copy ``res/1``); a shared use has a dashed border and a dashed grey
line, without arrow, to the layer whose weights it applies; outputs have a
double border and say which output they are.

Names are used as DOT identifiers, always quoted, so any name (with ``/``,
quotes, backslashes or spaces) is safe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from modular_nn.graph.plan import Node
from modular_nn.model.summary import batch_shape, block_label, node_shape, node_type

if TYPE_CHECKING:
    from modular_nn.model.model import Model

INDENT = "  "
FONT = '"Helvetica"'


def quote(text: str) -> str:
    """``text`` as a DOT quoted string: backslashes, quotes and line breaks escaped."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = escaped.replace("\r", "\\r").replace("\n", "\\n")
    return f'"{escaped}"'


def _label(*lines: str) -> str:
    """A centred multi-line label (DOT's ``\\n`` between the escaped lines)."""
    return '"' + "\\n".join(quote(line)[1:-1] for line in lines) + '"'


def _attributes(**attributes: str) -> str:
    return "[" + ", ".join(f"{key}={value}" for key, value in attributes.items()) + "]"


@dataclass
class _Cluster:
    """A block placement (``res``) or one of its copies (``res/1``), with what it holds."""

    key: str
    label: str
    items: list[_Cluster | Node] = field(default_factory=list)


def _cluster_keys(node: Node) -> list[str]:
    """The clusters a node sits in, outermost first: ``res``, ``res/1`` for
    ``res/1/conv_a``; a block placed inside a block adds its own two levels."""
    placement = node.block
    if placement is None:
        return []
    copy = placement + "/" + node.name[len(placement) + 1 :].split("/")[0]
    keys = [placement, copy]
    while "/" in placement:  # a placement inside a block's copy: res/1/inner
        outer_copy = placement.rsplit("/", 1)[0]
        placement = outer_copy.rsplit("/", 1)[0]
        keys = [placement, outer_copy, *keys]
    return keys


def _cluster_tree(nodes: list[Node]) -> list[_Cluster | Node]:
    """Nodes grouped in nested clusters, each in the order of its first node; a block
    placed once has no cluster for its single copy."""
    chains = {node.name: _cluster_keys(node) for node in nodes}
    labels = {node.block: block_label(node) for node in nodes if node.block is not None}
    copies: dict[str, set[str]] = {}
    for keys in chains.values():
        for placement, copy in zip(keys[::2], keys[1::2]):
            copies.setdefault(placement, set()).add(copy)
    top: list[_Cluster | Node] = []
    clusters: dict[str, _Cluster] = {}
    for node in nodes:
        items = top
        keys = chains[node.name]
        for depth, key in enumerate(keys):
            is_copy = depth % 2 == 1
            if is_copy and len(copies[keys[depth - 1]]) == 1:
                continue
            if key not in clusters:
                clusters[key] = _Cluster(key, labels.get(key, key))
                items.append(clusters[key])
            items = clusters[key].items
        items.append(node)
    return top


def graph_dot(model: Model) -> str:
    """The DOT text of ``model.graph``: inputs, nodes (name, type, output shape), edges,
    block copies in clusters, outputs marked."""
    graph = model.graph
    outputs: dict[str, list[str]] = {}
    for name, node_name in zip(model.output_names, graph.outputs):
        outputs.setdefault(node_name, []).append(name)
    title = _attributes(label=quote(model.name), labelloc="t", rankdir="TB", fontname=FONT)
    lines = [
        f"digraph {quote(model.name)} {{",
        f"{INDENT}graph {title};",
        f"{INDENT}node {_attributes(shape='box', fontname=FONT, fontsize='10')};",
    ]
    for name, shape in graph.inputs.items():
        label = _label(name, "input", batch_shape(shape))
        lines.append(f"{INDENT}{quote(name)} {_attributes(label=label, shape='ellipse')};")

    def node_line(node: Node, indent: str) -> str:
        text = [node.name, node_type(model, node), batch_shape(node_shape(model, node))]
        attributes = {}
        if node.name in outputs:
            text.append("output: " + ", ".join(outputs[node.name]))
            attributes["peripheries"] = "2"
        if node.shares:
            attributes["style"] = "dashed"
        return f"{indent}{quote(node.name)} {_attributes(label=_label(*text), **attributes)};"

    def emit(items: list[_Cluster | Node], depth: int) -> None:
        indent = INDENT * depth
        for item in items:
            if isinstance(item, Node):
                lines.append(node_line(item, indent))
                continue
            lines.append(f"{indent}subgraph {quote('cluster_' + item.key)} {{")
            lines.append(f"{indent}{INDENT}label={quote(item.label)};")
            lines.append(f"{indent}{INDENT}style={'dashed' if depth > 1 else 'rounded'};")
            emit(item.items, depth + 1)
            lines.append(f"{indent}}}")

    emit(_cluster_tree(graph.nodes), 1)
    for node in graph.nodes:
        for value in node.inputs:
            lines.append(f"{INDENT}{quote(value)} -> {quote(node.name)};")
    shared = _attributes(style="dashed", color="grey", arrowhead="none", constraint="false")
    for node in graph.nodes:
        if node.shares:
            lines.append(f"{INDENT}{quote(node.owner)} -> {quote(node.name)} {shared};")
    lines.append("}")
    return "\n".join(lines) + "\n"
