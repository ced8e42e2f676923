"""Runs a ``GraphPlan``: builds its layers, then forward and backward in topological order.

Values live in numbered slots. Forward runs the nodes in order and drops a
slot once its last consumer has run, so a chain holds no more than it did as a
list of layers. Backward runs the nodes that need it in reverse order; where a
value fans out to several consumers, their gradients are summed (into a new
array: a layer may hand back the array it received, or the same array for two
inputs). Gradients are only routed to values whose producer needs them.

A layer applied at several places (``shares``) keeps its forward state per use:
the first use is the layer itself and each further use a *clone* that holds the
very same parameter and buffer arrays but its own gradient arrays and its own
forward state. After backward, the clones' gradients are added into the layer's,
so the optimizer sees the sum over every use.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np

from modular_nn.components.layer import Layer, Shape
from modular_nn.graph.plan import GraphPlan


def clone_for_reuse(layer: Layer) -> Layer:
    """A copy of a built layer sharing its parameter and buffer arrays and its random
    generator, with gradient arrays of its own."""
    memo: dict[int, object] = {id(array): array for array in layer.params.values()}
    memo.update({id(array): array for array in layer.buffers.values()})
    if layer.rng is not None:
        memo[id(layer.rng)] = layer.rng
    clone = copy.deepcopy(layer, memo)
    for array in clone.grads.values():
        array[...] = 0
    return clone


@dataclass
class Step:
    """One node ready to run: its layer object (a clone for a further use) and slots."""

    name: str
    layer: Layer
    inputs: list[int]
    output: int
    several: bool
    #: slots no later node reads, dropped after this one runs (forward)
    release: list[int]
    #: does backward run here (the layer or something before it is trainable)?
    backward: bool = True
    #: does something before it need the gradient of its inputs?
    input_grad: bool = True
    #: does one of its inputs carry a mask (padded steps)? does its output?
    mask_in: bool = False
    mask_out: bool = False


class GraphEngine:
    """The executable form of a plan over built layers."""

    def __init__(self, plan: GraphPlan, layers: dict[str, Layer]) -> None:
        self.plan = plan
        #: the layer of each owning node, by node name, in order
        self.layers = layers
        self.input_names = list(plan.inputs)
        slot = {name: i for i, name in enumerate(self.input_names)}
        for index, node in enumerate(plan.nodes):
            slot[node.name] = len(self.input_names) + index
        self.slots = len(slot)
        self.output_slots = [slot[name] for name in plan.outputs]
        self._slot = slot
        self.steps: list[Step] = []
        self.clones: dict[str, list[Layer]] = {}
        #: does any value carry a mask? the masks of the outputs of the last forward
        self.masked = False
        self.output_masks: list[np.ndarray | None] | None = None

    # ----- building ------------------------------------------------------------------
    def build(self, rng: np.random.Generator, dtype: np.dtype) -> dict[str, Shape]:
        """Build every layer (in node order, so weights are drawn as in a list of layers)
        and make a clone for each further use; return every value's shape."""
        shapes: dict[str, Shape] = dict(self.plan.inputs)
        for node in self.plan.nodes:
            owner = self.layers[node.owner]
            given = [shapes[value] for value in node.inputs]
            several = owner.takes_several_inputs()
            if node.shares:
                layer = clone_for_reuse(owner)
                self.clones.setdefault(node.owner, []).append(layer)
                shapes[node.name] = owner.output_shape  # type: ignore[assignment]
            else:
                layer = owner
                shapes[node.name] = owner.build(given if several else given[0], rng, dtype)
            self.steps.append(
                Step(node.name, layer, [self._slot[v] for v in node.inputs],
                     self._slot[node.name], several, [])
            )  # fmt: skip
        self._plan_release()
        self._plan_masks(shapes)
        self.plan_backward()
        return shapes

    def _plan_masks(self, shapes: dict[str, Shape]) -> None:
        """Which steps receive and give masks (``Layer.produces_mask``)."""
        masked: set[int] = set()
        for node, step in zip(self.plan.nodes, self.steps):
            flags = [slot in masked for slot in step.inputs]
            step.mask_in = any(flags)
            given = [shapes[value] for value in node.inputs]
            step.mask_out = step.layer.produces_mask(
                given if step.several else given[0], flags if step.several else flags[0]
            )
            if step.mask_out:
                masked.add(step.output)
        self.masked = bool(masked)

    def _plan_release(self) -> None:
        last_use: dict[int, int] = {}
        for index, step in enumerate(self.steps):
            for slot in step.inputs:
                last_use[slot] = index
        keep = set(self.output_slots)
        for slot, index in last_use.items():
            if slot not in keep:
                self.steps[index].release.append(slot)

    def plan_backward(self, input_grad: bool = False) -> None:
        """Mark which nodes run backward and which need their inputs' gradients.

        A node runs backward when its layer or any node before it has parameters;
        it needs its inputs' gradients when a node before it does (or, with
        ``input_grad``, always: the gradient of the model's inputs is wanted).
        """
        trainable_before: dict[int, bool] = {slot: input_grad for slot in range(self.slots)}
        for step in self.steps:
            upstream = any(trainable_before[slot] for slot in step.inputs)
            step.input_grad = upstream
            step.backward = upstream or bool(step.layer.params)
            step.layer.needs_input_grad = upstream
            trainable_before[step.output] = step.backward

    # ----- running -------------------------------------------------------------------
    def forward(
        self, xs: list[np.ndarray], training: bool, observe: Any = None
    ) -> list[np.ndarray]:
        """The outputs for one batch of every input (in input order).

        ``observe(step, output)``, when given, is called after each node (the first
        training step's checks, diagnostics); masks are set and carried along.
        """
        if observe is not None or self.masked:
            return self._forward_observed(xs, training, observe)
        values: list[np.ndarray | None] = [None] * self.slots
        values[: len(xs)] = xs
        for step in self.steps:
            if step.several:
                out = step.layer.forward([values[s] for s in step.inputs], training)
            else:
                out = step.layer.forward(values[step.inputs[0]], training)
            values[step.output] = out
            for slot in step.release:
                values[slot] = None
        return [values[slot] for slot in self.output_slots]  # type: ignore[misc]

    def _forward_observed(
        self, xs: list[np.ndarray], training: bool, observe: Any
    ) -> list[np.ndarray]:
        values: list[Any] = [None] * self.slots
        masks: list[Any] = [None] * self.slots
        values[: len(xs)] = xs
        for step in self.steps:
            given = [values[s] for s in step.inputs]
            layer = step.layer
            if step.mask_in:
                given_masks = [masks[s] for s in step.inputs]
                layer.input_mask = given_masks if step.several else given_masks[0]
            out = layer.forward(given if step.several else given[0], training)
            if step.mask_out:
                masks[step.output] = layer.compute_mask(
                    given if step.several else given[0], layer.input_mask
                )
            if observe is not None:
                observe(step, out)
            values[step.output] = out
            for slot in step.release:
                values[slot] = masks[slot] = None
        self.output_masks = [masks[s] for s in self.output_slots] if self.masked else None
        return [values[slot] for slot in self.output_slots]

    def adapt(self, batches: Any) -> int:
        """Adapt every layer that needs it (``Layer.needs_adapting``) to the inputs it
        receives, in order: for each, ``batches()`` is streamed once through the steps
        before it in inference mode. Returns how many layers were adapted."""
        adapted = 0
        for index, step in enumerate(self.steps):
            if step.layer.needs_adapting():
                for xs in batches():
                    values: list[Any] = [None] * self.slots
                    values[: len(xs)] = xs
                    for before in self.steps[:index]:
                        given = [values[s] for s in before.inputs]
                        values[before.output] = before.layer.forward(
                            given if before.several else given[0], False
                        )
                    given = [values[s] for s in step.inputs]
                    step.layer.adapt_update(given if step.several else given[0])
                step.layer.adapt_finish()
                adapted += 1
        return adapted

    def backward(
        self, output_grads: list[np.ndarray | None], check: object = None
    ) -> list[np.ndarray | None]:
        """Back-propagate dL/d(output) of each output; fills every layer's ``grads`` (shared
        layers: summed over their uses). Returns dL/d(input) per input where it was
        planned (``plan_backward(input_grad=True)``), else Nones.

        ``check(step, grad_in)``, when given, is called after each node's backward.
        """
        grads: list[np.ndarray | None] = [None] * self.slots
        for slot, grad in zip(self.output_slots, output_grads):
            if grad is not None:
                _accumulate(grads, slot, grad)
        for step in reversed(self.steps):
            if not step.backward:
                continue
            grad = grads[step.output]
            grads[step.output] = None
            if grad is None:
                continue  # nothing after it carries a gradient (an output without loss)
            grad_in = step.layer.backward(grad)
            if check is not None:
                check(step, grad_in)  # type: ignore[operator]
            if not step.input_grad:
                continue
            if step.several:
                for slot, part in zip(step.inputs, grad_in):
                    _accumulate(grads, slot, part)
            else:
                _accumulate(grads, step.inputs[0], grad_in)
        self._sum_shared_grads()
        return grads[: len(self.input_names)]

    def _sum_shared_grads(self) -> None:
        for owner, clones in self.clones.items():
            layer = self.layers[owner]
            for clone in clones:
                for key, grad in layer.grads.items():
                    grad += clone.grads[key]


def _accumulate(grads: list[np.ndarray | None], slot: int, grad: np.ndarray) -> None:
    held = grads[slot]
    grads[slot] = grad if held is None else held + grad
