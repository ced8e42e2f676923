"""The L2 penalty optimizers add to the gradient (``weight_decay``, coupled form)."""

from __future__ import annotations

import numpy as np


def with_l2(grad: np.ndarray, param: np.ndarray, weight_decay: float) -> np.ndarray:
    """``grad + weight_decay * param`` as a new array, or ``grad`` itself when the decay is 0.

    The gradient of (weight_decay / 2) ||param||^2; ``adamw`` decouples it instead.
    """
    return grad + weight_decay * param if weight_decay else grad
