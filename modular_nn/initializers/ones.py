"""Ones initializer."""

from __future__ import annotations

import numpy as np

from modular_nn.components.initializer import Initializer


class Ones(Initializer):
    """All ones (the default for normalization scales)."""

    type_name = "ones"

    def sample(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        return np.ones(shape)
