"""Checks a model runs on its first training step: does each layer keep its promises?

A third-party layer whose forward output disagrees with ``compute_output_shape``,
whose backward returns a gradient of the wrong shape, or that replaces its
``grads`` arrays (which the optimizer holds) instead of writing into them,
would otherwise fail later with an error naming some other layer, or silently
stop learning. These checks name the layer and both shapes instead.
"""

from __future__ import annotations

import numpy as np

from modular_nn.components.layer import Layer
from modular_nn.errors import ShapeError, TrainingError


def _label(layer: Layer) -> str:
    return f"layer {layer.name!r} ({layer.type_name or type(layer).__name__})"


def check_forward_output(layer: Layer, out: np.ndarray, batch: int) -> None:
    """``out`` must have the shape ``build`` promised, for a batch of ``batch``."""
    expected = (batch, *(layer.output_shape or ()))
    if tuple(np.shape(out)) != expected:
        raise ShapeError(
            f"{_label(layer)}: forward returned shape {tuple(np.shape(out))}, but "
            f"compute_output_shape promised {expected}; the layer's shapes disagree"
        )


def check_backward_output(
    layer: Layer, grad_in: np.ndarray | None, batch: int, grads: dict[str, np.ndarray]
) -> None:
    """``grad_in`` must match the layer's input shape; ``grads`` (the model's view of
    this layer's gradient arrays, by parameter name) must still be the arrays it holds."""
    if layer.takes_several_inputs() and grad_in is not None:
        shapes = list(layer.input_shape or [])  # type: ignore[arg-type]
        if not isinstance(grad_in, (list, tuple)) or len(grad_in) != len(shapes):
            raise ShapeError(
                f"{_label(layer)}: backward returned {type(grad_in).__name__}, expected a list "
                f"of {len(shapes)} gradients, one per input"
            )
        for index, (part, shape) in enumerate(zip(grad_in, shapes)):
            if tuple(np.shape(part)) != (batch, *shape):
                raise ShapeError(
                    f"{_label(layer)}: backward returned a gradient of shape "
                    f"{tuple(np.shape(part))} for input {index}, expected {(batch, *shape)}"
                )
        grad_in = None  # checked; the parameter gradients are checked below
        expected: tuple[int, ...] = ()
    else:
        expected = (batch, *(layer.input_shape or ()))  # type: ignore[arg-type]
    if grad_in is None and not layer.takes_several_inputs():
        if layer.needs_input_grad:
            raise ShapeError(
                f"{_label(layer)}: backward returned None, expected the input gradient of "
                f"shape {expected}"
            )
    elif grad_in is not None and tuple(np.shape(grad_in)) != expected:
        raise ShapeError(
            f"{_label(layer)}: backward returned a gradient of shape "
            f"{tuple(np.shape(grad_in))}, expected the shape of its input {expected}"
        )
    for key, held in grads.items():
        if layer.grads.get(key) is not held:
            raise TrainingError(
                f"{_label(layer)}: backward replaced grads[{key!r}] with a new array; write "
                f"into the existing one (np.matmul(..., out=self.grads[{key!r}]) or "
                f"self.grads[{key!r}][...] = ...), the optimizer updates from it"
            )
