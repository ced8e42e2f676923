"""One data-parallel ``fit``: the parts of training that differ when there are several
processes. ``modular_nn.model.training`` calls these only when a ``World`` is active.

- Every process holds the same model and draws the same shuffling order (the model's
  generator, identical everywhere); each takes its rows of every global batch
  (``World.shard``), so no sample is dropped or seen twice in an epoch.
- A step: forward and backward on the process's rows, then one allreduce of one flat
  buffer (gradients and losses, weighted by the share of the global batch), then the
  same update everywhere.
- Dropout draws differ per process yet repeat: during epoch ``e`` the layers of process
  ``r`` draw from a generator seeded with ``(seed, r, e)``.
- Validation, ``evaluate`` and metrics sum totals and counts over processes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from modular_nn.data.sources import LocalRows
from modular_nn.distributed.context import set_active_world
from modular_nn.distributed.reduction import GradientReducer, reduce_metrics
from modular_nn.distributed.world import World
from modular_nn.metrics import Metric


class DistributedRun:
    """The state of one distributed ``fit`` of ``model`` (set on ``model._run``)."""

    def __init__(self, model: Any, world: World, training: bool = True) -> None:
        """``model``: the ``modular_nn.Model`` being trained (not imported: the model
        package sits above this one)."""
        self.model = model
        self.world = world
        weights = list(model.params.values()) + list(model.buffers.values())
        world.check_same(weights, "the initial weights" if training else "the weights")
        self.reducer = (
            GradientReducer(world, model.grads, extras=1 + len(model.heads.heads))
            if training
            else None
        )
        #: rows of the global batch the current step belongs to
        self.global_rows = 0
        set_active_world(world)  # batch_norm with sync reduces its moments
        #: does a layer reduce across processes (then every process runs every step)?
        self.collective = any(
            getattr(step.layer, "reduces_across_processes", False) for step in model.engine.steps
        )

    # ----- data ------------------------------------------------------------------------
    def shard(self, batches: Iterator[Any]) -> Iterator[Any]:
        """This process's part of each global batch ``(xs, ys)``; a ``LocalRows`` (from a
        source that read only this process's rows) is that part already."""
        for batch in batches:
            if isinstance(batch, LocalRows):
                self.global_rows = batch.global_rows
                yield batch.xs, batch.ys
                continue
            xs, ys = batch
            rows = xs[0].shape[0]
            part = self.world.shard(rows)
            self.global_rows = rows
            yield [x[part] for x in xs], [y[part] for y in ys]

    # ----- generators ------------------------------------------------------------------
    def begin_epoch(self, epoch: int) -> None:
        """Give the layers this process's generator for ``epoch`` (dropout)."""
        rng = np.random.default_rng([self.model.seed, self.world.rank, epoch])
        for step in self.model.engine.steps:
            step.layer.rng = rng

    def end(self) -> None:
        """Give the layers the model's generator back."""
        set_active_world(None)
        for step in self.model.engine.steps:
            step.layer.rng = self.model.rng

    # ----- one step --------------------------------------------------------------------
    def step(self, xs: list[np.ndarray], ys: list[np.ndarray]) -> tuple[float, list[float], Any]:
        """Forward and backward on this process's rows, then the reduction; returns the
        global batch's loss, each output's loss, and the outputs (None without rows)."""
        model = self.model
        local = xs[0].shape[0]
        heads = model.heads
        if local or self.collective:
            outs = model.engine.forward(xs, True)
        if local:
            loss, grads, parts = heads.loss_and_grads(outs, ys, model.engine.output_masks)
            model.engine.backward(grads)
        else:  # a global batch smaller than the number of processes: no rows here
            loss, parts = 0.0, [0.0] * len(heads.heads)
            if self.collective:  # layers that reduce across processes must take part
                model.engine.backward([np.zeros_like(out) for out in outs])
            else:
                for grad in model.grads.values():
                    grad[...] = 0
        share = local / self.global_rows if self.global_rows else 0.0
        summed = self.reducer.reduce(share, [loss, *parts])  # type: ignore[union-attr]
        return summed[0], summed[1:], outs if local else None

    def reduce_metrics(self, metrics: list[list[Metric]]) -> None:
        reduce_metrics(self.world, metrics)

    def evaluation_totals(
        self, total: float, parts: list[float], count: int
    ) -> tuple[float, list[float], int]:
        """Sums over every process of an evaluation's weighted losses and row count."""
        summed = self.world.sum([total, *parts, float(count)])
        return summed[0], summed[1:-1], int(round(summed[-1]))
