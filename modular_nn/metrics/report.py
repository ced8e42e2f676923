"""Per-class precision, recall, F1 and support, and the confusion matrix, of a model's
classification outputs (``modular-nn evaluate --report``), as scikit-learn's
``classification_report`` and ``confusion_matrix`` lay them out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from modular_nn.components.metric import CLASSIFICATION_TASKS
from modular_nn.metrics.base import ConfusionMetric, per_class_scores


class _Confusion(ConfusionMetric):
    """Only the confusion matrix (not registered)."""

    type_name = "confusion_matrix"

    def result(self) -> float:
        return float(np.trace(self.confusion()) / max(self.confusion().sum(), 1))


def confusion_matrices(
    model: Any, x: Any, y: Any, batch_size: int | None = None
) -> dict[str, np.ndarray]:
    """The confusion matrix (rows: true class, columns: predicted class) of each of
    ``model``'s classification outputs on ``x``, ``y``, by output name."""
    _, ys = model._prepare_xy(x, y)
    predicted = model.predict(x, batch_size=batch_size) if batch_size else model.predict(x)
    outputs = predicted if isinstance(predicted, dict) else {model.output_names[0]: predicted}
    result = {}
    for head, target in zip(model.heads.heads, ys):
        if head.loss.task not in CLASSIFICATION_TASKS:
            continue
        logits = bool(getattr(head.loss.config, "from_logits", False))
        metric = _Confusion().bind(head.loss.task, logits, head.output_shape)
        metric.update(np.asarray(outputs[head.name]), target)
        result[head.name] = metric.confusion().astype(np.int64)
    return result


def format_report(
    matrix: np.ndarray, class_names: Sequence[str] | None = None, title: str = ""
) -> str:
    """The per-class table, the averages and the confusion matrix as text."""
    classes = len(matrix)
    names = list(class_names) if class_names and len(class_names) == classes else None
    labels = names or [str(k) for k in range(classes)]
    scores = per_class_scores(matrix.astype(np.float64))
    width = max([12, *(len(label) + 2 for label in labels)])
    lines = [title] if title else []
    lines.append(
        f"{'class':<{width}}{'precision':>10}{'recall':>10}{'f1-score':>10}{'support':>10}"
    )
    for k, label in enumerate(labels):
        lines.append(
            f"{label:<{width}}{scores['precision'][k]:>10.4f}{scores['recall'][k]:>10.4f}"
            f"{scores['f1'][k]:>10.4f}{int(scores['support'][k]):>10d}"
        )
    total = int(matrix.sum())
    support = scores["support"]
    weights = support / total if total else support
    present = (matrix.sum(axis=0) + matrix.sum(axis=1)) > 0
    lines.append("")
    accuracy = np.trace(matrix) / total if total else 0.0
    lines.append(f"{'accuracy':<{width}}{'':>10}{'':>10}{accuracy:>10.4f}{total:>10d}")
    for name, mean in (
        ("macro avg", lambda v: v[present].mean() if present.any() else 0.0),
        ("weighted avg", lambda v: (v * weights).sum()),
    ):
        lines.append(
            f"{name:<{width}}{mean(scores['precision']):>10.4f}{mean(scores['recall']):>10.4f}"
            f"{mean(scores['f1']):>10.4f}{total:>10d}"
        )
    lines.append("")
    lines.append("confusion matrix (rows: true class, columns: predicted class)")
    cell = max([len(str(int(matrix.max(initial=0)))), *(len(label) for label in labels)]) + 2
    lines.append(" " * width + "".join(f"{label:>{cell}}" for label in labels))
    for label, row in zip(labels, matrix):
        lines.append(f"{label:<{width}}" + "".join(f"{int(v):>{cell}d}" for v in row))
    return "\n".join(lines)


def classification_report(model: Any, x: Any, y: Any, batch_size: int | None = None) -> str:
    """The report of every classification output of ``model`` ("" when it has none)."""
    matrices = confusion_matrices(model, x, y, batch_size)
    several = len(model.output_names) > 1
    names = getattr(model, "class_names", None)
    parts = [
        format_report(matrix, names if not several else None, f"output {name}" if several else "")
        for name, matrix in matrices.items()
    ]
    return "\n\n".join(parts)
