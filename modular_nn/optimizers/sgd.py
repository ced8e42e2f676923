"""Stochastic gradient descent with optional momentum, Nesterov and weight decay."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from modular_nn.components.optimizer import Optimizer, OptimizerConfig
from modular_nn.optimizers.penalty import with_l2


class SGD(Optimizer):
    """SGD, in PyTorch's formulation.

    g = grad + weight_decay * p;  v = momentum * v + g;
    p -= lr * (g + momentum * v) with Nesterov, else p -= lr * v
    (with momentum 0: p -= lr * g).

    Args:
        learning_rate: step size (0.01).
        momentum: in [0, 1] (0).
        nesterov: use Nesterov momentum (no effect without momentum > 0; accepted so
            that checkpoints saved that way still load).
        weight_decay: L2 penalty coefficient added to the gradient (0).

    State: ``velocity`` per parameter when momentum > 0.
    """

    type_name = "sgd"

    class Config(OptimizerConfig):
        momentum: float = Field(0.0, ge=0, le=1)
        nesterov: bool = False
        weight_decay: float = Field(0.0, ge=0)

    def init_slots(self, param: np.ndarray) -> dict[str, np.ndarray]:
        if self.config.momentum > 0:
            return {"velocity": np.zeros_like(param)}
        return {}

    def update(
        self, param: np.ndarray, grad: np.ndarray, slots: dict[str, np.ndarray], lr: float
    ) -> None:
        config = self.config
        grad = with_l2(grad, param, config.weight_decay)
        if config.momentum > 0:
            v = slots["velocity"]
            v *= config.momentum
            v += grad
            step = grad + config.momentum * v if config.nesterov else v
        else:
            step = grad
        param -= lr * step
