"""The base class of activations.

An activation is an elementwise (or, for softmax, per-row) function with its
derivative. ``forward`` keeps what ``backward`` needs (usually its own output),
so the derivative is computed from stored values, never recomputed from
scratch.

Layers call ``apply``/``apply_backward``. When the model fuses this activation
with the loss (sigmoid + binary cross-entropy, softmax + categorical
cross-entropy) it sets ``fused``: ``apply`` then also keeps the logits and
``apply_backward`` passes the loss's gradient, already taken with respect to
the logits, straight through.
"""

from __future__ import annotations

from functools import cache
from typing import ClassVar

import numpy as np

from modular_nn.components.component import Component, ComponentConfig


class Activation(Component):
    """Base class for activations; register subclasses through ``register_activations``."""

    type_name: ClassVar[str] = ""
    Config: ClassVar[type[ComponentConfig]] = ComponentConfig
    #: True when ``forward(x)`` is ``x`` itself (layers skip it entirely).
    is_identity: ClassVar[bool] = False

    def __init__(self, config: ComponentConfig | None = None, **options: object) -> None:
        super().__init__(config, **options)
        self.fused = False
        self.logits: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Return f(x), keeping what ``backward`` needs."""
        raise NotImplementedError

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """Return dL/dx = dL/df * f'(x), from what ``forward`` kept."""
        raise NotImplementedError

    def forward_in_place(self, x: np.ndarray) -> np.ndarray:
        """``forward(x)``, free to compute into ``x`` itself and return it.

        Layers call it (through ``apply_owned``) on an array of their own that
        nothing else reads afterwards, such as a matrix product just computed;
        computing in place saves an array per call. The default is ``forward(x)``;
        ``relu`` overrides it.
        """
        return self.forward(x)

    def apply(self, x: np.ndarray) -> np.ndarray:
        """Forward as layers use it: also keeps the logits when fused with the loss."""
        if self.fused:
            self.logits = x
        return self.forward(x)

    def apply_owned(self, x: np.ndarray) -> np.ndarray:
        """``apply(x)`` for an ``x`` the calling layer owns and reads no more, which the
        activation may compute into (``forward_in_place``).

        In place only when nothing else must see ``x``: not when fused (the loss
        reads the logits), and not when a subclass overrides ``apply``, or
        ``forward`` below the class defining ``forward_in_place`` (a ``relu``
        subclass with a forward of its own must not get ``relu``'s in-place forward).
        """
        if self.fused or not _in_place_is_forward(type(self)):
            return self.apply(x)
        return self.forward_in_place(x)

    def apply_backward(self, grad_out: np.ndarray) -> np.ndarray:
        """Backward as layers use it: the identity when fused with the loss."""
        if self.fused:
            return grad_out
        return self.backward(grad_out)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(np.asarray(x))


@cache
def _in_place_is_forward(cls: type) -> bool:
    """Whether ``cls.forward_in_place`` may stand for ``cls.apply``: ``apply`` is the base
    one and ``forward_in_place`` is defined in (a subclass of) the class defining
    ``forward``."""

    def definer(name: str) -> type:
        return next(k for k in cls.__mro__ if name in vars(k))

    return definer("apply") is Activation and issubclass(
        definer("forward_in_place"), definer("forward")
    )
