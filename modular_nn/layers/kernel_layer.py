"""What layers with a kernel, an optional bias and an output activation share (``conv2d``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from modular_nn.components.activation import Activation
from modular_nn.components.component import ComponentConfig
from modular_nn.components.layer import Layer


class KernelLayer(Layer):
    """A layer computing act(linear(x)): kernel and bias parameters, then an activation.

    Its ``Config`` has ``activation``, ``use_bias``, ``kernel_initializer`` and
    ``bias_initializer``; subclasses give ``param_shapes`` (with ``kernel`` and,
    when ``use_bias``, ``bias``) and the linear part of forward/backward, calling
    ``activate`` and ``activation_grad`` around it.
    """

    def __init__(self, config: ComponentConfig | None = None, **options: Any) -> None:
        super().__init__(config, **options)
        from modular_nn.registry import get_registry

        self.activation: Activation = get_registry().create("activations", self.config.activation)

    @property
    def output_activation(self) -> Activation | None:
        return self.activation

    def add_kernel_and_bias(self, rng: np.random.Generator) -> None:
        """Draw ``kernel`` (and ``bias``) with the configured initializers."""
        from modular_nn.registry import get_registry

        registry = get_registry()
        shapes = self.param_shapes(self.input_shape)  # type: ignore[arg-type]
        for name in ("kernel", "bias"):
            if name in shapes:
                init = registry.create("initializers", getattr(self.config, f"{name}_initializer"))
                self.add_param(name, init(shapes[name], rng, self.dtype))

    def activate(self, z: np.ndarray) -> np.ndarray:
        """The activation of the linear output ``z`` (skipped when it is the identity)."""
        return z if self.activation.is_identity else self.activation.apply(z)

    def activation_grad(self, grad_out: np.ndarray) -> np.ndarray:
        """dL/dz from dL/d(output), through the activation."""
        if self.activation.is_identity:
            return grad_out
        return self.activation.apply_backward(grad_out)
