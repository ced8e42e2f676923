"""The ``modular-nn`` command line. Each command is one module with ``register`` and ``run``."""
