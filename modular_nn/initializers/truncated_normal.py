"""Truncated normal initializer."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from modular_nn.components.component import ComponentConfig
from modular_nn.components.initializer import Initializer


def sample_truncated_normal(
    rng: np.random.Generator, shape: tuple[int, ...], mean: float, stddev: float
) -> np.ndarray:
    """Normal(mean, stddev) draws, redrawing any beyond 2 stddev until none is.

    Each round redraws only the rejected values (about 4.6% of the previous
    round), so the loop runs over rounds, a handful, not over elements.
    """
    values = rng.standard_normal(shape)
    flat = values.reshape(-1)
    bad = np.flatnonzero(np.abs(flat) > 2)
    while bad.size:
        flat[bad] = rng.standard_normal(bad.size)
        bad = bad[np.abs(flat[bad]) > 2]
    return mean + stddev * values


class TruncatedNormal(Initializer):
    """Normal with the given mean and stddev, truncated at 2 stddev (Keras ``TruncatedNormal``).

    Values beyond mean ± 2 stddev are redrawn, so the actual standard deviation
    is about 0.88 stddev.

    Args:
        mean: mean of the distribution (default 0).
        stddev: standard deviation before truncation, > 0 (default 0.05, as Keras).
    """

    type_name = "truncated_normal"

    class Config(ComponentConfig):
        mean: float = Field(0.0, allow_inf_nan=False)
        stddev: float = Field(0.05, gt=0, allow_inf_nan=False)

    def sample(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        return sample_truncated_normal(rng, shape, self.config.mean, self.config.stddev)
