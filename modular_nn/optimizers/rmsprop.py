"""RMSprop optimizer."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from modular_nn.components.optimizer import Optimizer, OptimizerConfig
from modular_nn.optimizers.penalty import with_l2


class RMSprop(Optimizer):
    """RMSprop (Hinton, 2012), in PyTorch's formulation.

    g = grad + weight_decay * p;  s = rho s + (1 - rho) g^2;
    centered: a = rho a + (1 - rho) g and s - a^2 replaces s below;
    d = sqrt(s) + epsilon;
    momentum > 0: b = momentum b + g / d, p -= lr b;  otherwise p -= lr g / d.

    (Keras adds epsilon inside the square root; we follow PyTorch, as ``adam`` does.)

    Args:
        learning_rate: 0.001.  rho: decay of the squared-gradient average (0.9;
            PyTorch calls it ``alpha`` and defaults to 0.99).
        momentum: 0.  epsilon: 1e-7 (Keras; PyTorch 1e-8).
        centered: normalize by the variance estimate s - a^2 instead of s (false).
        weight_decay: L2 penalty added to the gradient (0).

    State: ``square_avg`` per parameter, plus ``grad_avg`` when centered and
    ``momentum_buffer`` when momentum > 0.
    """

    type_name = "rmsprop"

    class Config(OptimizerConfig):
        learning_rate: float = Field(0.001, gt=0)
        rho: float = Field(0.9, ge=0, lt=1, description="decay of the squared-gradient average")
        momentum: float = Field(0.0, ge=0, lt=1)
        epsilon: float = Field(1e-7, gt=0)
        centered: bool = False
        weight_decay: float = Field(0.0, ge=0)

    def init_slots(self, param: np.ndarray) -> dict[str, np.ndarray]:
        slots = {"square_avg": np.zeros_like(param)}
        if self.config.centered:
            slots["grad_avg"] = np.zeros_like(param)
        if self.config.momentum > 0:
            slots["momentum_buffer"] = np.zeros_like(param)
        return slots

    def update(
        self, param: np.ndarray, grad: np.ndarray, slots: dict[str, np.ndarray], lr: float
    ) -> None:
        c = self.config
        grad = with_l2(grad, param, c.weight_decay)
        square_avg = slots["square_avg"]
        square_avg *= c.rho
        square_avg += (1 - c.rho) * (grad * grad)
        if c.centered:
            grad_avg = slots["grad_avg"]
            grad_avg *= c.rho
            grad_avg += (1 - c.rho) * grad
            denom = np.sqrt(square_avg - grad_avg * grad_avg)
        else:
            denom = np.sqrt(square_avg)
        denom += c.epsilon
        if c.momentum > 0:
            buffer = slots["momentum_buffer"]
            buffer *= c.momentum
            buffer += grad / denom
            param -= lr * buffer
        else:
            param -= lr * (grad / denom)
