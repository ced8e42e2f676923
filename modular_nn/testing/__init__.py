"""Testing helpers for modular_nn and for plugin authors.

``modular_nn.testing.gradcheck`` compares analytic gradients with central
finite differences in float64.
"""

from modular_nn.testing.gradcheck import (
    GradCheckResult,
    assert_gradients_close,
    check_activation_gradient,
    check_layer_gradients,
    check_loss_gradient,
    check_model_gradients,
)

__all__ = [
    "GradCheckResult",
    "assert_gradients_close",
    "check_activation_gradient",
    "check_layer_gradients",
    "check_loss_gradient",
    "check_model_gradients",
]
