"""Adagrad optimizer."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from modular_nn.components.optimizer import Optimizer, OptimizerConfig
from modular_nn.optimizers.penalty import with_l2


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011), in PyTorch's formulation with Keras's defaults.

    g = grad + weight_decay * p;  acc += g^2;  p -= lr * g / (sqrt(acc) + epsilon).

    Args:
        learning_rate: 0.001 (Keras; PyTorch 0.01).
        initial_accumulator_value: starting value of ``acc``, >= 0 (0.1, Keras; PyTorch 0).
        epsilon: 1e-7 (Keras; PyTorch 1e-10). Keras adds it inside the square
            root; we follow PyTorch, as ``adam`` does.
        weight_decay: L2 penalty added to the gradient (0).

    State: ``accumulator`` per parameter.
    """

    type_name = "adagrad"

    class Config(OptimizerConfig):
        learning_rate: float = Field(0.001, gt=0)
        initial_accumulator_value: float = Field(0.1, ge=0)
        epsilon: float = Field(1e-7, gt=0)
        weight_decay: float = Field(0.0, ge=0)

    def init_slots(self, param: np.ndarray) -> dict[str, np.ndarray]:
        return {"accumulator": np.full_like(param, self.config.initial_accumulator_value)}

    def update(
        self, param: np.ndarray, grad: np.ndarray, slots: dict[str, np.ndarray], lr: float
    ) -> None:
        grad = with_l2(grad, param, self.config.weight_decay)
        accumulator = slots["accumulator"]
        accumulator += grad * grad
        param -= lr * grad / (np.sqrt(accumulator) + self.config.epsilon)
