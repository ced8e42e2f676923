"""Constant initializer."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from modular_nn.components.component import ComponentConfig
from modular_nn.components.initializer import Initializer


class Constant(Initializer):
    """Every element equal to ``value`` (Keras ``Constant``).

    Args:
        value: the fill value (default 0).
    """

    type_name = "constant"

    class Config(ComponentConfig):
        value: float = Field(0.0, allow_inf_nan=False, description="the fill value")

    def sample(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        return np.full(shape, self.config.value)
