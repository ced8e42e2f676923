"""The conformance kit's checks, one module per component kind.

Each ``*Checks`` class lists its properties in order; every property is a
method that returns a short description of what it measured, or raises
``PropertyFailure`` saying what failed and by how much.
"""

from __future__ import annotations

from modular_nn.testing.checks.activations import ActivationChecks
from modular_nn.testing.checks.base import ComponentChecks, PropertyFailure, PropertySkip
from modular_nn.testing.checks.initializers import InitializerChecks
from modular_nn.testing.checks.layers import LayerChecks
from modular_nn.testing.checks.losses import LossChecks
from modular_nn.testing.checks.metrics import MetricChecks
from modular_nn.testing.checks.optimizers import OptimizerChecks

CHECKS_BY_KIND: dict[str, type[ComponentChecks]] = {
    "layers": LayerChecks,
    "activations": ActivationChecks,
    "losses": LossChecks,
    "optimizers": OptimizerChecks,
    "initializers": InitializerChecks,
    "metrics": MetricChecks,
}

__all__ = ["CHECKS_BY_KIND", "ComponentChecks", "PropertyFailure", "PropertySkip"]
