"""The kit's metric properties: every built-in metric passes them, and planted bugs (an
average of per-batch values, a growing state declared additive, a task check that lets
everything through) fail exactly the property they break."""

from __future__ import annotations

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.metrics.accuracy import Accuracy
from modular_nn.metrics.auc import AUC
from modular_nn.metrics.r2 import R2Score
from modular_nn.registry import builtins_only_registry
from modular_nn.testing import check_component


class BatchAveraged(Accuracy):
    """Averages each batch's accuracy: wrong whenever batches differ in size."""

    type_name = "broken.batch_averaged"

    def reset(self) -> None:
        super().reset()
        self.batch_values: list[float] = []

    def update(self, y_pred, y_true) -> None:
        hits = self.values(y_pred, y_true)
        self.batch_values.append(float(np.mean(hits)))
        self.total, self.count = sum(self.batch_values), len(self.batch_values)


class GrowingButAdditive(AUC):
    """Keeps every score (its state grows) but claims a fixed-length, summed state."""

    type_name = "broken.growing_additive"
    additive = True


class AcceptsEveryTask(R2Score):
    """Declares regression only, yet binds to any output."""

    type_name = "broken.accepts_every_task"

    def check_task(self, task: str) -> None:
        return None


class BrokenMetrics:
    @mnn.hookimpl
    def register_metrics(self, register):
        for cls in (BatchAveraged, GrowingButAdditive, AcceptsEveryTask):
            register(cls)


@pytest.fixture(scope="module")
def registry():
    registry = builtins_only_registry()
    assert registry.register_plugin(BrokenMetrics(), provider="broken")
    return registry


def failures(name: str, registry) -> dict[str, str]:
    report = check_component("metric", name, registry=registry)
    return {r.property: r.detail for r in report.failures}


def test_an_average_of_batch_values_fails_streaming(registry) -> None:
    found = failures("broken.batch_averaged", registry)
    assert set(found) == {"streaming", "merge"}  # its halves do not merge to the whole either
    assert "never average per-batch values" in found["streaming"]


def test_a_growing_state_declared_additive_fails_merge(registry) -> None:
    found = failures("broken.growing_additive", registry)
    assert set(found) == {"merge"}
    assert "set additive = False" in found["merge"]


def test_a_metric_binding_to_tasks_it_does_not_declare_fails_the_task_check(registry) -> None:
    found = failures("broken.accepts_every_task", registry)
    assert set(found) == {"task check"}
    assert "bind('binary') was accepted" in found["task check"]


def test_every_builtin_metric_passes_each_property() -> None:
    for name in mnn.available("metrics"):
        report = check_component("metrics", name)
        passed = {r.property for r in report.results if r.status == "pass"}
        assert {"streaming", "merge", "reset", "spec round trip"} <= passed, str(report)
