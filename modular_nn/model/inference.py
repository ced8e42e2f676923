"""Inference and scoring: ``predict`` and ``evaluate`` of ``Model`` (the ``Inference``
mixin), in evaluation mode and in batches; in a data-parallel run ``evaluate`` sums
exact totals over the processes (``modular_nn.distributed``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from modular_nn.data.sources import BatchSource
from modular_nn.errors import DataError
from modular_nn.model.inputs import require_finite
from modular_nn.model.structure import Arrays, Batch, array_batches, rows
from modular_nn.model.training import positive_int

if TYPE_CHECKING:
    from modular_nn.model.model import Model


class Inference:
    """``predict`` and ``evaluate``, for ``Model``."""

    def predict(self: Model, x: Any, batch_size: int | None = None) -> Any:
        """Outputs for ``x`` (arrays, or a ``BatchSource``) in evaluation mode, in batches
        (default 1024): an array, or with several outputs a dict keyed by output name."""
        batch_size = positive_int(1024 if batch_size is None else batch_size, "batch_size")
        if isinstance(x, BatchSource):
            parts = [self.engine.forward(self._prepare_x(xb), False)
                     for xb, _ in x.batches(batch_size)]  # fmt: skip
            if not parts:
                outs = [np.empty((0, *s), self.dtype) for s in self.output_shapes.values()]
                return self._named_outputs(outs)
            return self._named_outputs(_joined(parts))
        # Each batch is checked for NaN and infinity just before the layers read it (the
        # first product then finds it in cache), rather than in a pass of its own over x.
        xs = self._prepare_x(x, check_finite=False)
        count = xs[0].shape[0]
        if count == 0:
            return self._named_outputs(self.engine.forward(xs, False))
        parts = []
        for i in range(0, count, batch_size):
            batch = rows(xs, i, i + batch_size)
            for part, whole in zip(batch, xs):
                require_finite(part, whole)
            parts.append(self.engine.forward(batch, False))
        return self._named_outputs(parts[0] if len(parts) == 1 else _joined(parts))

    def evaluate(
        self: Model,
        x: Any,
        y: Any = None,
        batch_size: int | None = None,
        *,
        distributed: bool | None = None,
        sample_weight: Any = None,
    ) -> dict[str, float]:
        """``{"loss": ..., "accuracy": ...}`` (and any other metrics) in evaluation mode;
        with several outputs also each output's loss and metrics under its name.

        ``x`` and ``y`` are arrays (dicts or lists for several), or ``x`` is a
        ``BatchSource`` (``y`` None). ``sample_weight`` weighs each sample's loss as in
        ``fit``. ``distributed`` as for ``fit``: each process
        evaluates its rows and the sums are exact over all of them.
        """
        self._require("loss")
        batch_size = positive_int(1024 if batch_size is None else batch_size, "batch_size")
        if isinstance(x, BatchSource):
            if y is not None:
                raise DataError("a BatchSource carries its labels: call evaluate(source)")
            batches = self._source_batches(x)(batch_size, None)
        else:
            xs, ys = self._prepare_xy(x, y)
            ys = self._with_weights(ys, sample_weight, None)
            batches = array_batches(xs, ys)(batch_size, None)
        if self._run is not None:  # inside a distributed fit: its run reduces
            return self._evaluate_batches(batches)
        self._start_run(distributed, training=False)
        try:
            return self._evaluate_batches(batches)
        finally:
            self._end_run()

    def _evaluate_batches(self: Model, batches: Iterable[Batch]) -> dict[str, float]:
        metrics = self._metrics()
        heads = self.heads
        run = self._run
        if run is not None:
            batches = run.shard(iter(batches))
        total = 0.0
        parts = [0.0] * len(heads.heads)
        count = 0
        for xb, yb in batches:
            if run is not None and xb[0].shape[0] == 0:
                continue  # this process has no rows of a small last batch
            outs = self.engine.forward(xb, False)
            masks = self.engine.output_masks
            value, values = heads.evaluation_losses(outs, yb, masks)
            size = xb[0].shape[0]
            total += value * size
            parts = [p + v * size for p, v in zip(parts, values)]
            count += size
            heads.update_metrics(metrics, outs, yb, masks)
        if run is not None:
            total, parts, count = run.evaluation_totals(total, parts, count)
            run.reduce_metrics(metrics)
        if count == 0:
            raise DataError("no samples to evaluate: the data has 0 rows")
        return heads.logs(total / count, [p / count for p in parts], metrics)


def _joined(parts: list[Arrays]) -> Arrays:
    return [np.concatenate([part[i] for part in parts]) for i in range(len(parts[0]))]
