"""``modular-nn tune`` through the real entry point: a search on builtin:moons with two
jobs, its best spec trained alone to the same figure, the report and plots, and the errors a
user meets first (a path that is not in the spec, optuna missing)."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
from pathlib import Path
from typing import Any

import pytest

import modular_nn as mnn
from modular_nn.cli.main import main

pytest.importorskip("optuna")  # the [tune] extra; the dev extra installs it

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "tune"
SPACE = json.loads((FIXTURES / "moons.space.json").read_text())
SPEC = json.loads((FIXTURES / "moons.json").read_text())
# the metric and direction come from early stopping (which never stops this run)
SPEC["training"].update(epochs=15, early_stopping={"monitor": "val_accuracy", "patience": 15})


def write(folder: Path, spec: dict[str, Any], space: dict[str, Any]) -> list[str]:
    (folder / "spec.json").write_text(json.dumps(spec))
    (folder / "space.json").write_text(json.dumps(space))
    return ["spec.json", "--space", "space.json"]


def _threads(jobs: int) -> str:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return str(max(1, (cores or 1) // jobs))


@pytest.mark.slow
def test_tune_on_moons_finds_a_spec_that_trains_alone_to_the_same_figure(
    cli: Any, tmp_path: Path
) -> None:
    search = write(tmp_path, SPEC, SPACE)
    tuned = cli("tune", *search, "--trials", "8", "--jobs", "2", "--out", "out", cwd=tmp_path)
    assert tuned.returncode == 0, tuned.stdout + tuned.stderr
    assert "2 jobs" in tuned.stdout and "val_accuracy (maximize)" in tuned.stdout
    out = tmp_path / "out"
    with (out / "trials.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 8 and {"layers[hidden].units", "optimizer.learning_rate"} <= set(rows[0])
    complete = [r for r in rows if r["state"] == "complete"]
    best = max(complete, key=lambda r: float(r["value"]))
    assert float(best["value"]) >= 0.95
    assert f"best trial {best['number']}: val_accuracy {float(best['value']):.4f}" in tuned.stdout

    assert cli("validate", "out/best.json", cwd=tmp_path).returncode == 0
    spec = json.loads((out / "best.json").read_text())
    assert spec["layers"][0]["units"] == int(best["layers[hidden].units"])
    assert spec["data"] == "builtin:moons"
    saved = mnn.load(out / "best.h5")
    assert saved.history.history["val_accuracy"][-1] == float(best["value"])

    # trained alone, with the BLAS threads its trial had: the same figure, the same weights
    env = {**os.environ, "OMP_NUM_THREADS": _threads(2), "OPENBLAS_NUM_THREADS": _threads(2)}
    alone = cli("train", "out/best.json", "--out", "alone.h5", "-q", env=env, cwd=tmp_path)
    assert alone.returncode == 0, alone.stderr
    again = mnn.load(tmp_path / "alone.h5")
    assert again.history.history["val_accuracy"][-1] == float(best["value"])
    assert f"val_accuracy: {float(best['value']):.4f}" in alone.stdout
    for name, value in saved.get_weights().items():
        assert (again.get_weights()[name] == value).all(), name

    plots = importlib.util.find_spec("matplotlib") is not None  # a dev dependency
    report = cli("tune", "--report", "out", *(["--plot"] if plots else []), cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    assert "8 trials finished" in report.stdout
    assert "number  state" in report.stdout and "layers[hidden].units" in report.stdout
    assert "parameter importances:" in report.stdout
    assert f"best trial {best['number']}" in report.stdout
    if plots:
        assert (out / "history.png").read_bytes()[:4] == b"\x89PNG"


def test_a_path_not_in_the_spec_is_refused_before_any_trial(cli: Any, tmp_path: Path) -> None:
    space = {
        **SPACE,
        "optimizer.learnig_rate": {"float": [0.01, 0.1]},
        "layers[hiden].units": {"int": [4, 8]},
    }
    result = cli("tune", *write(tmp_path, SPEC, space), "--out", "out", cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "did you mean 'optimizer.learning_rate'?" in result.stderr
    assert "did you mean 'layers[hidden].units'?" in result.stderr
    assert not (tmp_path / "out" / "tune.db").exists()


def test_an_empty_range_or_choice_is_refused(cli: Any, tmp_path: Path) -> None:
    space = {"layers[0].units": {"int": [32, 8]}, "layers[0].activation": {"choice": []}}
    result = cli("tune", *write(tmp_path, SPEC, space), "--out", "out", cwd=tmp_path)
    assert result.returncode == 1
    assert "layers[0].units: expected lo <= hi, received the empty range [32, 8]" in result.stderr
    assert "layers[0].activation: expected at least one choice" in result.stderr


def test_validation_data_is_required(cli: Any, tmp_path: Path) -> None:
    spec = {**SPEC, "training": {"epochs": 2}}
    result = cli("tune", *write(tmp_path, spec, SPACE), "--out", "out", cwd=tmp_path)
    assert result.returncode == 1
    assert "'val_loss', a validation value" in result.stderr
    assert "--validation-split F" in result.stderr


def test_an_unknown_metric_is_refused_before_any_trial(cli: Any, tmp_path: Path) -> None:
    search = write(tmp_path, SPEC, SPACE)
    result = cli("tune", *search, "--metric", "val_acc", "--out", "out", cwd=tmp_path)
    assert result.returncode == 1
    assert "expected --metric to be one of the values training reports" in result.stderr
    assert "val_accuracy" in result.stderr and "received: 'val_acc'" in result.stderr


def test_without_optuna_tune_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(__import__("sys").modules, "optuna", None)  # import optuna fails
    search = write(tmp_path, SPEC, SPACE)
    monkeypatch.chdir(tmp_path)
    assert main(["tune", *search]) == 1
    assert capsys.readouterr().err == (
        'error: tuning needs optuna, which is not installed: pip install "modular-nn[tune]"\n'
    )


def test_report_needs_a_search_folder(cli: Any, tmp_path: Path) -> None:
    result = cli("tune", "--report", str(tmp_path))
    assert result.returncode == 1
    assert "expected a search folder holding tune.json" in result.stderr
