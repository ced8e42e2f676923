"""modular-nn-extras: third-party components for modular_nn, registered as ``extras.*``.

Installed, it is found through its entry point (group ``modular_nn``, name
``extras``); nothing needs importing::

    import modular_nn as mnn
    "extras.highway" in mnn.available("layers")   # True
"""

from __future__ import annotations

from modular_nn_extras.balanced_accuracy import BalancedAccuracy
from modular_nn_extras.focal import BinaryFocal
from modular_nn_extras.gated_sum import GatedSum
from modular_nn_extras.glu import GLU
from modular_nn_extras.highway import Highway
from modular_nn_extras.lion import Lion
from modular_nn_extras.log_cosh import LogCosh
from modular_nn_extras.swish import Swish

__version__ = "0.1.0"

__all__ = [
    "GLU",
    "BalancedAccuracy",
    "BinaryFocal",
    "GatedSum",
    "Highway",
    "Lion",
    "LogCosh",
    "Swish",
    "__version__",
]
