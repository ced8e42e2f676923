"""Zeros initializer."""

from __future__ import annotations

import numpy as np

from modular_nn.components.initializer import Initializer


class Zeros(Initializer):
    """All zeros (the default for biases)."""

    type_name = "zeros"

    def sample(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        return np.zeros(shape)
