"""Data on disk from the command line: relative paths, the spec's data object, the
recorded split, string labels through train, evaluate and predict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.cli.main import main

ROWS = 120


def write_cells(path: Path, rows: int = ROWS, seed: int = 0) -> np.ndarray:
    """A CSV with a header, three features and a named label ``diagnosis`` (malignant
    when the first two features sum above 0.6, so that the classes are unequal)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 3))
    labels = np.where(x[:, 0] + x[:, 1] > 0.6, "malignant", "benign")
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["a,b,c,diagnosis"]
    lines += [",".join(f"{v:.5f}" for v in r) + f",{label}" for r, label in zip(x, labels)]
    path.write_text("\n".join(lines) + "\n")
    return labels


def spec(data: Any, epochs: int = 3) -> dict[str, Any]:
    return {
        "name": "cells",
        "input_shape": [3],
        "seed": 5,
        "layers": [
            {"type": "dense", "units": 8, "activation": "relu"},
            {"type": "dense", "units": 1, "activation": "sigmoid"},
        ],
        "loss": "binary_crossentropy",
        "optimizer": {"type": "adam", "learning_rate": 0.05},
        "training": {"epochs": epochs, "batch_size": 16},
        "data": data,
    }


SPLIT = {
    "path": "data/cells.csv",
    "label": "diagnosis",
    "test_split": 0.25,
    "validation_split": 0.2,
}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``project/spec.json`` naming ``data/cells.csv`` relative to itself; the working
    directory is a sibling folder, ``elsewhere``."""
    folder = tmp_path / "project"
    write_cells(folder / "data" / "cells.csv")
    (folder / "spec.json").write_text(json.dumps(spec(SPLIT)))
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    return folder


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_spec_data_path_is_relative_to_the_spec_folder(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "validate", "../project/spec.json")
    assert code == 0 and "OK" in out, err
    code, out, err = run(capsys, "train", "../project/spec.json", "--out", "m.h5", "-q")
    assert code == 0, err
    assert "data data/cells.csv: 66 training samples" in out  # 120 - 30 test - 24 validation
    assert "split of data/cells.csv: 120 rows: 66 train, 24 validation, 30 test (stratified" in out
    assert "classes: 'benign', 'malignant' (labels 0-1)" in out
    model = mnn.load("m.h5")
    assert model.class_names == ["benign", "malignant"]
    assert model.data_record.path == str(project / "data" / "cells.csv")
    assert model.data_record.label == "diagnosis" and model.data_record.samples == ROWS
    assert len(model.history.history["val_loss"]) == 3


def test_a_command_line_data_path_is_relative_to_the_working_directory(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_cells(Path("local.csv"), rows=40, seed=1)
    code, out, err = run(
        capsys, "train", "../project/spec.json", "--data", "local.csv", "--out", "m.h5", "-q"
    )
    assert code == 0, err
    assert "split of local.csv: 40 rows: 22 train, 8 validation, 10 test" in out
    assert mnn.load("m.h5").data_record.path == str(Path.cwd() / "local.csv")


def test_validate_reports_a_missing_data_file_with_near_names(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "data" / "cells.csv").rename(project / "data" / "cell.csv")
    code, out, err = run(capsys, "validate", "../project/spec.json")
    assert code == 1 and "OK" not in out
    missing = str(project / "data" / "cells.csv")
    assert f"data.path: data file not found: {missing!r}; did you mean 'cell.csv'" in err
    (project / "plain.json").write_text(json.dumps(spec("nowhere/x.csv")))
    code, out, err = run(capsys, "validate", "../project/plain.json")
    assert code == 1
    assert f"data: data file not found: {str(project / 'nowhere' / 'x.csv')!r}" in err
    assert "does not exist" in err and "relative to the spec file's folder" in err
    code, _, err = run(capsys, "train", "../project/spec.json", "--out", "m.h5")
    assert code != 0 and f"data file not found: {missing!r}; did you mean 'cell.csv'" in err


def test_evaluate_scores_the_recorded_test_split_and_says_which_samples(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "train", "../project/spec.json", "--out", "m.h5", "-q")[0] == 0
    model = mnn.load("m.h5")
    split = model.data_record.split
    data = mnn.data.load_data(project / "data" / "cells.csv", label_column="diagnosis")
    expected = model.evaluate(data.x_train[split.test], data.y_train[split.test])
    code, out, err = run(capsys, "evaluate", "m.h5")
    assert code == 0, err
    assert out.startswith(
        "the 30 held-out samples of the recorded test split of data/cells.csv: "
        f"loss: {expected['loss']:.4f}"
    )
    code, out, _ = run(capsys, "evaluate", "m.h5", "--json")
    assert json.loads(out) == pytest.approx(expected)
    code, out, _ = run(capsys, "evaluate", "m.h5", "--data", "../project/data/cells.csv")
    assert out.startswith(
        "all 120 samples of ../project/data/cells.csv (no test split; without --data, "
        "evaluate scores the model's recorded test split): "
    )


def test_the_split_is_stratified_recorded_and_reused_on_resume(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "train", "../project/spec.json", "--out", "m.h5", "-q")[0] == 0
    with h5py.File("m.h5", "r") as f:
        stored = json.loads(f["data/split"][()])
        assert json.loads(f["data/class_names"][()]) == ["benign", "malignant"]
        assert json.loads(f["data/source"][()])["source"] == "data/cells.csv"
    labels = write_cells(Path("copy.csv"))  # the same rows
    classes = (labels == "malignant").astype(int)
    for part in ("test", "validation"):
        rows = np.array(stored[part])
        share = classes[rows].sum()
        assert abs(share - classes.mean() * len(rows)) <= 1
    code, out, err = run(capsys, "train", "--resume", "m.h5", "--epochs", "4", "-q")
    assert code == 0, err
    assert mnn.load("m.h5").data_record.split.test.tolist() == stored["test"]


def test_a_moved_data_file_falls_back_to_the_working_directory_or_says_it_is_gone(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "train", "../project/spec.json", "--out", "m.h5", "-q")[0] == 0
    Path("data").mkdir()
    (project / "data" / "cells.csv").rename(Path("data") / "cells.csv")
    code, out, err = run(capsys, "evaluate", "m.h5")
    assert code == 0, err
    assert "note: the recorded data file" in err and "from the working directory" in err
    assert out.startswith("the 30 held-out samples of the recorded test split")
    (Path("data") / "cells.csv").unlink()
    code, out, err = run(capsys, "evaluate", "m.h5")
    assert code != 0 and "the data this model was trained on is gone" in err
    assert "give the file with --data" in err


def test_all_samples_are_named_when_there_is_no_split(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    write_cells(Path("cells.csv"))
    Path("s.json").write_text(json.dumps(spec({"path": "cells.csv", "label": "diagnosis"})))
    assert run(capsys, "train", "s.json", "--out", "m.h5", "-q")[0] == 0
    code, out, _ = run(capsys, "evaluate", "m.h5")
    assert out.startswith("all 120 samples of cells.csv (no test split): loss: ")


def test_string_labels_round_trip_to_predict_labels(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "train", "../project/spec.json", "--out", "m.h5", "-q")[0] == 0
    model = mnn.load("m.h5")
    data = "../project/data/cells.csv"
    x = mnn.data.load_inputs(data, label_column="diagnosis")
    probabilities = model.predict(x)
    expected = np.where(probabilities[:, 0] > 0.5, "malignant", "benign")
    common = ("predict", "m.h5", "--input", data, "--label-column", "diagnosis")
    code, out, err = run(capsys, *common, "--output", "p.csv", "--labels")
    assert code == 0, err
    assert out.startswith(f"wrote {ROWS} predicted labels to p.csv (benign ")
    lines = Path("p.csv").read_text().splitlines()
    assert lines[0] == "label" and lines[1:] == expected.tolist()
    assert run(capsys, *common, "--output", "p.npy", "--labels")[0] == 0
    assert np.load("p.npy").tolist() == expected.tolist()
    assert run(capsys, *common, "--output", "q.npy")[0] == 0  # without: probabilities
    np.testing.assert_allclose(np.load("q.npy"), probabilities, rtol=1e-6)


def test_an_unseen_label_at_evaluation_is_named(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "train", "../project/spec.json", "--out", "m.h5", "-q")[0] == 0
    Path("new.csv").write_text("a,b,c,diagnosis\n1,2,3,benign\n0,0,0,unsure\n")
    code, _, err = run(capsys, "evaluate", "m.h5", "--data", "new.csv")
    assert code != 0
    assert "1 label(s) the model does not know: 'unsure'" in err
    assert "its classes are 'benign', 'malignant'" in err


def test_labels_need_a_model_with_class_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("d.csv").write_text("a,b,c,y\n" + "\n".join(f"{i},1,2,{i % 2}" for i in range(20)))
    Path("s.json").write_text(json.dumps(spec("d.csv", epochs=1)))
    assert run(capsys, "train", "s.json", "--out", "m.h5", "-q")[0] == 0
    assert mnn.load("m.h5").class_names is None
    code, _, err = run(
        capsys, "predict", "m.h5", "--input", "d.csv", "--label-column", "y",
        "--output", "p.csv", "--labels",
    )  # fmt: skip
    assert code != 0 and "--labels needs class names, and m.h5 has none" in err
    Path("named.csv").write_text("a,b,c,y\n1,2,3,cat\n")
    code, _, err = run(capsys, "evaluate", "m.h5", "--data", "named.csv")
    assert code != 0 and "trained on numeric labels" in err
