"""A tune killed with SIGKILL resumes when the same command runs again: the finished trials
are kept, the ones that were running are failed and run again, and the study reaches its
target number of trials."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from modular_nn.tune.storage import counts

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and a worker dying with it"),
]


def _wait_for(condition: Any, proc: subprocess.Popen[str] | None, what: str) -> Any:
    """Poll ``condition()`` until it returns something true."""
    deadline = time.monotonic() + 300  # a bound for a stuck run, not a speed requirement
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        if proc is not None and proc.poll() is not None:
            output = proc.stdout.read() if proc.stdout else ""
            pytest.fail(f"tune ended before {what}:\n{output}")
        time.sleep(0.05)
    pytest.fail(f"tune never reached {what}")


def _study(storage: str) -> Any:
    import optuna

    try:
        return optuna.load_study(study_name="moons_tune", storage=storage)
    except Exception:  # noqa: BLE001 - not created yet
        return None


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_a_killed_tune_resumes_where_it_stopped(
    tmp_path: Path,
    moons_spec: dict[str, Any],
    write_search: Any,
    trials_of: Any,
    tune: Any,
    start_tune: Any,
) -> None:
    out = tmp_path / "out"
    storage = f"sqlite:///{(out / 'tune.db').resolve()}"
    spec = {**moons_spec, "training": {**moons_spec["training"], "epochs": 30}}  # ~2s a trial
    args = [
        *write_search(tmp_path, spec),
        "--trials", "6", "--jobs", "2", "--out", str(out),
        "--heartbeat", "2", "--pruner", "none",
    ]  # fmt: skip
    proc = start_tune(*args)
    _wait_for(lambda: (out / "tune.db").exists(), proc, "its study's creation")
    study = _wait_for(lambda: _study(storage), proc, "its study's creation")

    def one_done_one_running() -> bool:
        trials = study.get_trials(deepcopy=False)
        done = any(t.state.name == "COMPLETE" for t in trials)
        return done and any(t.state.name == "RUNNING" and len(t.params) == 3 for t in trials)

    _wait_for(one_done_one_running, proc, "a finished trial and a running one with its values")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    trials = trials_of(storage)
    finished = {t.number: t.value for t in trials if counts(t)}
    interrupted = [t for t in trials if t.state.name == "RUNNING"]
    assert finished and interrupted, [t.state.name for t in trials]
    assert len(finished) < 6
    workers = {
        int(t.user_attrs["worker"].rsplit(":", 1)[1]) for t in trials if "worker" in t.user_attrs
    }
    _wait_for(lambda: all(map(_gone, workers)), None, "its workers' end (they die with it)")

    resumed = tune(*args)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    after = {t.number: t for t in trials_of(storage)}
    for number, value in finished.items():  # kept as they were, not run again
        assert after[number].state.name == "COMPLETE" and after[number].value == value
    for trial in interrupted:  # failed, and run again with the same values
        assert after[trial.number].state.name == "FAIL"
        assert "error" not in after[trial.number].user_attrs
        reruns = [t for t in after.values() if t.system_attrs.get("failed_trial") == trial.number]
        assert len(reruns) == 1 and counts(reruns[0])
        if trial.params:  # (a trial may be killed before its values were all drawn)
            assert reruns[0].params == after[trial.number].params
        assert f"trial {reruns[0].number} (rerun of {trial.number})" in resumed.stdout
    assert len([t for t in after.values() if counts(t)]) == 6
    assert not [t for t in after.values() if t.state.name == "RUNNING"]
    assert "6 of 6" not in resumed.stdout and (out / "best.json").exists()
