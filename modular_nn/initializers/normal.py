"""Normal (Gaussian) initializer."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from modular_nn.components.component import ComponentConfig
from modular_nn.components.initializer import Initializer


class Normal(Initializer):
    """Normal with the given mean and stddev.

    Args:
        mean: mean of the distribution (default 0).
        stddev: standard deviation, > 0 (default 0.05, as Keras's RandomNormal).
    """

    type_name = "normal"

    class Config(ComponentConfig):
        mean: float = Field(0.0, allow_inf_nan=False)
        stddev: float = Field(0.05, gt=0, allow_inf_nan=False)

    def sample(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        return rng.normal(self.config.mean, self.config.stddev, size=shape)
