"""The base class of metrics.

A metric is a running value over the batches seen since ``reset``: ``update(y_pred,
y_true)`` adds a batch and ``result()`` gives the value over every sample seen, exactly
the value on the whole set at once (never an average of per-batch values). To do so a
metric keeps what the whole-set value needs: sums and counts (accuracy, MAE), a confusion
matrix (precision, recall, F1), or the scores themselves (AUC).

A metric is bound to one model output before use (``bind``): the output's task (the
loss's ``task``: ``regression``, ``binary``, ``categorical``, ``sparse_categorical``),
whether the loss takes logits, and the output's shape (so that the number of classes is
known). ``bind`` refuses a task the metric does not apply to (``tasks``) with a
``TrainingError`` saying which losses it needs.

State and merging, for data-parallel runs (``modular_nn.distributed``) and for anyone
combining metrics computed on parts of a set:

- ``state()`` returns everything the metric has accumulated as a flat float64 vector;
  ``merge(state)`` folds in another instance's state, so that the merged metric's
  ``result()`` is the value on the union of both sets.
- ``additive = True`` (the default): the state has a fixed length once bound, and the
  state of a union is the sum of the states. ``merge`` adds. Processes sum the states of
  all such metrics in one allreduce.
- ``additive = False``: the state grows with the samples (AUC keeps every score and
  label); ``merge`` concatenates. Processes gather every state (allgather) and merge
  them in rank order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from modular_nn.components.component import Component, ComponentConfig
from modular_nn.errors import TrainingError

#: Every task a loss can have (``Loss.task``).
ALL_TASKS = ("regression", "binary", "categorical", "sparse_categorical")
#: The classification tasks.
CLASSIFICATION_TASKS = ("binary", "categorical", "sparse_categorical")
#: How messages name each task's outputs and losses.
TASK_LABELS = {
    "regression": "regression outputs (mse, mae, huber)",
    "binary": "binary outputs (binary_crossentropy)",
    "categorical": "one-hot class outputs (categorical_crossentropy)",
    "sparse_categorical": "class-label outputs (sparse_categorical_crossentropy)",
}


def describe_tasks(tasks: Sequence[str]) -> str:
    """``("binary", "categorical", "sparse_categorical")`` -> ``classification outputs
    (...)``, for messages."""
    if set(tasks) == set(CLASSIFICATION_TASKS):
        return (
            "classification outputs (a classification loss: binary_crossentropy, "
            "categorical_crossentropy or sparse_categorical_crossentropy)"
        )
    return " or ".join(TASK_LABELS.get(t, t) for t in tasks)


class Metric(Component):
    """Base class for metrics; register subclasses through ``register_metrics``.

    Subclasses set ``type_name``, ``Config``, ``tasks`` (and ``additive = False`` when
    the state grows with the samples) and implement ``reset``, ``update``, ``result``,
    ``state`` and ``merge``.
    """

    type_name: ClassVar[str] = ""
    Config: ClassVar[type[ComponentConfig]] = ComponentConfig
    #: The loss tasks (``Loss.task``) whose outputs this metric can score.
    tasks: ClassVar[tuple[str, ...]] = ALL_TASKS
    #: True: fixed-length state, summed when merged; False: grows, concatenated.
    additive: ClassVar[bool] = True

    def __init__(self, config: ComponentConfig | None = None, **options: object) -> None:
        super().__init__(config, **options)
        #: the name of the metric in logs (``accuracy``, ``val_accuracy``)
        self.name = self.type_name
        self.task: str | None = None
        self.logits = False
        self.output_shape: tuple[int, ...] | None = None

    # ----- binding ----------------------------------------------------------------------
    def bind(
        self,
        task: str,
        logits: bool = False,
        output_shape: Sequence[int] | None = None,
    ) -> Metric:
        """Attach the metric to an output of ``task``; returns ``self``, reset.

        Raises ``TrainingError`` when the metric does not apply to ``task``."""
        self.check_task(task)
        self.task, self.logits = task, bool(logits)
        self.output_shape = tuple(output_shape) if output_shape is not None else None
        self.reset()
        return self

    def check_task(self, task: str) -> None:
        """``TrainingError`` unless the metric applies to outputs of ``task``."""
        if task not in self.tasks:
            raise TrainingError(
                f"metric {self.name!r} applies to {describe_tasks(self.tasks)}, "
                f"not to {TASK_LABELS.get(task, repr(task))}"
            )

    def _bound_task(self) -> str:
        if self.task is None:
            raise TrainingError(
                f"metric {self.name!r} is not bound to an output: call "
                "bind(task, logits, output_shape) first (make_metrics does)"
            )
        return self.task

    @property
    def num_classes(self) -> int | None:
        """Classes of a categorical output (its last axis), 2 for a binary one, None when
        unknown (no output shape given and no batch seen) or for regression."""
        task = self.task
        if task == "binary":
            return 2
        if task in ("categorical", "sparse_categorical") and self.output_shape:
            return int(self.output_shape[-1])
        return None

    # ----- interpreting outputs --------------------------------------------------------
    def probabilities(self, y_pred: np.ndarray) -> np.ndarray:
        """Scores in [0, 1]: the outputs, or the sigmoid/softmax of logits."""
        y_pred = np.asarray(y_pred, dtype=np.float64)
        if not self.logits:
            return y_pred
        if self._bound_task() == "binary":
            return 0.5 * (1.0 + np.tanh(0.5 * y_pred))  # sigmoid, without overflow
        shifted = np.exp(y_pred - y_pred.max(axis=-1, keepdims=True))
        return shifted / shifted.sum(axis=-1, keepdims=True)

    def predicted_labels(self, y_pred: np.ndarray, threshold: float = 0.5) -> np.ndarray:
        """Class per prediction, flattened: ``score > threshold`` for a binary output (each
        unit on its own), the argmax for a categorical one."""
        if self._bound_task() == "binary":
            y_pred = np.asarray(y_pred)
            if self.logits:
                cut = 0.0 if threshold == 0.5 else float(np.log(threshold / (1 - threshold)))
                return (y_pred > cut).reshape(-1).astype(np.int64)
            return (y_pred > threshold).reshape(-1).astype(np.int64)
        return np.asarray(y_pred).argmax(axis=-1).reshape(-1)

    def true_labels(self, y_true: np.ndarray) -> np.ndarray:
        """Class per target, flattened: ``y > 0.5`` (binary), the argmax (one-hot), or the
        labels themselves (sparse)."""
        task = self._bound_task()
        y_true = np.asarray(y_true)
        if task == "binary":
            return (y_true > 0.5).reshape(-1).astype(np.int64)
        if task == "categorical":
            return y_true.argmax(axis=-1).reshape(-1)
        return y_true.reshape(-1).astype(np.int64)

    # ----- the streaming API -------------------------------------------------------------
    def reset(self) -> None:
        """Forget every batch seen."""
        raise NotImplementedError

    def update(self, y_pred: np.ndarray, y_true: np.ndarray) -> None:
        """Add one batch of predictions and (prepared) targets."""
        raise NotImplementedError

    def result(self) -> float:
        """The value over every sample seen since ``reset`` (NaN when undefined)."""
        raise NotImplementedError

    def state(self) -> np.ndarray:
        """What the metric has accumulated, as a flat float64 vector."""
        raise NotImplementedError

    def merge(self, state: np.ndarray) -> None:
        """Fold in another instance's ``state()`` (same options, bound the same way)."""
        raise NotImplementedError

    def _check_state(self, state: np.ndarray, size: int) -> np.ndarray:
        """``state`` as a float64 vector of ``size`` values, or ``TrainingError``."""
        state = np.asarray(state, dtype=np.float64).reshape(-1)
        if state.size != size:
            raise TrainingError(
                f"metric {self.name!r}: expected a state of {size} values to merge, "
                f"received {state.size}"
            )
        return state


__all__ = ["ALL_TASKS", "CLASSIFICATION_TASKS", "Metric", "describe_tasks"]
