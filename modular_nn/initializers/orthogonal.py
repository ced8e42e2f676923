"""Orthogonal initializer."""

from __future__ import annotations

import math

import numpy as np
from pydantic import Field

from modular_nn.components.component import ComponentConfig
from modular_nn.components.initializer import Initializer


class Orthogonal(Initializer):
    """A (semi-)orthogonal matrix times ``gain`` (Saxe et al., 2014), as Keras and PyTorch.

    The weight is viewed as a matrix ``(prod(shape[:-1]), shape[-1])``: a
    standard normal matrix is QR-factorized and Q, with its columns' signs
    fixed by diag(R) (so Q is uniformly distributed), gives orthonormal columns
    (or rows, when there are more columns than rows).

    Args:
        gain: multiplier of the orthogonal matrix (default 1.0).
    """

    type_name = "orthogonal"

    class Config(ComponentConfig):
        gain: float = Field(1.0, allow_inf_nan=False, description="multiplier")

    def sample(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        if len(shape) < 2:
            rows, cols = 1, (shape[0] if shape else 1)
        else:
            rows, cols = math.prod(shape[:-1]), shape[-1]
        a = rng.standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return self.config.gain * q.reshape(shape)
