"""LeCun normal initializer."""

from __future__ import annotations

import math

import numpy as np

from modular_nn.components.initializer import Initializer, compute_fans
from modular_nn.initializers.truncated_normal import sample_truncated_normal

# standard deviation of a standard normal truncated to [-2, 2]
_TRUNCATED_STD = 0.87962566103423978


class LecunNormal(Initializer):
    """Truncated normal (at 2 stddev) with variance 1 / fan_in (LeCun et al., 1998), as Keras.

    The stddev before truncation is sqrt(1 / fan_in) / 0.8796..., so that the
    truncated values have variance 1 / fan_in. The usual pairing for ``selu``.
    """

    type_name = "lecun_normal"

    def sample(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        fan_in, _ = compute_fans(shape)
        return sample_truncated_normal(rng, shape, 0.0, math.sqrt(1.0 / fan_in) / _TRUNCATED_STD)
