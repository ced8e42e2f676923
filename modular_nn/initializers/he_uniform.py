"""He (Kaiming) uniform initializer."""

from __future__ import annotations

import numpy as np

from modular_nn.components.initializer import Initializer, compute_fans


class HeUniform(Initializer):
    """Uniform on [-limit, limit] with limit = sqrt(6 / fan_in) (He et al., 2015)."""

    type_name = "he_uniform"

    def sample(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        fan_in, _ = compute_fans(shape)
        limit = np.sqrt(6.0 / fan_in)
        return rng.uniform(-limit, limit, size=shape)
