"""The plugin module named by the entry point: one hook per kind, each calling ``register``.

modular_nn imports this module once, the first time a component is looked up,
and calls each hook with a ``register`` callback. A hook only registers: it
returns None and creates nothing.
"""

from __future__ import annotations

import modular_nn as mnn
from modular_nn.hookspecs import Register
from modular_nn_extras.balanced_accuracy import BalancedAccuracy
from modular_nn_extras.focal import BinaryFocal
from modular_nn_extras.gated_sum import GatedSum
from modular_nn_extras.glu import GLU
from modular_nn_extras.highway import Highway
from modular_nn_extras.lion import Lion
from modular_nn_extras.log_cosh import LogCosh
from modular_nn_extras.swish import Swish


@mnn.hookimpl
def register_layers(register: Register) -> None:
    register(Highway)
    register(GLU)
    register(GatedSum)


@mnn.hookimpl
def register_activations(register: Register) -> None:
    register(Swish)


@mnn.hookimpl
def register_losses(register: Register) -> None:
    register(LogCosh)
    register(BinaryFocal)


@mnn.hookimpl
def register_optimizers(register: Register) -> None:
    register(Lion)


@mnn.hookimpl
def register_metrics(register: Register) -> None:
    register(BalancedAccuracy)
