"""Metrics reported by ``fit`` and ``evaluate``: registered components, exact over batches.

Metrics are plugins (``register_metrics``); the built-ins live here, one file per
metric, and register through ``modular_nn.builtins`` like every other component. See
``modular_nn.components.metric`` for the streaming API (``reset``, ``update``,
``result``, ``state``, ``merge``).

In a spec, ``training.metrics`` lists names (``"accuracy"``) or objects with options
(``{"type": "top_k_accuracy", "k": 3}``, and ``"name"`` for the key in the logs), or,
with several outputs, such lists keyed by output name.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from typing import Any

from modular_nn.components.metric import CLASSIFICATION_TASKS, Metric
from modular_nn.errors import PluginError, SpecError

#: One entry of ``training.metrics``: a name, ``{"type": name, **options}`` or a metric.
MetricEntry = str | dict[str, Any] | Metric


def check_metric_names(names: Iterable[Any]) -> None:
    """Raise ``ValueError`` (pydantic turns it into a spec issue) naming every unknown
    metric, with close matches."""
    from modular_nn.registry import get_registry

    registry = get_registry()
    problems = []
    for entry in names:
        name = entry.get("type") if isinstance(entry, dict) else entry
        if isinstance(entry, Metric):
            continue
        try:
            registry.get("metrics", name)
        except PluginError as exc:
            problems.append(str(exc))
    if problems:
        raise ValueError("; ".join(problems))


def default_metrics(task: str) -> list[str]:
    """Metrics reported when a spec names none: accuracy for classification."""
    return ["accuracy"] if task in CLASSIFICATION_TASKS else []


def metric_log_name(entry: MetricEntry) -> str:
    """The key of an entry's value in the logs: its ``name``, else its type."""
    if isinstance(entry, Metric):
        return entry.name
    if isinstance(entry, dict):
        return str(entry.get("name") or entry.get("type"))
    return str(entry)


def create_metric(entry: MetricEntry) -> Metric:
    """A new, unbound metric from a name or ``{"type": name, "name": ..., **options}``
    (``SpecError`` for an unknown name or bad options)."""
    from modular_nn.registry import get_registry

    if isinstance(entry, Metric):
        return copy.deepcopy(entry)  # metrics keep running sums: one object per use
    ref = {"type": entry} if isinstance(entry, str) else dict(entry)
    name = ref.pop("name", None)
    try:
        metric = get_registry().create("metrics", ref)
    except PluginError as exc:
        raise SpecError(str(exc)) from None
    if name:
        metric.name = str(name)
    return metric


def make_metrics(
    names: Sequence[MetricEntry] | None,
    task: str,
    logits: bool,
    output_shape: Sequence[int] | None = None,
) -> list[Metric]:
    """Metrics bound to an output of ``task`` from spec entries (None: the defaults).

    Raises ``SpecError`` for unknown names, bad options or two metrics with one log name,
    and ``TrainingError`` for a metric that does not apply to ``task``."""
    entries = default_metrics(task) if names is None else list(names)
    seen = [metric_log_name(entry) for entry in entries]
    twice = sorted({n for n in seen if seen.count(n) > 1})
    if twice:
        raise SpecError(
            f"metric {twice[0]!r} is listed twice for one output; give each entry its own "
            '"name" (the key in the logs), such as {"type": "precision", "average": '
            '"macro", "name": "macro_precision"}'
        )
    return [create_metric(entry).bind(task, logits, output_shape) for entry in entries]


__all__ = [
    "CLASSIFICATION_TASKS",
    "Metric",
    "check_metric_names",
    "create_metric",
    "default_metrics",
    "make_metrics",
    "metric_log_name",
]
