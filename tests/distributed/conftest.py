"""The tests import the scripts beside them (``mpi_helpers``, ``mpi_worker``), which they
also start under ``mpiexec``: this folder goes on ``sys.path`` (pytest runs with
``--import-mode=importlib``, which does not put it there)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
