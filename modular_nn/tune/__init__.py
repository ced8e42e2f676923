"""``modular-nn tune``: search a spec's values with Optuna.

- ``space``: the search space file, paths into a spec and what to sample there;
- ``storage``: the Optuna storage and study, and which trials count;
- ``study``: running trials (in this process or in worker processes);
- ``report``: ``best.json``, ``best.h5``, ``trials.csv``, the trial table,
  parameter importances and plots.

Optuna is an optional extra: ``pip install "modular-nn[tune]"``. Without it
``require_optuna`` raises a ``TuneError`` saying so.
"""

from __future__ import annotations

import warnings
from typing import Any

from modular_nn.errors import TuneError

INSTALL_HINT = 'pip install "modular-nn[tune]"'


def require_optuna() -> Any:
    """The ``optuna`` module, its own logging quietened (tune prints one line per trial)."""
    try:
        import optuna
    except ImportError:
        raise TuneError(f"tuning needs optuna, which is not installed: {INSTALL_HINT}") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    warnings.filterwarnings("ignore", category=FutureWarning, module="optuna")
    # we run the heartbeat ourselves around ask/tell (modular_nn.tune.study)
    warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed to be used")
    return optuna
