"""``train --workers N``, and ``train`` started by ``mpiexec``: data-parallel runs on the
command line (``modular_nn.distributed``, ``docs/distributed.md``).

``--workers N`` starts the same command again under ``mpiexec -n N`` on this machine,
each process with ``cores / N`` BLAS threads. Under any MPI launcher with several
processes, every process trains its share, and only the first one (rank 0) prints
and writes files.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from modular_nn.distributed.world import MPI_EXTRA_HINT, World, get_world
from modular_nn.errors import DistributedError

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def add_workers_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="train data-parallel on N processes of this machine through mpiexec (needs the "
        "[mpi] extra); `mpiexec -n N modular-nn train ...` does the same across machines",
    )


def _mpiexec() -> str:
    beside = Path(sys.executable).with_name("mpiexec")
    if beside.exists():
        return str(beside)
    found = shutil.which("mpiexec")
    if found is None:
        raise DistributedError(f"no mpiexec found; {MPI_EXTRA_HINT}")
    return found


def without_workers(argv: list[str]) -> list[str]:
    """``argv`` less its ``--workers N`` (or ``--workers=N``)."""
    result: list[str] = []
    skip = False
    for item in argv:
        if skip:
            skip = False
            continue
        if item == "--workers":
            skip = True
            continue
        if item.startswith("--workers="):
            continue
        result.append(item)
    return result


def launch_workers(workers: int, argv: list[str]) -> int:
    """Run ``modular-nn`` with ``argv`` (less ``--workers``) on ``workers`` processes."""
    if workers < 1:
        raise DistributedError(f"expected a positive number of workers, received {workers}")
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        raise DistributedError(f"--workers: {MPI_EXTRA_HINT}") from None
    threads = str(max(1, (os.cpu_count() or 1) // workers))
    env = dict(os.environ)
    for name in THREAD_VARIABLES:
        env.setdefault(name, threads)
    command = [_mpiexec(), "-n", str(workers), sys.executable, "-m", "modular_nn.cli.main"]
    completed = subprocess.run([*command, *without_workers(argv)], env=env, check=False)
    return completed.returncode


def join_mpi_run() -> World | None:
    """The processes of the run this process was started in (None when it is alone); the
    processes other than rank 0 print nothing."""
    world = get_world()
    if world is not None and world.rank != 0:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process
    return world
