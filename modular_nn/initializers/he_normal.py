"""He (Kaiming) normal initializer."""

from __future__ import annotations

import numpy as np

from modular_nn.components.initializer import Initializer, compute_fans


class HeNormal(Initializer):
    """Normal with mean 0 and stddev sqrt(2 / fan_in), as the seed notebook draws its weights.

    He et al., 2015, "Delving Deep into Rectifiers". (Keras truncates the
    distribution; we keep the seed's plain normal.)
    """

    type_name = "he_normal"

    def sample(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        fan_in, _ = compute_fans(shape)
        return rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)
