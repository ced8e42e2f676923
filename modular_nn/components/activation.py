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

        Layers call it (through ``apply(x, overwrite=True)``) on an array of their
        own that nothing else reads afterwards, such as a matrix product just
        computed; computing in place saves an array per call. The default is
        ``forward(x)``; ``relu`` overrides it.
        """
        return self.forward(x)

    def apply(self, x: np.ndarray, overwrite: bool = False) -> np.ndarray:
        """Forward as layers use it: also keeps the logits when fused with the loss.

        ``overwrite``: ``x`` is the caller's scratch array, which the activation may
        overwrite (``forward_in_place``); never when fused, since the loss reads the logits.
        """
        if self.fused:
            self.logits = x
            return self.forward(x)
        return self.forward_in_place(x) if overwrite else self.forward(x)

    def apply_backward(self, grad_out: np.ndarray) -> np.ndarray:
        """Backward as layers use it: the identity when fused with the loss."""
        if self.fused:
            return grad_out
        return self.backward(grad_out)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(np.asarray(x))
