"""ReLU activation: f(x) = max(0, x)."""

from __future__ import annotations

import numpy as np

from modular_nn.components.activation import Activation


class ReLU(Activation):
    """Rectified linear unit, f(x) = max(0, x).

    Derivative: f'(x) = 1 where x > 0, else 0 (read from the kept output: y > 0 iff x > 0).
    """

    type_name = "relu"

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.y = np.maximum(x, 0)
        return self.y

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        # d/dx max(0, x) = [x > 0] = [y > 0]; a product with the boolean mask keeps
        # grad_out's dtype (np.where with a scalar 0 is about 10x slower here)
        return np.multiply(grad_out, self.y > 0)
