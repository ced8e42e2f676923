"""A model's graph as plain data: named inputs, nodes in topological order, outputs.

A *node* is one application of a layer. Its ``owner`` names the layer whose
weights it uses: itself, or another layer it ``shares``. Values are named after
what produces them: a model input's name, or a node's name. Nothing here holds
arrays; ``modular_nn.graph.engine`` runs a plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Shape = tuple[int, ...]

#: the single input of a model given ``input_shape``
DEFAULT_INPUT = "input"


@dataclass
class Node:
    """One application of a layer.

    Attributes:
        name: unique node name; block copies read ``res/1/conv_a``.
        owner: the node whose layer (and weights) this one applies.
        entry: the validated spec entry that creates the owner's layer (None when the
            model was assembled from layer objects).
        inputs: the values it takes: model input names or node names, in order.
        path: the JSON path of its spec entry, for messages.
        block: the block placement it belongs to (``res``), or None.
        origin: the JSON path of the top-level entry that placed it (its own ``path``
            unless it comes from a block).
    """

    name: str
    owner: str
    entry: Any
    inputs: list[str]
    path: str
    block: str | None = None
    origin: str = ""

    @property
    def shares(self) -> bool:
        """True when this node applies another node's layer."""
        return self.owner != self.name


@dataclass
class GraphPlan:
    """Inputs (name -> per-sample shape, in order), nodes in order, output node names."""

    inputs: dict[str, Shape]
    nodes: list[Node]
    outputs: list[str]
    #: user-facing names that are not nodes (a block placement ``res``) -> the node
    #: whose output they stand for
    aliases: dict[str, str] = field(default_factory=dict)

    @classmethod
    def chain(
        cls, names: list[str], input_shape: Shape, entries: list[Any] | None = None
    ) -> GraphPlan:
        """The plan of a sequential model: each layer takes the previous one's output."""
        entries = entries or [None] * len(names)
        nodes = []
        previous = DEFAULT_INPUT
        for index, (name, entry) in enumerate(zip(names, entries)):
            nodes.append(Node(name, name, entry, [previous], f"layers[{index}]"))
            previous = name
        return cls({DEFAULT_INPUT: tuple(input_shape)}, nodes, [names[-1]])

    @property
    def is_chain(self) -> bool:
        """One input, one output, each node taking the previous one's output, none shared."""
        previous = next(iter(self.inputs)) if len(self.inputs) == 1 else None
        for node in self.nodes:
            if node.shares or node.inputs != [previous]:
                return False
            previous = node.name
        return len(self.outputs) == 1 and self.outputs[0] == previous

    def owners(self) -> list[str]:
        """Names of the nodes that own a layer, in order."""
        return [node.name for node in self.nodes if not node.shares]

    def resolve(self, name: str) -> str:
        """The node a user-facing name stands for."""
        return self.aliases.get(name, name)
