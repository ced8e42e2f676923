"""Glorot (Xavier) uniform initializer."""

from __future__ import annotations

import numpy as np

from modular_nn.components.initializer import Initializer, compute_fans


class GlorotUniform(Initializer):
    """Uniform on [-limit, limit], limit = sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""

    type_name = "glorot_uniform"

    def sample(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        fan_in, fan_out = compute_fans(shape)
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, size=shape)
