"""The training loop: ``fit`` and ``train_on_batch`` of ``Model`` (``evaluate`` and
``predict``: ``modular_nn.model.inference``).

A mixin of ``Model`` (``modular_nn.model.model``), which provides the graph
(``forward``/``backward``), the output heads (losses, metrics) and the data
preparation it relies on. Every batch is a pair of lists, one array per
input and per output.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from modular_nn.data.sources import BatchSource, LocalRows, held_out_rows
from modular_nn.errors import DataError, TrainingError
from modular_nn.metrics import Metric
from modular_nn.model.callbacks import Callback, CallbackList, EarlyStopping, ProgressLogger
from modular_nn.model.guard import ADVICE, NonFiniteLoss, TrainingGuard, diagnose
from modular_nn.model.history import History
from modular_nn.model.layer_checks import check_backward_output, check_forward_output
from modular_nn.model.sample_weights import combined_weights
from modular_nn.model.structure import Arrays, Batch, BatchesFn, array_batches, rows

if TYPE_CHECKING:
    from modular_nn.model.model import Model


def positive_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise TrainingError(f"expected a positive integer for {what}, received: {value!r}")
    return int(value)


class Training:
    """``fit`` and ``train_on_batch``, for ``Model``."""

    # ----- one step --------------------------------------------------------------------
    def train_on_batch(self: Model, x: Any, y: Any) -> float:
        """One optimization step on one batch; returns the batch loss."""
        self._require("loss", "optimizer")
        xs, ys = self._prepare_xy(x, y)
        try:
            return self._train_step(xs, ys, [], epoch=self.epochs_done, step=0)
        except NonFiniteLoss as failure:
            raise self._non_finite_error(failure, xs, ys) from None

    def _train_step(
        self: Model, xs: Arrays, ys: Arrays, metrics: list[list[Metric]], *, epoch: int, step: int
    ) -> float:
        if self._run is not None:
            return self._distributed_step(xs, ys, metrics, epoch=epoch, step=step)
        verify = self._verify_next_step
        batch = xs[0].shape[0]
        if verify:
            outs = self._verified_forward(xs, batch)
        else:
            outs = self.engine.forward(xs, True)
        masks = self.engine.output_masks
        loss, grads, _ = self.heads.loss_and_grads(outs, ys, masks)
        self._last_parts = _
        if verify:
            self.engine.backward(grads, check=self._backward_check(batch))
        else:
            self.engine.backward(grads)
        self._verify_next_step = False
        if not math.isfinite(loss):
            raise NonFiniteLoss(loss, epoch, step)  # fit rolls back; see model/guard.py
        self.optimizer.step()  # type: ignore[union-attr]
        self.global_step += 1
        if metrics:
            self.heads.update_metrics(metrics, outs, ys, masks)
        return loss

    def _distributed_step(
        self: Model, xs: Arrays, ys: Arrays, metrics: list[list[Metric]], *, epoch: int, step: int
    ) -> float:
        """``_train_step`` of one process of a data-parallel run (modular_nn.distributed)."""
        loss, parts, outs = self._run.step(xs, ys)  # type: ignore[union-attr]
        self._last_parts = parts
        self._verify_next_step = False
        if not math.isfinite(loss):
            raise NonFiniteLoss(loss, epoch, step)  # the same on every process
        self.optimizer.step()  # type: ignore[union-attr]
        self.global_step += 1
        if metrics and outs is not None:
            self.heads.update_metrics(metrics, outs, ys, self.engine.output_masks)
        return loss

    def _verified_forward(self: Model, xs: Arrays, batch: int) -> Arrays:
        """Forward in training mode, checking each layer's output shape (first step)."""
        return self.engine.forward(
            xs, True, observe=lambda step, out: check_forward_output(step.layer, out, batch)
        )

    def _backward_check(self: Model, batch: int) -> Any:
        held = {id(layer): dict(layer.grads) for layer in self._all_layer_objects()}

        def check(step: Any, grad_in: Any) -> None:
            check_backward_output(step.layer, grad_in, batch, held[id(step.layer)])

        return check

    def _non_finite_error(
        self: Model, failure: NonFiniteLoss, xs: Arrays, ys: Arrays
    ) -> TrainingError:
        """The ``TrainingError`` for a ``train_on_batch`` step whose loss is not finite,
        naming the first layer whose output and the first parameter whose gradient went
        non-finite (``fit`` does more: it also rolls back non-finite weights)."""
        where = "".join(f"; {w}" for w in diagnose(self, xs, ys))
        return TrainingError(
            f"the loss became {failure.loss} in train_on_batch (the run's step "
            f"{self.global_step + 1}){where}; that step was not applied, the weights are the "
            f"ones it started from. {ADVICE}"
        )

    # ----- fit -------------------------------------------------------------------------
    def fit(
        self: Model,
        x: Any,
        y: Any = None,
        *,
        epochs: int | None = None,
        batch_size: int | None = None,
        shuffle: bool | None = None,
        validation_data: tuple[Any, Any] | BatchSource | None = None,
        validation_split: float | None = None,
        verbose: int | str = "auto",
        initial_epoch: int | None = None,
        callbacks: Sequence[Callback] = (),
        distributed: bool | None = None,
        sample_weight: Any = None,
        class_weight: Any = None,
    ) -> History:
        """Train; return this call's ``History``. ``self.history`` keeps the whole run.

        ``x`` and ``y`` are arrays (for several inputs or outputs: dicts keyed by their
        names, or lists in declaration order), or ``x`` is a
        ``modular_nn.data.BatchSource`` (``y`` None) read batch by batch, as HDF5 data
        larger than memory is; its blocks are shuffled with the model's generator.
        ``epochs`` more epochs are run, continuing the run's count (so a model
        loaded from a checkpoint continues exactly). With ``initial_epoch`` the
        Keras meaning holds: epochs ``initial_epoch + 1`` to ``epochs`` are run.
        Defaults come from the spec's ``training`` section, including its
        ``early_stopping``, which adds an ``EarlyStopping`` callback.

        ``sample_weight`` (one weight per sample) and ``class_weight`` (class index ->
        weight, or "balanced"; default the spec's ``training.class_weight``) weigh each
        sample's loss as in Keras: ``sum(w_i * loss_i) / n`` per batch (metrics are not
        weighted). ``validation_data`` may be ``(x, y, sample_weight)``.

        ``verbose``: 0 silent, 1 a progress bar per epoch, 2 one line per epoch; "auto"
        (the default) is 1 on a terminal or in Jupyter, 2 in a log file or a pipe.
        ``callbacks`` get 0-based epoch indices of the whole run, as in Keras
        (``modular_nn.model.callbacks``).

        ``distributed``: train data-parallel over the processes of an MPI run
        (``docs/distributed.md``); None (the default) does so when an MPI launcher
        started several processes, False never does, True requires MPI.
        """
        self._require("loss", "optimizer")
        settings = self.training_config
        epochs = positive_int(settings.epochs if epochs is None else epochs, "epochs")
        batch_size = positive_int(
            settings.batch_size if batch_size is None else batch_size, "batch_size"
        )
        shuffle = settings.shuffle if shuffle is None else bool(shuffle)
        split = settings.validation_split if validation_split is None else float(validation_split)
        if not 0 <= split < 1:
            raise TrainingError(f"expected validation_split in [0, 1), received: {split}")
        wrong = [c for c in callbacks if not isinstance(c, Callback)]
        if wrong:
            raise TrainingError(
                f"expected callbacks to be modular_nn Callback objects, received: {wrong[0]!r}"
            )
        if class_weight is None:
            class_weight = settings.class_weight
        train, n, val = self._training_data(
            x, y, split, validation_data, sample_weight, class_weight
        )
        if n == 0:
            raise DataError("no training samples")
        if initial_epoch is None:
            start, end = self.epochs_done, self.epochs_done + epochs
        else:
            start = int(initial_epoch)
            if start < 0 or start >= epochs:
                raise TrainingError(
                    "initial_epoch must be in [0, epochs), received "
                    f"initial_epoch={start}, epochs={epochs}"
                )
            end = epochs
        metrics = self._metrics()
        steps = -(-n // batch_size)
        mode = verbose_mode(verbose)
        progress = [ProgressLogger(mode, steps, end)] if mode else []
        early = settings.early_stopping
        stopping = [EarlyStopping(verbose=bool(mode), **early.model_dump())] if early else []
        if val is None:
            _require_validation_for(stopping)  # a callback may log its own val_ values
        run = self._start_run(distributed, training=True)
        try:
            return self._fit_epochs(
                train, val, n, batch_size, shuffle, start, end, steps, metrics, mode,
                [*progress, *stopping, *callbacks],
            )  # fmt: skip
        except BaseException as exc:
            if run is not None:
                run.world.fail(exc)  # every process stops, none waits in a reduction
            raise
        finally:
            self._end_run()

    def _start_run(self: Model, distributed: bool | None, training: bool) -> Any:
        """A ``DistributedRun`` when this call is data-parallel, else None."""
        world = None
        if distributed is not False:
            from modular_nn.distributed.world import get_world

            world = get_world(required=bool(distributed))
        if world is None:
            if training:  # this fit trains on one process, whatever trained it before
                self.processes = 1
            return None
        from modular_nn.distributed.run import DistributedRun

        self._run = DistributedRun(self, world, training=training)
        self.processes = world.size
        return self._run

    def _end_run(self: Model) -> None:
        if self._run is not None:
            self._run.end()
            self._run = None

    def _fit_epochs(
        self: Model,
        train: BatchesFn,
        val: BatchesFn | None,
        n: int,
        batch_size: int,
        shuffle: bool,
        start: int,
        end: int,
        steps: int,
        metrics: list[list[Metric]],
        mode: int,
        callbacks: list[Callback],
    ) -> History:
        cb = CallbackList(callbacks, self)
        history = History()
        self.stop_training = False
        guard = TrainingGuard(self, cb.callbacks)  # keeps the last finite state: model/guard.py
        run = self._run
        if run is None:
            batches = lambda: train(batch_size, self.rng if shuffle else None)  # noqa: E731
        else:
            batches = lambda: run.shard(train(batch_size, self.rng if shuffle else None))  # noqa: E731
        heads = self.heads
        if any(step.layer.needs_adapting() for step in self.engine.steps):
            # preprocessing layers learn their statistics from the training set first,
            # streamed (an HDF5 source larger than memory works), unshuffled
            self.engine.adapt(lambda: (xs for xs, _ in train(batch_size, None)))
        cb.on_train_begin()
        logs: dict[str, Any] = {}
        for epoch in range(start, end):
            if run is not None:
                run.begin_epoch(epoch)
            cb.on_epoch_begin(epoch)
            for group in metrics:
                for metric in group:
                    metric.reset()
            total = 0.0
            parts = [0.0] * len(heads.heads)
            seen = 0
            guard.begin_epoch(epoch, batches)
            try:
                for step, (xb, yb) in enumerate(batches()):
                    loss = self._train_step(xb, yb, metrics, epoch=epoch, step=step)
                    rows_in_batch = xb[0].shape[0] if run is None else run.global_rows
                    total += loss * rows_in_batch
                    if not heads.single:
                        for i, part in enumerate(self._last_parts):
                            parts[i] += part * rows_in_batch
                    seen += rows_in_batch
                    cb.on_train_batch_end(step, {"loss": total / seen})
            except NonFiniteLoss as failure:
                raise guard.recover(failure) from None
            guard.end_epoch(steps)
            if run is not None:
                run.reduce_metrics(metrics)
            logs = heads.logs(total / n, [p / n for p in parts], metrics)
            if val is not None:
                logs.update(
                    {f"val_{k}": v for k, v in self._evaluate_batches(val(batch_size)).items()}
                )
            self.epochs_done = epoch + 1
            # recorded before the callbacks and completed after them with what they add to
            # ``logs``, as Keras's History does; checkpoints are saved after that
            history.append(epoch + 1, logs)
            self.history.append(epoch + 1, logs)
            recorded = set(logs)
            cb.on_epoch_end(epoch, logs)
            added = {k: v for k, v in logs.items() if k not in recorded}
            if added:
                history.add_to_last_epoch(added)
                self.history.add_to_last_epoch(added)
            cb.on_epoch_recorded(epoch, logs)
            if self.stop_training:
                break
        cb.on_train_end(logs)  # the last epoch's logs, as Keras passes them
        return history

    def _training_data(
        self: Model,
        x: Any,
        y: Any,
        split: float,
        validation_data: Any,
        sample_weight: Any = None,
        class_weight: Any = None,
    ) -> tuple[BatchesFn, int, BatchesFn | None]:
        """Batch iterators for training and validation, and the training sample count;
        the samples' weights, if any, follow the targets in each batch."""
        if isinstance(x, BatchSource):
            if y is not None:
                raise DataError("a BatchSource carries its labels: call fit(source) without y")
            if sample_weight is not None or class_weight is not None:
                raise DataError(
                    "sample_weight and class_weight apply to arrays; a BatchSource's batches "
                    "are weighed equally"
                )
            source: BatchSource = x
            val_source = validation_data
            if split and validation_data is None:
                source, val_source = source.split(split)
            val = None if val_source is None else self._batches_of(val_source)
            return self._source_batches(source), len(source), val
        xs, ys = self._prepare_xy(x, y)
        ys = self._with_weights(ys, sample_weight, class_weight)
        count = xs[0].shape[0]
        if split and validation_data is None:
            n_val = held_out_rows(count, split)
            validation_data = (rows(xs, -n_val), rows(ys, -n_val))
            xs, ys = rows(xs, 0, -n_val), rows(ys, 0, -n_val)
            val = self._prepared_batches(*validation_data)
        else:
            val = None if validation_data is None else self._batches_of(validation_data)
        return array_batches(xs, ys), xs[0].shape[0], val

    def _prepared_batches(self: Model, xs: Arrays, ys: Arrays) -> BatchesFn:
        arrays = array_batches(xs, ys)
        return lambda batch_size, rng=None: arrays(batch_size, None)

    def _batches_of(self: Model, data: Any) -> BatchesFn:
        """Unshuffled prepared batches of ``data``: a BatchSource or a pair ``(x, y)``."""
        empty = DataError("validation_data has no samples: give at least one, or leave it out")
        if isinstance(data, BatchSource):
            if len(data) == 0:
                raise empty
            source = self._source_batches(data)
            return lambda batch_size, rng=None: source(batch_size, None)
        if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
            raise DataError(
                "validation_data must be a pair (x_val, y_val), a triple (x_val, y_val, "
                "sample_weight_val) or a BatchSource"
            )
        xs, ys = self._prepare_xy(*data[:2])
        ys = self._with_weights(ys, data[2] if len(data) == 3 else None, None)
        if xs[0].shape[0] == 0:
            raise empty
        return self._prepared_batches(xs, ys)

    def _source_batches(self: Model, source: BatchSource) -> BatchesFn:
        if not source.has_labels:
            raise DataError(f"{source!r} has no labels; training and evaluation need them")

        def batches(batch_size: int, rng: np.random.Generator | None) -> Iterator[Batch]:
            run = self._run
            if run is not None:  # data-parallel: this process reads only its rows
                world = run.world
                for xb, yb, rows in source.sharded_batches(batch_size, rng, world.rank, world.size):
                    yield LocalRows(*self._prepare_xy(xb, yb), rows)  # type: ignore[misc]
                return
            for xb, yb in source.batches(batch_size, rng):
                yield self._prepare_xy(xb, yb)

        return batches

    def _with_weights(self: Model, ys: Arrays, sample_weight: Any, class_weight: Any) -> Arrays:
        """The targets, followed by each sample's weight when any is given."""
        tasks = [head.loss.task for head in self.heads.heads]
        weights = combined_weights(ys, tasks, sample_weight, class_weight)
        return ys if weights is None else [*ys, weights]

    def _metrics(self: Model) -> list[list[Metric]]:
        return self.heads.new_metrics(self.training_config.metrics)


def _require_validation_for(stoppers: list[EarlyStopping]) -> None:
    """``TrainingError`` before training when early stopping watches a validation value
    and the run has no validation data (else it would fail after the first epoch)."""
    for stopper in stoppers:
        monitor = stopper.config.monitor
        if monitor.startswith("val_"):
            raise TrainingError(
                f"early stopping monitors {monitor!r}, but this run has no validation data: "
                "give validation_split or validation_data, or monitor 'loss'"
            )


def verbose_mode(verbose: int | str, stream: Any = None) -> int:
    """``fit``'s ``verbose`` as 0 (silent), 1 (a progress bar) or 2 (a line per epoch).

    "auto" is 1 on a terminal and in a Jupyter (IPython kernel) notebook, whose output
    cells redraw a bar; 2 when output goes to a file or a pipe, where a bar redrawn
    with carriage returns would litter the log.
    """
    if verbose == "auto":
        stream = sys.stdout if stream is None else stream
        return 1 if _is_terminal(stream) or in_notebook() else 2
    if verbose in (0, 1, 2):
        return int(verbose)
    raise TrainingError(f"expected verbose to be 0, 1, 2 or 'auto', received: {verbose!r}")


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # no isatty, or a closed stream
        return False


def in_notebook() -> bool:
    """Whether this process is an IPython kernel (Jupyter), not a terminal IPython."""
    if "ipykernel" not in sys.modules:
        return False
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    if get_ipython is None:
        return False
    try:
        shell = get_ipython()
    except Exception:  # noqa: BLE001 - a broken IPython means no notebook
        return False
    return getattr(shell, "kernel", None) is not None
