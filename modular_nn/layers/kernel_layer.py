"""What layers with a kernel, an optional bias and an output activation share (dense, conv2d)."""

from __future__ import annotations

import numpy as np

from modular_nn.layers.activated import ActivatedLayer
from modular_nn.registry import get_registry


class KernelLayer(ActivatedLayer):
    """A layer computing act(linear(x)): kernel and bias parameters, then an activation.

    Its ``Config`` has ``activation``, ``use_bias``, ``kernel_initializer`` and
    ``bias_initializer``; subclasses give ``param_shapes`` (with ``kernel`` and,
    when ``use_bias``, ``bias``) and the linear part of forward/backward, calling
    ``activate`` and ``activation_grad`` around it.
    """

    def add_kernel_and_bias(self, rng: np.random.Generator) -> None:
        """Draw ``kernel`` (and ``bias``) with the configured initializers."""
        registry = get_registry()
        shapes = self.param_shapes(self.input_shape)  # type: ignore[arg-type]
        for name in ("kernel", "bias"):
            if name in shapes:
                init = registry.create("initializers", getattr(self.config, f"{name}_initializer"))
                self.add_param(name, init(shapes[name], rng, self.dtype))
