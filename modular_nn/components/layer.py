"""The base class of layers.

A layer knows its own shapes, forward and backward. Shapes exclude the batch
axis: a dense layer on ``(batch, 784)`` inputs has ``input_shape == (784,)``.

Lifecycle: ``compute_output_shape`` and ``param_shapes`` work on an unbuilt
layer (spec validation uses them, so nothing is allocated for a bad spec);
``build`` allocates parameters; ``forward(x, training)`` keeps what backward
needs; ``backward(grad_out)`` returns the gradient for the input and writes
parameter gradients into ``self.grads`` (same names and shapes as
``self.params``). A layer never updates its own parameters: the optimizer does.

Layers that take several inputs (merges such as ``add``, attention) set
``input_count`` to ``(minimum, maximum)`` (``maximum`` None for no limit) and then
receive lists in the order of their spec entry's ``inputs``:
``compute_output_shape([shape, ...])``, ``param_shapes([shape, ...])``,
``build([shape, ...], rng, dtype)``, ``forward([x, ...], training)``, and
``backward(grad_out)`` returns one gradient per input, in the same order.
Single-input layers (the default, ``(1, 1)``) are unchanged: one shape, one array.

Masks (Keras's semantics) mark the real steps of padded sequences: a boolean
array ``(batch, time)``, True where a step is real. A mask starts at a layer whose
``produces_mask`` says so (``embedding`` with ``mask_zero``) and flows with the
values through layers whose ``supports_masking`` is True. Before such a layer's
``forward`` the model sets ``self.input_mask`` (the mask of its input, None when
the input has none; a list for several inputs), and after it asks
``compute_mask(x, input_mask)`` for the output's mask (by default the input's, for a
layer that keeps the time axis). A layer that consumes the mask (recurrent layers
carrying their state over padded steps, attention ignoring padded keys, pooling over
real steps) reads ``self.input_mask`` in ``forward`` and keeps what ``backward``
needs, as for anything else. A spec that puts a masked value into a layer whose
``supports_masking`` is False is refused at validation, naming the layer.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from modular_nn.components.component import Component, ComponentConfig
from modular_nn.errors import ShapeError

if TYPE_CHECKING:
    from modular_nn.components.activation import Activation

Shape = tuple[int, ...]


class Layer(Component):
    """Base class for layers; subclass it and register it through ``register_layers``."""

    type_name: ClassVar[str] = ""
    Config: ClassVar[type[ComponentConfig]] = ComponentConfig
    #: True for layers that take integer inputs (embeddings): the model does not cast them.
    accepts_integer_input: ClassVar[bool] = False
    #: how many inputs the layer takes, ``(minimum, maximum)``; maximum None: no limit.
    #: Anything but ``(1, 1)`` makes the shape and array arguments lists (module docstring).
    input_count: ClassVar[tuple[int, int | None]] = (1, 1)

    def __init__(
        self, config: ComponentConfig | None = None, *, name: str | None = None, **options: Any
    ) -> None:
        super().__init__(config, **options)
        self.name: str | None = name
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}
        #: one shape, or a list of shapes for a layer that takes several inputs
        self.input_shape: Shape | list[Shape] | None = None
        self.output_shape: Shape | None = None
        self.dtype: np.dtype = np.dtype(np.float32)
        self.rng: np.random.Generator | None = None
        self.built = False
        #: False when nothing before this layer is trainable: backward may skip dL/dx.
        self.needs_input_grad = True
        #: the mask of the input of the current forward (layers that support masking)
        self.input_mask: Any = None

    #: Keras's ``supports_masking``: the layer accepts a masked input (module docstring);
    #: False refuses one at validation.
    supports_masking: ClassVar[bool] = False

    @classmethod
    def takes_several_inputs(cls) -> bool:
        """True when shapes and arrays come as lists (``input_count`` is not ``(1, 1)``)."""
        return tuple(cls.input_count) != (1, 1)

    # ----- shapes (no allocation) -------------------------------------------------
    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """The per-sample output shape for ``input_shape``; raise ``ShapeError`` if unfit."""
        return tuple(input_shape)

    def param_shapes(self, input_shape: Shape) -> dict[str, Shape]:
        """Shapes of the trainable parameters this layer would create for ``input_shape``."""
        return {}

    def param_count(self, input_shape: Shape) -> int:
        """Number of trainable scalars for ``input_shape``, computed without allocating."""
        return sum(math.prod(shape) for shape in self.param_shapes(input_shape).values())

    # ----- masks (padded sequences) ---------------------------------------------------
    def produces_mask(self, input_shape: Any, input_masked: Any) -> bool:
        """Whether the output carries a mask (validation time, nothing allocated), given
        whether the input does (a list of flags for several inputs). Default: the mask
        passes through a layer that supports masking (any input's, for several)."""
        if not self.supports_masking:
            return False
        return any(input_masked) if isinstance(input_masked, list) else bool(input_masked)

    def compute_mask(self, x: Any, input_mask: Any) -> np.ndarray | None:
        """The output's mask for this batch, given the input's (``produces_mask`` said
        there is one). Default: the input's mask; for several inputs the logical AND of
        those that have one, as Keras's merges do."""
        if not isinstance(input_mask, list):
            return input_mask
        masks = [m for m in input_mask if m is not None]
        if not masks:
            return None
        combined = masks[0]
        for other in masks[1:]:
            combined = combined & other
        return combined

    # ----- adapting to the data (preprocessing layers) ---------------------------------
    def needs_adapting(self) -> bool:
        """True when the layer learns statistics from the training data before training
        (``normalization`` with ``adapt``) and has not yet: ``fit`` then streams the
        training set once through the layers before it, calling ``adapt_update`` with
        this layer's input batch by batch, then ``adapt_finish``. Default: False."""
        return False

    def adapt_update(self, x: Any) -> None:
        """Take one batch of this layer's input into the statistics being adapted."""

    def adapt_finish(self) -> None:
        """The whole training set has been seen: fix the statistics, written into the
        layer's buffers in place (the model and its checkpoints hold those arrays)."""

    # ----- building --------------------------------------------------------------
    def build(self, input_shape: Shape, rng: np.random.Generator, dtype: Any) -> Shape:
        """Record shapes, dtype and the model's generator; subclasses then add parameters."""
        if self.takes_several_inputs():
            self.input_shape = [tuple(int(d) for d in shape) for shape in input_shape]  # type: ignore[assignment]
        else:
            self.input_shape = tuple(int(d) for d in input_shape)
        self.output_shape = self.compute_output_shape(self.input_shape)
        self.dtype = np.dtype(dtype)
        self.rng = rng
        self.built = True
        return self.output_shape

    def add_param(self, name: str, value: np.ndarray) -> np.ndarray:
        """Add a trainable parameter (cast to the layer's dtype) and its zeroed gradient."""
        value = np.ascontiguousarray(value, dtype=self.dtype)
        self.params[name] = value
        self.grads[name] = np.zeros_like(value)
        return value

    def add_buffer(self, name: str, value: np.ndarray) -> np.ndarray:
        """Add non-trainable state (running statistics), saved with the weights."""
        value = np.ascontiguousarray(value, dtype=self.dtype)
        self.buffers[name] = value
        return value

    # ----- computation -------------------------------------------------------------
    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Compute the output for a batch; keep what ``backward`` needs when training."""
        raise NotImplementedError

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """Given dL/d(output), fill ``self.grads`` and return dL/d(input)."""
        raise NotImplementedError

    # ----- helpers -----------------------------------------------------------------
    @property
    def output_activation(self) -> Activation | None:
        """The activation applied last by this layer, if any (used to fuse with the loss)."""
        return None

    def check_feature_axis(self, input_shape: Shape) -> None:
        """Raise ``ShapeError`` unless ``input_shape`` has a last (feature) axis to work on."""
        if len(input_shape) < 1:
            raise ShapeError(
                f"{self.type_name} expects inputs with a feature axis, "
                f"received input shape {tuple(input_shape)}"
            )

    def check_rank(self, input_shape: Shape, rank: int, what: str) -> None:
        """Raise ``ShapeError`` unless ``input_shape`` (per sample) has ``rank`` axes."""
        if len(input_shape) != rank:
            raise ShapeError(
                f"{self.type_name} expects {what} (per-sample rank {rank}), "
                f"received input shape {tuple(input_shape)}"
            )

    def __repr__(self) -> str:
        options = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        label = f"name={self.name!r}, " if self.name else ""
        return f"{type(self).__name__}({label}{options})"
