"""What the distributed tests share: finding mpiexec, launching a worker under it.

Each test that needs MPI starts ``mpiexec -n N`` with a small script beside the tests
(``mpi_worker.py``, ``mpi_cli.py``) in a subprocess with a timeout; without mpi4py or
mpiexec (the ``[mpi]`` extra) they are skipped, with that reason.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
#: a hung run is a failure, not a wait: no test here needs more than this
TIMEOUT = 120


def mpiexec() -> str:
    """The mpiexec beside this interpreter (the mpich wheel's) or on the PATH; skips the
    test without mpi4py or mpiexec."""
    if importlib.util.find_spec("mpi4py") is None:
        pytest.skip("mpi4py is not installed (pip install -e '.[mpi]')")
    beside = Path(sys.executable).with_name("mpiexec")
    found = str(beside) if beside.exists() else shutil.which("mpiexec")
    if found is None:
        pytest.skip("no mpiexec beside the interpreter or on the PATH (pip install -e '.[mpi]')")
    return found


def quiet_env() -> dict[str, str]:
    """The environment with one BLAS thread per process (2 cores shared by several)."""
    env = dict(os.environ)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = "1"
    return env


def run_mpi(
    processes: int, *args: str, timeout: float = TIMEOUT, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``mpiexec -n processes python *args`` (a script of this folder and its arguments)."""
    command = [mpiexec(), "-n", str(processes), sys.executable, *args]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, env=quiet_env(), cwd=cwd,
        check=False,
    )  # fmt: skip
