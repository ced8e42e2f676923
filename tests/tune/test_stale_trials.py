"""A trial whose process died before its first heartbeat is failed and queued again."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

optuna = pytest.importorskip("optuna", reason="the tune tests need optuna (the [tune] extra)")

from modular_nn.tune.storage import fail_stale, open_storage  # noqa: E402


def test_a_running_trial_without_heartbeat_is_failed_and_retried(tmp_path: Path) -> None:
    storage = open_storage(f"sqlite:///{tmp_path / 'tune.db'}", 2)
    study = optuna.create_study(study_name="s", storage=storage)
    trial = study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})  # no heartbeat
    fresh = study.get_trials(deepcopy=False)
    fail_stale(study)  # younger than the grace period: left running
    assert [t.state.name for t in study.get_trials()] == ["RUNNING"]
    backend = getattr(study._storage, "_backend", study._storage)
    old = datetime.datetime.now() - datetime.timedelta(seconds=60)
    with backend.engine.begin() as connection:
        import sqlalchemy

        connection.execute(
            sqlalchemy.text("UPDATE trials SET datetime_start = :old WHERE trial_id = :id"),
            {"old": old, "id": fresh[0]._trial_id},
        )
    fail_stale(study)
    trials = study.get_trials()
    assert [t.state.name for t in trials] == ["FAIL", "WAITING"]
    assert trials[1].system_attrs.get("failed_trial") == trial.number
    assert trials[1].params == trials[0].params
