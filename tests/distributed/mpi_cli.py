"""``modular-nn`` for the fault tests: the command line, with one process killing itself.

    mpiexec -n 2 python mpi_cli.py train SPEC ...

With ``MNN_TEST_KILL_RANK=R`` and ``MNN_TEST_KILL_STEP=S`` in the environment, process
``R`` sends itself SIGKILL at the start of the run's step ``S`` (1-based): the others are
then waiting for it in a reduction.
"""

from __future__ import annotations

import os
import signal
import sys

from modular_nn.cli.main import main
from modular_nn.model.model import Model


def kill_at(rank: int, step: int) -> None:
    original = Model._train_step

    def train_step(self: Model, *args: object, **kwargs: object) -> float:
        if self._run is not None and self._run.world.rank == rank and self.global_step + 1 == step:
            os.kill(os.getpid(), signal.SIGKILL)
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    Model._train_step = train_step  # type: ignore[method-assign]


if __name__ == "__main__":
    if "MNN_TEST_KILL_RANK" in os.environ:
        kill_at(int(os.environ["MNN_TEST_KILL_RANK"]), int(os.environ["MNN_TEST_KILL_STEP"]))
    sys.exit(main(sys.argv[1:]))
