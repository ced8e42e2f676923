"""``modular-nn tune`` on a spec whose ``data`` is an object (path, label, test and validation
split): the path resolves against the spec's folder, the trials train on the split
``modular-nn train`` draws, and ``best.json``/``best.h5`` keep the object, the class names and
the recorded test split."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import modular_nn as mnn
from modular_nn.data import load_builtin

SCRIPT = Path(sys.executable).with_name("modular-nn")

SPEC: dict[str, Any] = {
    "name": "moons_names",
    "input_shape": [2],
    "seed": 5,
    "layers": [
        {"type": "normalization", "adapt": True},
        {"name": "hidden", "type": "dense", "units": 8, "activation": "relu"},
        {"type": "dense", "units": 2, "activation": "softmax"},
    ],
    "loss": "sparse_categorical_crossentropy",
    "optimizer": {"type": "adam", "learning_rate": 0.02},
    "training": {"epochs": 3, "batch_size": 32, "metrics": ["accuracy"]},
    "data": {
        "path": "data/moons.csv",
        "label": "shape",
        "test_split": 0.2,
        "validation_split": 0.25,
    },
}


def _write_project(folder: Path) -> None:
    """``folder/spec.json`` and ``folder/data/moons.csv``: the moons with a header and the
    labels as names (``inner``, ``outer``)."""
    data = load_builtin("moons")
    (folder / "data").mkdir(parents=True)
    with (folder / "data" / "moons.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["x1", "x2", "shape"])
        for (a, b), label in zip(data.x_train[:200], data.y_train[:200].ravel()):
            writer.writerow([f"{a:.6f}", f"{b:.6f}", "outer" if label else "inner"])
    (folder / "spec.json").write_text(json.dumps(SPEC))
    (folder / "space.json").write_text(json.dumps({"layers[hidden].units": {"int": [4, 16]}}))


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    base = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "modular_nn.cli.main"]
    return subprocess.run([*base, *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_a_spec_whose_data_is_an_object_is_searched_as_train_would_train_it(
    tmp_path: Path, tune: Callable[..., Any]
) -> None:
    project = tmp_path / "project"
    _write_project(project)
    # run from elsewhere: the data path is the spec folder's, not the working directory's
    result = tune(
        "project/spec.json",
        "--space",
        "project/space.json",
        "--trials",
        "2",
        "--jobs",
        "1",
        "--out",
        "out",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "val_loss (minimize)" in result.stdout and "best trial" in result.stdout

    best = json.loads((tmp_path / "out" / "best.json").read_text())
    assert best["data"]["path"] == str(project / "data" / "moons.csv")
    assert best["data"]["label"] == "shape"
    assert (best["data"]["test_split"], best["data"]["validation_split"]) == (0.2, 0.25)
    assert best["training"]["validation_split"] == 0.0  # the split is the data object's

    saved = mnn.load(tmp_path / "out" / "best.h5")
    assert saved.class_names == ["inner", "outer"]
    record = saved.data_record
    assert record is not None and record.split is not None
    assert (len(record.split.test), len(record.split.validation)) == (40, 50)

    # the trial trained on the rows train draws: best.json trained alone gives its figure
    alone = cli("train", "out/best.json", "--out", "alone.h5", "-q", cwd=tmp_path)
    assert alone.returncode == 0, alone.stderr
    assert "200 rows: 110 train, 50 validation, 40 test (stratified, seed 5)" in alone.stdout
    again = mnn.load(tmp_path / "alone.h5")
    assert again.history.history["val_loss"] == saved.history.history["val_loss"]
    assert list(again.data_record.split.test) == list(record.split.test)

    scored = cli("evaluate", "out/best.h5", cwd=tmp_path)
    assert scored.returncode == 0, scored.stderr
    assert "the 40 held-out samples of the recorded test split" in scored.stdout


def test_validation_split_on_the_command_line_replaces_the_data_objects(
    tmp_path: Path, tune: Callable[..., Any]
) -> None:
    project = tmp_path / "project"
    _write_project(project)
    spec = {**SPEC, "data": {**SPEC["data"], "validation_split": 0.0}}
    (project / "spec.json").write_text(json.dumps(spec))
    args = ["project/spec.json", "--space", "project/space.json", "--trials", "1"]
    refused = tune(*args, "--out", "refused", cwd=tmp_path)
    assert refused.returncode == 1
    assert "the data object's validation_split" in refused.stderr

    given = tune(*args, "--validation-split", "0.3", "--out", "out", cwd=tmp_path)
    assert given.returncode == 0, given.stdout + given.stderr
    best = json.loads((tmp_path / "out" / "best.json").read_text())
    assert best["data"]["validation_split"] == 0.3
    assert best["training"]["validation_split"] == 0.0
