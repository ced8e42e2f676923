"""Lion optimizer: the sign of an interpolated momentum."""

from __future__ import annotations

import numpy as np
from pydantic import Field

import modular_nn as mnn


class Lion(mnn.Optimizer):
    """Lion, "EvoLved Sign Momentum" (Chen et al., 2023, "Symbolic Discovery of
    Optimization Algorithms").

    c = beta_1 m + (1 - beta_1) g;  p -= lr * (sign(c) + weight_decay * p);
    m = beta_2 m + (1 - beta_2) g.

    Every coordinate moves by exactly lr per step (plus decay), so Lion wants a
    learning rate 3-10x smaller than Adam's.

    Args:
        learning_rate: 1e-4.  beta_1: 0.9.  beta_2: 0.99.
        weight_decay: decoupled decay coefficient (0).

    State: ``m`` per parameter.
    """

    type_name = "extras.lion"

    class Config(mnn.OptimizerConfig):
        learning_rate: float = Field(1e-4, gt=0, description="step size")
        beta_1: float = Field(0.9, ge=0, le=1, description="interpolation weight of the update")
        beta_2: float = Field(0.99, ge=0, le=1, description="decay of the momentum")
        weight_decay: float = Field(0.0, ge=0, description="decoupled weight decay")

    def init_slots(self, param: np.ndarray) -> dict[str, np.ndarray]:
        return {"m": np.zeros_like(param)}

    def update(
        self, param: np.ndarray, grad: np.ndarray, slots: dict[str, np.ndarray], lr: float
    ) -> None:
        c = self.config
        m = slots["m"]
        direction = np.sign(c.beta_1 * m + (1 - c.beta_1) * grad)
        if c.weight_decay:
            direction += c.weight_decay * param
        param -= lr * direction
        m *= c.beta_2
        m += (1 - c.beta_2) * grad
