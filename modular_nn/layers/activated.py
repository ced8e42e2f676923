"""What layers ending in a configured activation share (``activation``, ``dense``, ``conv2d``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from modular_nn.components.activation import Activation
from modular_nn.components.component import ComponentConfig
from modular_nn.components.layer import Layer
from modular_nn.registry import get_registry


class ActivatedLayer(Layer):
    """A layer whose ``Config.activation`` names the activation it applies last.

    The activation is instantiated once from the registry; the model may fuse
    it with the loss (``output_activation``). ``activate``/``activation_grad``
    apply it and its derivative, skipping the identity.
    """

    def __init__(self, config: ComponentConfig | None = None, **options: Any) -> None:
        super().__init__(config, **options)
        self.activation: Activation = get_registry().create("activations", self.config.activation)

    @property
    def output_activation(self) -> Activation | None:
        return self.activation

    def activate(self, z: np.ndarray) -> np.ndarray:
        """The activation of ``z`` (``z`` itself for the identity)."""
        return z if self.activation.is_identity else self.activation.apply(z)

    def activate_owned(self, z: np.ndarray) -> np.ndarray:
        """``activate(z)`` for a ``z`` this layer owns and reads no more (a product it
        just computed), which the activation may compute into; a subclass overriding
        ``activate`` keeps its own."""
        if type(self).activate is not ActivatedLayer.activate:
            return self.activate(z)
        return z if self.activation.is_identity else self.activation.apply_owned(z)

    def activation_grad(self, grad_out: np.ndarray) -> np.ndarray:
        """dL/dz from dL/d(output), through the activation: dL/dz = dL/dy * f'(z)."""
        if self.activation.is_identity:
            return grad_out
        return self.activation.apply_backward(grad_out)
