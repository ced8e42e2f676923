"""Adam optimizer."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from modular_nn.components.optimizer import Optimizer, OptimizerConfig
from modular_nn.optimizers.penalty import with_l2


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), in PyTorch's formulation.

    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
    p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + epsilon)

    Args:
        learning_rate: 0.001.  beta_1: 0.9.  beta_2: 0.999.
        epsilon: 1e-7 (Keras's default; PyTorch uses 1e-8).
        weight_decay: L2 penalty added to the gradient (0); see ``adamw`` for decoupled decay.

    State: ``m`` and ``v`` per parameter; the step t is the optimizer's ``iterations``.
    """

    type_name = "adam"

    class Config(OptimizerConfig):
        learning_rate: float = Field(0.001, gt=0)
        beta_1: float = Field(0.9, ge=0, lt=1)
        beta_2: float = Field(0.999, ge=0, lt=1)
        epsilon: float = Field(1e-7, gt=0)
        weight_decay: float = Field(0.0, ge=0)

    def init_slots(self, param: np.ndarray) -> dict[str, np.ndarray]:
        return {"m": np.zeros_like(param), "v": np.zeros_like(param)}

    def update(
        self, param: np.ndarray, grad: np.ndarray, slots: dict[str, np.ndarray], lr: float
    ) -> None:
        self.adam_step(param, with_l2(grad, param, self.config.weight_decay), slots, lr)

    def adam_step(
        self, param: np.ndarray, grad: np.ndarray, slots: dict[str, np.ndarray], lr: float
    ) -> None:
        """The moment updates and the bias-corrected step, in place (``adamw`` reuses it)."""
        c = self.config
        m, v = slots["m"], slots["v"]
        t = self.iterations
        # m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2  (in place, one temporary)
        m *= c.beta_1
        m += (1 - c.beta_1) * grad
        scratch = np.square(grad)
        scratch *= 1 - c.beta_2
        v *= c.beta_2
        v += scratch
        # p -= (lr / (1 - b1^t)) m / (sqrt(v / (1 - b2^t)) + eps), the denominator in scratch
        bias_1 = 1 - c.beta_1**t
        bias_2 = 1 - c.beta_2**t
        denom = np.divide(v, bias_2, out=scratch)
        np.sqrt(denom, out=denom)
        denom += c.epsilon
        step = np.multiply(m, lr / bias_1)
        step /= denom
        param -= step
