"""How the conformance kit tries a component: its options and a small input.

A component declares its own example with class attributes (plugin authors:
this is the place)::

    class Highway(mnn.Layer):
        type_name = "extras.highway"
        example_input_shape = (6,)              # one sample, without the batch axis
        example_options = {"activation": "tanh"}  # values for required options, if any
        example_input_range = (-2.0, 2.0)       # optional: inputs uniform in [low, high)

A layer that takes several inputs (``input_count``, see
``modular_nn.components.layer``) gives a list of shapes, one per input, in
order; the kit then feeds it lists of arrays::

    class GatedSum(mnn.Layer):
        type_name = "extras.gated_sum"
        input_count = (2, 2)
        example_input_shape = [(5,), (5,)]

For losses ``example_input_shape`` is the shape of one sample's prediction.
Layers that take integer inputs (``accepts_integer_input``) draw integers in
``example_input_range``. Without attributes, the built-ins come from
``BUILTIN_EXAMPLES`` below, and activations, losses, optimizers and
initializers fall back to a generic example. A layer with no example at all
fails the kit, so a new layer cannot skip it silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from modular_nn.components.layer import Shape
from modular_nn.registry import ComponentInfo


@dataclass(frozen=True)
class Example:
    """Options and input used to try one component.

    ``input_shape`` is one sample's shape, or for a layer that takes several
    inputs a list of them, one per input (``as_input_shape`` tells them apart).
    """

    options: dict[str, Any] = field(default_factory=dict)
    input_shape: Shape | list[Shape] | None = None
    input_range: tuple[float, float] | None = None


def as_input_shape(value: Sequence[Any]) -> Shape | list[Shape]:
    """A shape as a tuple of ints, or a list of shapes (a sequence of sequences: one per
    input of a layer that takes several) as a list of such tuples."""
    if len(value) and all(isinstance(item, Sequence) for item in value):
        return [tuple(int(d) for d in item) for item in value]
    return tuple(value)


#: Per-kind fallback for components without an example (layers have none: they must say).
DEFAULT_EXAMPLES: dict[str, Example] = {
    "activations": Example(input_shape=(5,)),
    "losses": Example(input_shape=(3,)),
    "optimizers": Example(),
    "initializers": Example(),
}

_IMAGE = (6, 6, 2)
_SEQUENCE = (7, 3)

#: Examples of modular_nn's own components, by ``(kind, name)``. Add a line for each new one.
BUILTIN_EXAMPLES: dict[tuple[str, str], Example] = {
    ("layers", "dense"): Example({"units": 3, "activation": "tanh"}, (4,)),
    ("layers", "dropout"): Example({"rate": 0.5}, (6,)),
    ("layers", "batch_norm"): Example({}, (4,)),
    ("layers", "layer_norm"): Example({}, (5,)),
    ("layers", "activation"): Example({"activation": "tanh"}, (5,)),
    ("layers", "conv2d"): Example(
        {"filters": 3, "kernel_size": 3, "padding": "same", "activation": "tanh"}, _IMAGE
    ),
    ("layers", "max_pool2d"): Example({"pool_size": 2}, _IMAGE),
    ("layers", "avg_pool2d"): Example({"pool_size": 2}, _IMAGE),
    ("layers", "global_avg_pool2d"): Example({}, _IMAGE),
    ("layers", "global_max_pool2d"): Example({}, _IMAGE),
    ("layers", "conv1d"): Example(
        {"filters": 3, "kernel_size": 3, "padding": "causal", "activation": "tanh"}, _SEQUENCE
    ),
    ("layers", "max_pool1d"): Example({"pool_size": 2}, _SEQUENCE),
    ("layers", "avg_pool1d"): Example({"pool_size": 2}, _SEQUENCE),
    ("layers", "global_avg_pool1d"): Example({}, _SEQUENCE),
    ("layers", "global_max_pool1d"): Example({}, _SEQUENCE),
    ("layers", "flatten"): Example({}, (3, 2, 2)),
    ("layers", "reshape"): Example({"target_shape": [3, -1]}, (6,)),
    ("layers", "embedding"): Example({"input_dim": 7, "output_dim": 3}, (5,), (0, 7)),
    ("layers", "add"): Example({}, [(4,), (4,), (4,)]),
    ("layers", "subtract"): Example({}, [(4,), (4,)]),
    ("layers", "multiply"): Example({}, [(4,), (4,), (4,)]),
    ("layers", "average"): Example({}, [(4,), (4,), (4,)]),
    ("layers", "maximum"): Example({}, [(4,), (4,), (4,)]),
    ("layers", "minimum"): Example({}, [(4,), (4,), (4,)]),
    ("layers", "concatenate"): Example({"axis": -1}, [(3, 2), (3, 4)]),
    ("layers", "simple_rnn"): Example({"units": 3, "return_sequences": True}, (5, 4)),
    ("layers", "lstm"): Example({"units": 3}, (5, 4)),
    ("layers", "gru"): Example({"units": 4, "return_sequences": True}, (4, 3)),
    ("layers", "bidirectional"): Example(
        {"layer": {"type": "lstm", "units": 3, "return_sequences": True}}, (5, 4)
    ),
    # no biases: dL/d(key_bias) is 0 exactly, which a relative finite-difference check
    # cannot confirm (tests/layers/test_multi_head_attention.py checks it on its own)
    ("layers", "multi_head_attention"): Example(
        {"num_heads": 2, "key_dim": 3, "value_dim": 2, "use_bias": False}, [(4, 5), (3, 6), (3, 2)]
    ),
    ("layers", "positional_embedding"): Example({"max_length": 6}, (4, 3)),
    ("layers", "normalization"): Example(
        {
            "axis": [1, -1],
            "mean": [0.5, -1.0, 0.0, 2.0, 1.0, -0.5],
            "variance": [4.0, 0.25, 1.0, 2.0, 0.5, 9.0],
        },
        (3, 2),
    ),
    ("layers", "rescaling"): Example({"scale": [0.5, -2.0], "offset": 1.0}, (3, 2)),
}


def example_for(info: ComponentInfo) -> Example | None:
    """The example for a registered component, or None when a layer has none."""
    cls = info.cls
    shape = getattr(cls, "example_input_shape", None)
    options = getattr(cls, "example_options", None)
    value_range = getattr(cls, "example_input_range", None)
    if shape is not None or options is not None or value_range is not None:
        fallback = DEFAULT_EXAMPLES.get(info.kind, Example())
        return Example(
            dict(options or {}),
            as_input_shape(shape) if shape is not None else fallback.input_shape,
            tuple(value_range) if value_range is not None else None,  # type: ignore[arg-type]
        )
    builtin = BUILTIN_EXAMPLES.get((info.kind, info.name))
    if builtin is not None:
        return builtin
    return DEFAULT_EXAMPLES.get(info.kind)
