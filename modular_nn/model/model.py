"""The sequential ``Model``: layers in order, a loss, an optimizer, one random generator."""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from pydantic import ValidationError

from modular_nn.components.activation import Activation
from modular_nn.components.layer import Layer, Shape
from modular_nn.components.loss import Loss
from modular_nn.components.optimizer import Optimizer
from modular_nn.data.sources import BatchSource, held_out_rows
from modular_nn.errors import (
    DataError,
    LayerNotFoundError,
    SpecError,
    SpecIssue,
    TrainingError,
)
from modular_nn.metrics import Metric, make_metrics
from modular_nn.model.callbacks import Callback, CallbackList, EarlyStopping, ProgressLogger
from modular_nn.model.guard import ADVICE, NonFiniteLoss, TrainingGuard, diagnose
from modular_nn.model.history import History
from modular_nn.model.inputs import (
    check_finite_targets,
    check_same_length,
    prepare_inputs,
    require_finite,
)
from modular_nn.model.layer_checks import check_backward_output, check_forward_output
from modular_nn.registry import get_registry
from modular_nn.spec.issues import issues_from_validation_error
from modular_nn.spec.model_spec import ModelSpec, TrainingSpec, layer_name_problem

ComponentSource = str | dict[str, Any] | None
Batch = tuple[np.ndarray, np.ndarray]
#: ``batches(batch_size, rng or None)`` -> iterator of prepared ``(x, y)`` batches.
BatchesFn = Callable[[int, "np.random.Generator | None"], Iterator[Batch]]


def _component(kind: str, value: Any, base: type) -> Any:
    if value is None or isinstance(value, base):
        return value
    return get_registry().create(kind, value)


def _positive_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise TrainingError(f"expected a positive integer for {what}, received: {value!r}")
    return int(value)


class Model:
    """A sequential model.

    Build one from a spec with ``mnn.build_model(spec)`` or from layer objects::

        model = mnn.Model([Dense(units=5, activation="relu"), Dense(units=1, activation="sigmoid")],
                          input_shape=(2,), loss="binary_crossentropy",
                          optimizer={"type": "sgd", "learning_rate": 0.5})

    All randomness (initialization, shuffling, dropout) comes from one
    ``numpy.random.Generator`` seeded with ``seed``, so a run is reproducible.
    """

    def __init__(
        self,
        layers: Sequence[Layer],
        input_shape: Sequence[int],
        loss: Loss | ComponentSource = None,
        optimizer: Optimizer | ComponentSource = None,
        *,
        name: str = "model",
        dtype: str | np.dtype = "float32",
        seed: int = 0,
        training: TrainingSpec | dict[str, Any] | None = None,
        data: str | None = None,
    ) -> None:
        if not isinstance(layers, (str, bytes)) and isinstance(layers, Iterable):
            layers = list(layers)  # a generator is read once
        settings = _checked_settings(layers, input_shape, name, dtype, seed, training, data)
        self.name = settings.name
        self.dtype = np.dtype(settings.dtype)
        self.input_shape: Shape = tuple(settings.input_shape)
        self.seed = settings.seed
        self.rng = np.random.default_rng(self.seed)
        self.training_config = settings.training
        self.data = settings.data
        self.layers: list[Layer] = list(layers)
        self._name_layers()
        self._check_shapes()
        self.loss: Loss | None = None
        self.optimizer: Optimizer | None = None
        self.history = History()
        self.epochs_done = 0
        self.global_step = 0
        self.stop_training = False
        #: (epoch, weights) of the best epoch so far of early stopping that restores the
        #: best weights: kept here so that checkpoints carry them into a resumed run
        self.early_stopping_best: tuple[int, dict[str, np.ndarray]] | None = None
        try:
            shape = self.input_shape
            for layer in self.layers:
                shape = layer.build(shape, self.rng, self.dtype)
            self.output_shape: Shape = shape
            self.compile(loss=loss, optimizer=optimizer)
        except BaseException:
            for layer in self.layers:  # no model was made: the layers are free again
                layer.built = False
            raise

    # ----- construction --------------------------------------------------------------
    def _name_layers(self) -> None:
        from modular_nn.spec.loading import auto_layer_names

        for i, layer in enumerate(self.layers):
            if not isinstance(layer, Layer):
                raise SpecError(f"expected modular_nn.Layer instances, received: {layer!r}")
            if any(other is layer for other in self.layers[:i]):
                raise SpecError(
                    [SpecIssue(f"layers[{i}]", "the same layer object appears twice; "
                               "create one layer object per position")]
                )  # fmt: skip
            if layer.built:
                raise SpecError(
                    [SpecIssue(f"layers[{i}]", f"layer {layer.name!r} already belongs to a model "
                               "(its weights are that model's); create a new layer object")]
                )  # fmt: skip
            problem = layer.name is not None and layer_name_problem(layer.name)
            if problem:
                raise SpecError([SpecIssue(f"layers[{i}].name", problem)])
        names = auto_layer_names(
            [layer.type_name for layer in self.layers], [layer.name for layer in self.layers]
        )
        if len(set(names)) != len(names):
            dupes = sorted({n for n in names if names.count(n) > 1})
            raise SpecError(f"duplicate layer names: {', '.join(dupes)}")
        for layer, layer_name in zip(self.layers, names):
            layer.name = layer_name

    def _check_shapes(self) -> None:
        from modular_nn.spec.shapes import infer_shapes

        paths = [f"layers[{i}]" for i in range(len(self.layers))]
        issues, _ = infer_shapes(self.layers, self.input_shape, paths)
        if issues:
            raise SpecError(issues)

    def compile(
        self, loss: Loss | ComponentSource = None, optimizer: Optimizer | ComponentSource = None
    ) -> None:
        """Set (or replace) the loss and optimizer; ``None`` keeps the current one."""
        if loss is not None:
            loss = _component("losses", loss, Loss)
            loss.check_output_shape(self.output_shape)  # type: ignore[union-attr]
            self.loss = loss  # type: ignore[assignment]
        if optimizer is not None:
            self.optimizer = _component("optimizers", optimizer, Optimizer)
        self._wire()

    def _wire(self) -> None:
        """Collect parameters, bind the optimizer, fuse the output activation with the loss."""
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}
        for layer in self.layers:
            for key, value in layer.params.items():
                self.params[f"{layer.name}/{key}"] = value
                self.grads[f"{layer.name}/{key}"] = layer.grads[key]
            for key, value in layer.buffers.items():
                self.buffers[f"{layer.name}/{key}"] = value
        if self.optimizer is not None:
            self.optimizer.bind(self.params, self.grads)
        for layer in self.layers:
            activation = layer.output_activation
            if activation is not None:
                activation.fused = False
        self._fused: Activation | None = None
        last = self.layers[-1].output_activation
        if self.loss is not None and self.loss.can_fuse(last):
            last.fused = True  # type: ignore[union-attr]
            self._fused = last
        # Layers before the first trainable one need no input gradient.
        trainable = [i for i, layer in enumerate(self.layers) if layer.params]
        self._first_trainable = trainable[0] if trainable else len(self.layers)
        for index, layer in enumerate(self.layers):
            layer.needs_input_grad = index > self._first_trainable
        self._verify_next_step = True  # the next training step checks every layer's shapes

    # ----- access --------------------------------------------------------------------
    def get_layer(self, name: str) -> Layer:
        """The layer called ``name``."""
        for layer in self.layers:
            if layer.name == name:
                return layer
        names = ", ".join(layer.name or "" for layer in self.layers)
        raise LayerNotFoundError(f"no layer named {name!r}; layers: {names}")

    def get_weights(self) -> dict[str, np.ndarray]:
        """Copies of every parameter and buffer, by ``layer/name``."""
        return {k: v.copy() for k, v in {**self.params, **self.buffers}.items()}

    def set_weights(self, weights: dict[str, np.ndarray]) -> None:
        """Copy values into parameters/buffers by ``layer/name`` (shapes must match)."""
        if not isinstance(weights, Mapping):
            raise DataError(
                "expected weights as a dict of arrays by 'layer/name' (as get_weights gives), "
                f"received: {type(weights).__name__}"
            )
        targets = {**self.params, **self.buffers}
        problems = []
        arrays = {}
        for key, value in weights.items():
            if key not in targets:
                problems.append(f"unknown weight {key!r}")
                continue
            try:
                arrays[key] = np.asarray(value, dtype=targets[key].dtype)
            except (TypeError, ValueError):
                problems.append(f"{key}: expected numbers, received {type(value).__name__}")
                continue
            if arrays[key].shape != targets[key].shape:
                problems.append(
                    f"{key}: expected shape {targets[key].shape}, received {arrays[key].shape}"
                )
        if problems:
            raise DataError("cannot set weights: " + "; ".join(problems))
        for key, value in arrays.items():
            targets[key][...] = value

    def count_params(self) -> int:
        """Number of trainable scalars."""
        return int(sum(p.size for p in self.params.values()))

    # ----- forward / backward --------------------------------------------------------
    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Run every layer on an already prepared batch."""
        for layer in self.layers:
            x = layer.forward(x, training)
        return x

    def backward(self, grad_out: np.ndarray, *, input_grad: bool = False) -> np.ndarray | None:
        """Back-propagate dL/d(output) through every layer, filling ``self.grads``.

        With ``input_grad=True`` also returns dL/d(input); otherwise the layers
        before the first trainable one are skipped and None is returned.
        """
        if input_grad:
            flags = [layer.needs_input_grad for layer in self.layers]
            for layer in self.layers:
                layer.needs_input_grad = True
            try:
                for layer in reversed(self.layers):
                    grad_out = layer.backward(grad_out)
                return grad_out
            finally:
                for layer, flag in zip(self.layers, flags):
                    layer.needs_input_grad = flag
        for layer in reversed(self.layers[self._first_trainable :]):
            grad_out = layer.backward(grad_out)
        return None

    def _loss_and_grad(self, out: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        loss = self.loss
        if self._fused is not None:
            value = loss.forward_logits(self._fused.logits, out, y)  # type: ignore[union-attr]
            return value, loss.backward_logits()  # type: ignore[union-attr]
        value = loss.forward(out, y)  # type: ignore[union-attr]
        return value, loss.backward()  # type: ignore[union-attr]

    # ----- inputs --------------------------------------------------------------------
    def _prepare_x(self, x: Any, check_finite: bool = True) -> np.ndarray:
        integer = self.layers[0].accepts_integer_input
        return prepare_inputs(
            x, self.input_shape, self.dtype, integer_input=integer, check_finite=check_finite
        )

    def _prepare_xy(self, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        self._require("loss")
        if y is None:
            raise DataError("targets are missing: give y as well as x (fit(x, y), evaluate(x, y))")
        x = self._prepare_x(x)
        y = np.asarray(y)
        check_same_length(x, y)
        check_finite_targets(y)
        with np.errstate(over="ignore"):  # a value beyond the model's dtype becomes infinite
            prepared = self.loss.prepare_targets(y, self.output_shape, self.dtype)  # type: ignore[union-attr]
        if prepared.dtype != y.dtype:
            check_finite_targets(prepared)
        return x, prepared

    def _require(self, *what: str) -> None:
        for item in what:
            if getattr(self, item) is None:
                raise TrainingError(
                    f"this model has no {item}; give the spec a '{item}' (for example "
                    f'"{"adam" if item == "optimizer" else "mse"}") '
                    f"or call model.compile({item}=...)"
                )

    # ----- training ------------------------------------------------------------------
    def train_on_batch(self, x: Any, y: Any) -> float:
        """One optimization step on one batch; returns the batch loss."""
        self._require("loss", "optimizer")
        x, y = self._prepare_xy(x, y)
        try:
            return self._train_step(x, y, [], epoch=self.epochs_done, step=0)
        except NonFiniteLoss as failure:
            raise self._non_finite_error(failure, x, y) from None

    def _train_step(
        self, x: np.ndarray, y: np.ndarray, metrics: list[Metric], *, epoch: int, step: int
    ) -> float:
        verify = self._verify_next_step
        out = x
        for layer in self.layers:
            out = layer.forward(out, True)
            if verify:
                check_forward_output(layer, out, x.shape[0])
        loss, grad = self._loss_and_grad(out, y)
        for layer in reversed(self.layers[self._first_trainable :]):
            grad = layer.backward(grad)
            if verify:
                held = {k: self.grads[f"{layer.name}/{k}"] for k in layer.params}
                check_backward_output(layer, grad, x.shape[0], held)
        self._verify_next_step = False
        if not math.isfinite(loss):
            raise NonFiniteLoss(loss, epoch, step)  # fit rolls back; see model/guard.py
        self.optimizer.step()  # type: ignore[union-attr]
        self.global_step += 1
        for metric in metrics:
            metric.update(out, y)
        return loss

    def _non_finite_error(
        self, failure: NonFiniteLoss, x: np.ndarray, y: np.ndarray
    ) -> TrainingError:
        """The ``TrainingError`` for a ``train_on_batch`` step whose loss is not finite,
        naming the first layer whose output and the first parameter whose gradient went
        non-finite (``fit`` does more: it also rolls back non-finite weights)."""
        where = "".join(f"; {w}" for w in diagnose(self, x, y))
        return TrainingError(
            f"the loss became {failure.loss} in train_on_batch (the run's step "
            f"{self.global_step + 1}){where}; that step was not applied, the weights are the "
            f"ones it started from. {ADVICE}"
        )

    def fit(
        self,
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
    ) -> History:
        """Train; return this call's ``History``. ``self.history`` keeps the whole run.

        ``x`` and ``y`` are arrays, or ``x`` is a ``modular_nn.data.BatchSource``
        (``y`` None) read batch by batch, as HDF5 data larger than memory is;
        its blocks are shuffled with the model's generator.
        ``epochs`` more epochs are run, continuing the run's count (so a model
        loaded from a checkpoint continues exactly). With ``initial_epoch`` the
        Keras meaning holds: epochs ``initial_epoch + 1`` to ``epochs`` are run.
        Defaults come from the spec's ``training`` section, including its
        ``early_stopping``, which adds an ``EarlyStopping`` callback.
        """
        self._require("loss", "optimizer")
        settings = self.training_config
        epochs = _positive_int(settings.epochs if epochs is None else epochs, "epochs")
        batch_size = _positive_int(
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
        train, n, val = self._training_data(x, y, split, validation_data)
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
        mode = _verbose_mode(verbose)
        progress = [ProgressLogger(mode, steps, end)] if mode else []
        early = settings.early_stopping
        stopping = [EarlyStopping(verbose=bool(mode), **early.model_dump())] if early else []
        if val is None:
            _require_validation_for(stopping)  # a callback may log its own val_ values
        cb = CallbackList([*progress, *stopping, *callbacks], self)
        history = History()
        self.stop_training = False
        guard = TrainingGuard(self, cb.callbacks)  # keeps the last finite state: model/guard.py
        batches = lambda: train(batch_size, self.rng if shuffle else None)  # noqa: E731
        cb.on_train_begin()
        for epoch in range(start, end):
            cb.on_epoch_begin(epoch)
            for metric in metrics:
                metric.reset()
            total = 0.0
            seen = 0
            guard.begin_epoch(epoch, batches)
            try:
                for step, (xb, yb) in enumerate(batches()):
                    loss = self._train_step(xb, yb, metrics, epoch=epoch, step=step)
                    total += loss * xb.shape[0]
                    seen += xb.shape[0]
                    cb.on_train_batch_end(step, {"loss": total / seen})
            except NonFiniteLoss as failure:
                raise guard.recover(failure) from None
            guard.end_epoch(steps)
            logs = {"loss": total / n, **{m.name: m.result() for m in metrics}}
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
        cb.on_train_end()
        return history

    def _training_data(
        self, x: Any, y: Any, split: float, validation_data: Any
    ) -> tuple[BatchesFn, int, BatchesFn | None]:
        """Batch iterators for training and validation, and the training sample count."""
        if isinstance(x, BatchSource):
            if y is not None:
                raise DataError("a BatchSource carries its labels: call fit(source) without y")
            source: BatchSource = x
            val_source = validation_data
            if split and validation_data is None:
                source, val_source = source.split(split)
            val = None if val_source is None else self._batches_of(val_source)
            return self._source_batches(source), len(source), val
        x, y = self._prepare_xy(x, y)
        if split and validation_data is None:
            n_val = held_out_rows(x.shape[0], split)
            x, y, validation_data = x[:-n_val], y[:-n_val], (x[-n_val:], y[-n_val:])
        val = None if validation_data is None else self._batches_of(validation_data)
        return _array_batches(x, y), x.shape[0], val

    def _batches_of(self, data: Any) -> BatchesFn:
        """Unshuffled prepared batches of ``data``: a BatchSource or a pair ``(x, y)``."""
        empty = DataError("validation_data has no samples: give at least one, or leave it out")
        if isinstance(data, BatchSource):
            if len(data) == 0:
                raise empty
            source = self._source_batches(data)
            return lambda batch_size: source(batch_size, None)
        if not isinstance(data, (tuple, list)) or len(data) != 2:
            raise DataError("validation_data must be a pair (x_val, y_val) or a BatchSource")
        x, y = self._prepare_xy(*data)
        if x.shape[0] == 0:
            raise empty
        arrays = _array_batches(x, y)
        return lambda batch_size: arrays(batch_size, None)

    def _source_batches(self, source: BatchSource) -> BatchesFn:
        if not source.has_labels:
            raise DataError(f"{source!r} has no labels; training and evaluation need them")

        def batches(batch_size: int, rng: np.random.Generator | None) -> Iterator[Batch]:
            for xb, yb in source.batches(batch_size, rng):
                yield self._prepare_xy(xb, yb)

        return batches

    def _metrics(self) -> list[Metric]:
        logits = bool(getattr(self.loss.config, "from_logits", False))  # type: ignore[union-attr]
        return make_metrics(self.training_config.metrics, self.loss.task, logits)  # type: ignore[union-attr]

    # ----- inference -----------------------------------------------------------------
    def predict(self, x: Any, batch_size: int | None = None) -> np.ndarray:
        """Outputs for ``x`` (an array or a ``BatchSource``) in evaluation mode, in batches
        (default 1024)."""
        batch_size = _positive_int(1024 if batch_size is None else batch_size, "batch_size")
        if isinstance(x, BatchSource):
            parts = [self.forward(self._prepare_x(xb), False) for xb, _ in x.batches(batch_size)]
            return np.concatenate(parts) if parts else np.empty((0, *self.output_shape), self.dtype)
        # Each batch is checked for NaN and infinity just before the layers read it (the
        # first product then finds it in cache), rather than in a pass of its own over x.
        x = self._prepare_x(x, check_finite=False)
        if x.shape[0] == 0:
            return self.forward(x, False)
        parts = []
        for i in range(0, x.shape[0], batch_size):
            batch = x[i : i + batch_size]
            require_finite(batch, x)
            parts.append(self.forward(batch, False))
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def evaluate(self, x: Any, y: Any = None, batch_size: int | None = None) -> dict[str, float]:
        """``{"loss": ..., "accuracy": ...}`` (and any other metrics) in evaluation mode.

        ``x`` and ``y`` are arrays, or ``x`` is a ``BatchSource`` (``y`` None).
        """
        self._require("loss")
        batch_size = _positive_int(1024 if batch_size is None else batch_size, "batch_size")
        if isinstance(x, BatchSource):
            if y is not None:
                raise DataError("a BatchSource carries its labels: call evaluate(source)")
            return self._evaluate_batches(self._source_batches(x)(batch_size, None))
        x, y = self._prepare_xy(x, y)
        return self._evaluate_batches(_array_batches(x, y)(batch_size, None))

    def _evaluate_batches(self, batches: Iterable[Batch]) -> dict[str, float]:
        metrics = self._metrics()
        total = 0.0
        count = 0
        for xb, yb in batches:
            out = self.forward(xb, False)
            total += self._evaluation_loss(out, yb) * xb.shape[0]
            count += xb.shape[0]
            for metric in metrics:
                metric.update(out, yb)
        if count == 0:
            raise DataError("no samples to evaluate: the data has 0 rows")
        return {"loss": total / count, **{m.name: m.result() for m in metrics}}

    def _evaluation_loss(self, out: np.ndarray, y: np.ndarray) -> float:
        if self._fused is not None:
            return self.loss.forward_logits(self._fused.logits, out, y)  # type: ignore[union-attr]
        return self.loss.forward(out, y)  # type: ignore[union-attr]

    # ----- description -----------------------------------------------------------------
    def summary(self) -> str:
        """A table of layers (name, type, output shape, parameters) with totals."""
        from modular_nn.model.summary import summary_table

        return summary_table(self)

    def to_spec(self) -> ModelSpec:
        """The normalized spec of this model; ``build_model(model.to_spec())`` rebuilds it."""
        from modular_nn.spec.loading import load_spec

        def entry(component: Any) -> dict[str, Any]:
            return {"type": component.type_name, **component.get_config()}

        data: dict[str, Any] = {
            "format_version": 1,
            "name": self.name,
            "input_shape": list(self.input_shape),
            "dtype": self.dtype.name,
            "seed": self.seed,
            "layers": [
                {"type": layer.type_name, "name": layer.name, **layer.get_config()}
                for layer in self.layers
            ],
            "loss": entry(self.loss) if self.loss is not None else None,
            "optimizer": entry(self.optimizer) if self.optimizer is not None else None,
            "training": self.training_config.model_dump(mode="json"),
            "data": self.data,
        }
        return load_spec(data)

    # ----- persistence (HDF5) ------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write spec, weights, optimizer and training state to one HDF5 file, atomically."""
        from modular_nn.checkpoint import save_model

        save_model(self, path)

    def save_weights(self, path: str | os.PathLike[str]) -> None:
        """Write parameters and buffers only (HDF5), atomically."""
        from modular_nn.checkpoint import save_weights

        save_weights(self, path)

    def load_weights(self, path: str | os.PathLike[str], strict: bool = True) -> Any:
        """Load parameters and buffers by name; see ``modular_nn.checkpoint.load_weights``."""
        from modular_nn.checkpoint import load_weights

        return load_weights(self, path, strict=strict)

    def __repr__(self) -> str:
        return (
            f"Model(name={self.name!r}, layers={len(self.layers)}, params={self.count_params()}, "
            f"dtype={self.dtype.name})"
        )


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


def _checked_settings(
    layers: Sequence[Layer],
    input_shape: Any,
    name: Any,
    dtype: Any,
    seed: Any,
    training: Any,
    data: Any,
) -> ModelSpec:
    """The model's settings validated as a spec's would be (``SpecError`` listing every
    problem, with the spec field each belongs to)."""
    try:  # any NumPy spelling of a dtype ("f4", np.float64, "double") by its name
        dtype = np.dtype(dtype).name if dtype is not None else dtype
    except TypeError:
        pass  # the spec's check names the received value
    fields = {
        "name": name,
        "input_shape": input_shape,
        "dtype": dtype,
        "seed": seed,
        "layers": layers,
        "training": training if training is not None else {},
        "data": data,
    }
    try:
        return ModelSpec.model_validate(fields)
    except ValidationError as exc:
        raise SpecError(issues_from_validation_error(exc, fields)) from None


def _array_batches(x: np.ndarray, y: np.ndarray) -> BatchesFn:
    """Batches of prepared arrays; with a generator, of a fresh permutation of them."""

    def batches(batch_size: int, rng: np.random.Generator | None) -> Iterator[Batch]:
        if rng is None:
            for lo in range(0, x.shape[0], batch_size):
                yield x[lo : lo + batch_size], y[lo : lo + batch_size]
            return
        # Gather each batch of the permutation by index: the same batches as
        # shuffling a full copy, without holding a second copy of the data
        # (np.take: the same rows as x[index], about 15 % faster on large rows).
        order = rng.permutation(x.shape[0])
        for lo in range(0, x.shape[0], batch_size):
            index = order[lo : lo + batch_size]
            yield x.take(index, axis=0), y.take(index, axis=0)

    return batches


def _verbose_mode(verbose: int | str) -> int:
    if verbose == "auto":
        return 1 if sys.stdout.isatty() else 0
    if verbose in (0, 1, 2):
        return int(verbose)
    raise TrainingError(f"expected verbose to be 0, 1, 2 or 'auto', received: {verbose!r}")
