"""What a data-parallel step and evaluation reduce: gradients in one flat buffer, exact
sums and counts for losses and metrics (never an average of averages)."""

from __future__ import annotations

import numpy as np

from modular_nn.distributed.world import World
from modular_nn.metrics import Metric


class GradientReducer:
    """Sums the gradients of every process, weighted by their share of the global batch.

    Each process's gradients are means over its own rows. Scaled by rows / global rows
    and summed, they are the mean over the global batch: the single-process gradient.
    The step's losses travel in the same buffer, so each step makes one call.
    """

    def __init__(self, world: World, grads: dict[str, np.ndarray], extras: int) -> None:
        self.world = world
        self.grads = list(grads.values())
        self.sizes = [g.size for g in self.grads]
        total = sum(self.sizes)
        dtype = self.grads[0].dtype if self.grads else np.float64
        self.buffer = np.empty(total + extras, dtype=np.result_type(dtype, np.float32))
        self.extras = extras

    def reduce(self, share: float, values: list[float]) -> list[float]:
        """Sum ``share * gradient`` and ``share * value`` over processes; the gradients are
        written back in place; returns the summed values."""
        buffer = self.buffer
        offset = 0
        scale = buffer.dtype.type(share)
        for grad, size in zip(self.grads, self.sizes):
            np.multiply(grad.reshape(-1), scale, out=buffer[offset : offset + size])
            offset += size
        buffer[offset:] = [v * share for v in values]
        self.world.allreduce(buffer)
        offset = 0
        for grad, size in zip(self.grads, self.sizes):
            grad.reshape(-1)[...] = buffer[offset : offset + size]
            offset += size
        return buffer[offset:].astype(np.float64).tolist()


def reduce_metrics(world: World, metrics: list[list[Metric]]) -> None:
    """Make each metric hold its state over every process (``Metric.state``/``merge``).

    Additive metrics (fixed-length states that add up) are summed in one allreduce of
    their states laid end to end; the others (AUC keeps every score) are gathered from
    every process and merged in rank order. Every process then has the same metrics.
    """
    flat = [m for group in metrics for m in group]
    additive = [m for m in flat if m.additive]
    if additive:
        states = [np.asarray(m.state(), dtype=np.float64).reshape(-1) for m in additive]
        sizes = [s.size for s in states]
        buffer = np.concatenate(states) if states else np.zeros(0)
        if world.size > 1:  # every process lays out the same sizes: one call for all
            world.check_same([np.asarray(sizes, dtype=np.int64)], "metric state sizes")
        world.allreduce(buffer)
        offset = 0
        for metric, size in zip(additive, sizes):
            metric.reset()
            metric.merge(buffer[offset : offset + size])
            offset += size
    for metric in (m for m in flat if not m.additive):
        gathered = world.allgather(np.asarray(metric.state(), dtype=np.float64).reshape(-1))
        metric.reset()
        for state in gathered:
            metric.merge(state)
