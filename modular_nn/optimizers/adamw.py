"""AdamW optimizer: Adam with decoupled weight decay."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from modular_nn.optimizers.adam import Adam


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter, 2019): Adam with weight decay decoupled from the gradient.

    p *= 1 - lr * weight_decay, then the Adam step (see ``adam``) on the raw
    gradient, as PyTorch's ``AdamW`` and Keras's ``AdamW`` do: the decay is not
    scaled by the adaptive denominator, unlike an L2 term added to the gradient.

    Args:
        learning_rate: 0.001.  beta_1: 0.9.  beta_2: 0.999.
        epsilon: 1e-7 (Keras's default; PyTorch uses 1e-8).
        weight_decay: decoupled decay coefficient, >= 0 (0.004, Keras's default;
            PyTorch's is 0.01).

    State: ``m`` and ``v`` per parameter, as ``adam``.
    """

    type_name = "adamw"

    class Config(Adam.Config):
        weight_decay: float = Field(
            0.004, ge=0, description="decoupled weight decay: p *= 1 - lr * weight_decay"
        )

    def update(
        self, param: np.ndarray, grad: np.ndarray, slots: dict[str, np.ndarray], lr: float
    ) -> None:
        # decoupled decay first (on the parameter), then Adam on the unmodified gradient
        if self.config.weight_decay:
            param *= 1 - lr * self.config.weight_decay
        self.adam_step(param, grad, slots, lr)
