"""Testing helpers for modular_nn and for plugin authors.

``modular_nn.testing.gradcheck`` compares analytic gradients with central
finite differences in float64. ``modular_nn.testing.conformance`` is the
conformance kit: ``check_component`` checks every property a component must
keep (gradients, shapes, dtypes, determinism, spec and HDF5 round trips) and
``conformance_cases``/``assert_conforms`` run it from pytest.
"""

from modular_nn.testing.conformance import (
    ConformanceCase,
    assert_conforms,
    check_component,
    conformance_cases,
)
from modular_nn.testing.examples import Example
from modular_nn.testing.gradcheck import (
    GradCheckResult,
    assert_gradients_close,
    check_activation_gradient,
    check_layer_gradients,
    check_loss_gradient,
    check_model_gradients,
)
from modular_nn.testing.report import ConformanceError, ConformanceReport, PropertyResult

__all__ = [
    "ConformanceCase",
    "ConformanceError",
    "ConformanceReport",
    "Example",
    "GradCheckResult",
    "PropertyResult",
    "assert_conforms",
    "assert_gradients_close",
    "check_activation_gradient",
    "check_component",
    "check_layer_gradients",
    "check_loss_gradient",
    "check_model_gradients",
    "conformance_cases",
]
