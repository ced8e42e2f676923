"""The hooks a modular_nn plugin can implement.

A plugin is a module (or object) named by an entry point in the group
``modular_nn``. It implements any of these hooks with ``@mnn.hookimpl``; each
hook receives a ``register`` callback and calls it once per component::

    import modular_nn as mnn

    @mnn.hookimpl
    def register_layers(register):
        register(MyLayer)              # registered under MyLayer.type_name

The built-in components register through these very hooks, from the plugin
module ``modular_nn.builtins`` named by modular_nn's own entry point.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

PROJECT_NAME = "modular_nn"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

Register = Callable[..., Any]


@hookspec
def register_layers(register: Register) -> None:
    """Register layer classes.

    Call ``register(cls)`` for each subclass of ``modular_nn.Layer``; the name is
    ``cls.type_name`` unless ``register(cls, name="...")`` gives one. Third-party
    names carry their package's prefix (``extras.highway``).
    """


@hookspec
def register_activations(register: Register) -> None:
    """Register activation classes (subclasses of ``modular_nn.Activation``)."""


@hookspec
def register_losses(register: Register) -> None:
    """Register loss classes (subclasses of ``modular_nn.Loss``)."""


@hookspec
def register_optimizers(register: Register) -> None:
    """Register optimizer classes (subclasses of ``modular_nn.Optimizer``)."""


@hookspec
def register_initializers(register: Register) -> None:
    """Register weight initializer classes (subclasses of ``modular_nn.Initializer``)."""


@hookspec
def register_metrics(register: Register) -> None:
    """Register metric classes (subclasses of ``modular_nn.Metric``).

    A metric streams over batches (``reset``, ``update``, ``result``) and gives the
    whole-set value exactly; ``state``/``merge`` combine parts (see
    ``modular_nn.components.metric``).
    """
