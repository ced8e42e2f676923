"""Sample and class weights (Keras's ``sample_weight`` and ``class_weight``).

A weighted batch's loss is ``sum(w_i * loss_i) / n`` (Keras's sum over batch size),
computed by ``modular_nn.model.heads``. Inside the model the weights travel as one
more array after the targets, so they are shuffled, batched and split with them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from modular_nn.errors import DataError


def check_sample_weight(sample_weight: Any, rows: int) -> np.ndarray:
    """``sample_weight`` as a float64 array of ``rows`` finite, non-negative numbers."""
    try:
        weights = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(
            f"expected sample_weight as numbers, one per sample, received "
            f"{type(sample_weight).__name__}"
        ) from None
    if weights.ndim == 2 and weights.shape[1] == 1:
        weights = weights[:, 0]
    if weights.shape != (rows,):
        raise DataError(
            f"expected sample_weight of shape ({rows},), one weight per sample, received "
            f"{weights.shape}"
        )
    if not np.all(np.isfinite(weights)) or (weights.size and weights.min() < 0):
        raise DataError("sample_weight must hold finite, non-negative numbers")
    return weights


def class_labels(y: np.ndarray, task: str) -> np.ndarray:
    """The class index of each sample of prepared targets ``y`` for a loss's ``task``."""
    if task == "sparse_categorical" and y.ndim == 1:
        return y.astype(np.intp)
    if task == "categorical" and y.ndim == 2:
        return y.argmax(axis=1)
    if task == "binary" and y.ndim == 2 and y.shape[1] == 1:
        return (y[:, 0] > 0.5).astype(np.intp)
    raise DataError(
        "class_weight needs one class per sample (a classification loss and targets of shape "
        f"(n,) or (n, classes)), received targets of shape {y.shape} for a {task} loss; "
        "give sample_weight instead"
    )


def class_weight_table(class_weight: Any, labels: np.ndarray) -> dict[int, float]:
    """``class_weight`` (a dict of class -> weight, or "balanced") as class -> weight;
    "balanced" is n / (classes * count of the class) over ``labels``, as scikit-learn."""
    if class_weight == "balanced":
        classes, counts = np.unique(labels, return_counts=True)
        total = labels.size
        return {int(c): total / (len(classes) * int(k)) for c, k in zip(classes, counts)}
    if not isinstance(class_weight, Mapping):
        raise DataError(
            'expected class_weight as a dict of class index -> weight, or "balanced", '
            f"received {type(class_weight).__name__}"
        )
    table: dict[int, float] = {}
    for key, value in class_weight.items():
        try:
            index, weight = int(key), float(value)
        except (TypeError, ValueError):
            raise DataError(
                f"class_weight: expected class indices and numbers, received {key!r}: {value!r}"
            ) from None
        if not np.isfinite(weight) or weight < 0:
            raise DataError(f"class_weight: class {index} has weight {weight}; expected >= 0")
        table[index] = weight
    return table


def weights_from_classes(table: dict[int, float], labels: np.ndarray) -> np.ndarray:
    """Each sample's class weight (classes not in ``table`` weigh 1, as in Keras)."""
    weights = np.ones(labels.shape[0], dtype=np.float64)
    for index, weight in table.items():
        weights[labels == index] = weight
    return weights


def combined_weights(
    ys: list[np.ndarray],
    tasks: list[str],
    sample_weight: Any,
    class_weight: Any,
) -> np.ndarray | None:
    """The weight of each sample from ``sample_weight`` and ``class_weight`` (multiplied
    when both are given, as Keras does), or None when neither is."""
    if sample_weight is None and class_weight is None:
        return None
    rows = ys[0].shape[0]
    weights = np.ones(rows) if sample_weight is None else check_sample_weight(sample_weight, rows)
    if class_weight is not None:
        if len(ys) != 1:
            raise DataError(
                "class_weight applies to a model with one output; for several outputs give "
                "sample_weight"
            )
        labels = class_labels(ys[0], tasks[0])
        weights = weights * weights_from_classes(class_weight_table(class_weight, labels), labels)
    return weights
