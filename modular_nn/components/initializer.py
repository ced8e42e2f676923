"""The base class of weight initializers.

An initializer maps a shape to a new array drawn from the model's generator.
Fans follow Keras: a 2-D ``(in, out)`` kernel has ``fan_in=in, fan_out=out``;
a conv kernel ``(kh, kw, in, out)`` multiplies both by ``kh * kw``.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from modular_nn.components.component import Component, ComponentConfig


def compute_fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of ``shape``."""
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer(Component):
    """Base class for initializers; register subclasses through ``register_initializers``."""

    type_name: ClassVar[str] = ""
    Config: ClassVar[type[ComponentConfig]] = ComponentConfig

    def __call__(  # type: ignore[override]
        self, shape: tuple[int, ...], rng: np.random.Generator, dtype: np.dtype | type = np.float32
    ) -> np.ndarray:
        """A new array of ``shape`` and ``dtype``."""
        return np.asarray(self.sample(tuple(shape), rng), dtype=dtype)

    def sample(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        """Draw the values (any float dtype; ``__call__`` casts)."""
        raise NotImplementedError
