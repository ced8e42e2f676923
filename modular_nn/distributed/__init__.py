"""Data-parallel training over MPI (the optional ``[mpi]`` extra): ``docs/distributed.md``.

The same spec trains on several processes: each computes the gradients of its
slice of every global batch, one allreduce of one flat buffer sums them, and every
process applies the same update. Run with ``mpiexec -n 4 modular-nn train ...``,
``modular-nn train ... --workers 4`` or ``model.fit(..., distributed=True)``; with one
process, or without mpi4py, training is exactly the single-process training.
"""

from modular_nn.distributed.world import World, get_world, launched_by_mpi, shard_rows

__all__ = ["World", "get_world", "launched_by_mpi", "shard_rows"]
