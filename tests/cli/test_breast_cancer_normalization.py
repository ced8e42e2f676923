"""Issue 16's first finding: scikit-learn's breast-cancer data exported raw to CSV and
trained with the CLI alone. A ``normalization`` first layer adapted to the training
file must reach the held-out accuracy of the same model trained on data standardised
by hand (scikit-learn's ``StandardScaler`` fit on the training part), within one point.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.cli.main import main
from modular_nn.data import load_data

datasets = pytest.importorskip("sklearn.datasets")  # the dev extra; bundled, no download
model_selection = pytest.importorskip("sklearn.model_selection")
preprocessing = pytest.importorskip("sklearn.preprocessing")


def _spec(normalize: bool) -> dict:
    first = [{"type": "normalization", "adapt": True}] if normalize else []
    return {
        "name": "breast_cancer",
        "input_shape": [30],
        "seed": 3,
        "layers": [
            *first,
            {"type": "dense", "units": 16, "activation": "relu"},
            {"type": "dense", "units": 1, "activation": "sigmoid"},
        ],
        "loss": "binary_crossentropy",
        "optimizer": {"type": "adam", "learning_rate": 0.01},
        "training": {"epochs": 40, "batch_size": 32},
    }


def _write_csv(path: Path, x: np.ndarray, y: np.ndarray, names: list[str]) -> Path:
    header = ",".join([*(n.replace(" ", "_") for n in names), "target"])
    np.savetxt(
        path, np.column_stack([x, y]), delimiter=",", header=header, comments="", fmt="%.10g"
    )
    return path


def _train_and_score(folder: Path, name: str, spec: dict, train: Path, test: Path) -> float:
    spec_path = folder / f"{name}.json"
    spec_path.write_text(json.dumps(spec))
    out = folder / f"{name}.h5"
    assert main(["train", str(spec_path), "--data", str(train), "--out", str(out), "-q"]) == 0
    held_out = load_data(str(test))
    return mnn.load(out).evaluate(held_out.x_train, held_out.y_train)["accuracy"]


@pytest.mark.slow
def test_normalization_on_raw_csv_matches_standardised_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = datasets.load_breast_cancer()
    x_train, x_test, y_train, y_test = model_selection.train_test_split(
        data.data, data.target, test_size=0.2, random_state=0, stratify=data.target
    )
    names = list(data.feature_names)
    raw_train = _write_csv(tmp_path / "raw_train.csv", x_train, y_train, names)
    raw_test = _write_csv(tmp_path / "raw_test.csv", x_test, y_test, names)
    scaler = preprocessing.StandardScaler().fit(x_train)
    std_train = _write_csv(tmp_path / "std_train.csv", scaler.transform(x_train), y_train, names)
    std_test = _write_csv(tmp_path / "std_test.csv", scaler.transform(x_test), y_test, names)

    raw = _train_and_score(tmp_path, "raw", _spec(True), raw_train, raw_test)
    standardised = _train_and_score(tmp_path, "std", _spec(False), std_train, std_test)
    capsys.readouterr()
    print(f"held-out accuracy: raw CSV + normalization {raw:.4f}, standardised {standardised:.4f}")
    assert standardised > 0.93  # the model learns the task at all
    assert abs(raw - standardised) <= 0.01, (raw, standardised)
    # the adapted statistics are the scaler's (biased variance, training part only)
    layer = mnn.load(tmp_path / "raw.h5").get_layer("normalization_1")
    np.testing.assert_allclose(layer.buffers["mean"], scaler.mean_, rtol=1e-5)
    np.testing.assert_allclose(layer.buffers["variance"], scaler.var_, rtol=1e-4)
