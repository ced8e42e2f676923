"""The processes of a data-parallel run: who we are, how to split rows, how to reduce.

mpi4py is imported only when a run is distributed, so single-process training never
loads MPI. ``get_world`` returns None for one process: callers then run today's code.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from typing import Any

import numpy as np

from modular_nn.errors import DistributedError

#: environment variables by which MPI launchers (MPICH/Hydra, Open MPI, MVAPICH, PMIx)
#: tell a process how many processes were started
SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE", "PMIX_SIZE")

MPI_EXTRA_HINT = (
    "data-parallel training needs mpi4py and an MPI: install the [mpi] extra "
    "(pip install 'modular-nn[mpi]', which brings the mpich wheel: no system MPI needed)"
)


def launched_by_mpi() -> bool:
    """True when an MPI launcher started this process among several."""
    for name in SIZE_VARIABLES:
        try:
            if int(os.environ.get(name, "1")) > 1:
                return True
        except ValueError:
            continue
    return False


def shard_rows(rows: int, rank: int, size: int) -> slice:
    """The rows of ``rows`` that process ``rank`` of ``size`` takes: contiguous, sizes as even
    as possible (the first ``rows % size`` processes take one more), every row once."""
    base, extra = divmod(rows, size)
    start = rank * base + min(rank, extra)
    return slice(start, start + base + (1 if rank < extra else 0))


class World:
    """This process's place among the processes of a run (an MPI communicator)."""

    def __init__(self, comm: Any) -> None:
        from mpi4py import MPI

        self._mpi = MPI
        self.comm = comm
        self.rank: int = comm.Get_rank()
        self.size: int = comm.Get_size()
        #: seconds spent in reductions, how many, and the bytes they carried
        self.comm_seconds = 0.0
        self.reductions = 0
        self.bytes_reduced = 0

    def shard(self, rows: int) -> slice:
        """This process's rows of ``rows``."""
        return shard_rows(rows, self.rank, self.size)

    def allreduce(self, buffer: np.ndarray) -> np.ndarray:
        """Sum ``buffer`` over every process, in place (one call, one buffer)."""
        started = time.perf_counter()
        self.comm.Allreduce(self._mpi.IN_PLACE, buffer, op=self._mpi.SUM)
        self.comm_seconds += time.perf_counter() - started
        self.reductions += 1
        self.bytes_reduced += buffer.nbytes
        return buffer

    def allgather(self, array: np.ndarray) -> list[np.ndarray]:
        """Every process's ``array`` (lengths may differ), in rank order."""
        started = time.perf_counter()
        gathered = self.comm.allgather(np.ascontiguousarray(array))
        self.comm_seconds += time.perf_counter() - started
        self.reductions += 1
        self.bytes_reduced += sum(part.nbytes for part in gathered)
        return gathered

    def sum(self, values: list[float]) -> list[float]:
        """Exact sums of a few numbers (counts, totals) over every process, in float64."""
        buffer = np.asarray(values, dtype=np.float64)
        return self.allreduce(buffer).tolist()

    def check_same(self, arrays: list[np.ndarray], what: str) -> None:
        """``DistributedError`` unless every process holds the same ``arrays`` (by digest)."""
        digest = hashlib.sha256()
        for array in arrays:
            digest.update(np.ascontiguousarray(array).tobytes())
        mine = digest.hexdigest()
        everyone = self.comm.allgather(mine)
        differing = [rank for rank, other in enumerate(everyone) if other != everyone[0]]
        if differing:
            raise DistributedError(
                f"{what} differ between processes (rank 0 and rank {differing[0]}); every "
                "process must build the same spec with the same seed"
            )

    def fail(self, error: BaseException) -> None:
        """Print ``error`` once, from this process, and stop every process of the run
        (the others may be waiting in a reduction: they must not hang)."""
        print(
            f"modular-nn: process {self.rank} of {self.size} failed: "
            f"{type(error).__name__}: {error}",
            file=sys.stderr,
            flush=True,
        )
        self.comm.Abort(1)


def get_world(required: bool = False) -> World | None:
    """The run's processes, or None for a single process.

    Without ``required`` MPI is used only when a launcher started several processes.
    With it (``fit(distributed=True)``, ``train --workers``) mpi4py must be installed.
    """
    if not required and not launched_by_mpi():
        return None
    try:
        from mpi4py import MPI
    except ImportError as exc:
        raise DistributedError(f"{MPI_EXTRA_HINT} ({exc})") from None
    comm = MPI.COMM_WORLD
    if comm.Get_size() == 1:
        return None
    return World(comm)
