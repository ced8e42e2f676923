"""Glorot (Xavier) normal initializer."""

from __future__ import annotations

import numpy as np

from modular_nn.components.initializer import Initializer, compute_fans


class GlorotNormal(Initializer):
    """Normal with mean 0 and stddev sqrt(2 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""

    type_name = "glorot_normal"

    def sample(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        fan_in, fan_out = compute_fans(shape)
        return rng.standard_normal(shape) * np.sqrt(2.0 / (fan_in + fan_out))
