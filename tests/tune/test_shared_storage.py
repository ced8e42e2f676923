"""Two ``tune`` processes started at once on one SQLite file share one study, as processes
on several machines pointed at one database do: no trial is lost or run twice, and the study
holds exactly the number of trials asked for."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.tune.storage import counts

pytestmark = pytest.mark.slow


def test_two_processes_share_one_study(
    tmp_path: Path, write_search: Any, trials_of: Any, start_tune: Any
) -> None:
    storage = f"sqlite:///{(tmp_path / 'shared.db').resolve()}"
    search = write_search(tmp_path)
    procs = [
        start_tune(
            *search,
            "--trials",
            "6",
            "--jobs",
            "1",
            "--storage",
            storage,
            "--out",
            str(tmp_path / f"machine{i}"),
            "--heartbeat",
            "2",
        )  # fmt: skip
        for i in (1, 2)
    ]
    outputs = []
    for proc in procs:
        output, _ = proc.communicate(timeout=600)
        assert proc.returncode == 0, output
        outputs.append(output)

    outcome = r"^trial (\d+)(?: \(rerun of \d+\))?: (?!dropped)"  # not a late heartbeat's
    ran = [[int(n) for n in re.findall(outcome, out, re.M)] for out in outputs]
    assert all(ran), outputs  # both processes ran trials
    assert not set(ran[0]) & set(ran[1])  # none twice
    trials = trials_of(storage)
    finished = sorted(t.number for t in trials if counts(t))
    assert sorted(ran[0] + ran[1]) == finished  # every trial run is in the study, none lost
    assert len(finished) == 6
    for trial in (t for t in trials if not counts(t)):
        if trial.state.name == "FAIL":  # taken for dead on a heavily loaded machine: rerun
            reruns = [t for t in trials if t.system_attrs.get("failed_trial") == trial.number]
            assert any(counts(t) for t in reruns), trial
        else:  # given back before it started (two processes asked for the last one at once)
            assert trial.state.name == "WAITING" and not trial.params, trial
    workers = {t.user_attrs["worker"] for t in trials if counts(t)}
    assert len(workers) == 2
    best = [(tmp_path / f"machine{i}" / "best.json").read_text() for i in (1, 2)]
    assert best[0] == best[1]
    # best.h5: copied where the best trial ran, trained again (same seed) on the other
    weights = [mnn.load(tmp_path / f"machine{i}" / "best.h5").get_weights() for i in (1, 2)]
    assert weights[0].keys() == weights[1].keys()
    for name in weights[0]:
        np.testing.assert_array_equal(weights[0][name], weights[1][name])
    assert sum("training trial" in out and "again for best.h5" in out for out in outputs) == 1
