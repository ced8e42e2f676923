"""``modular-nn train``, ``evaluate``, ``predict`` and ``inspect --plot`` through the real
entry point, resuming a run exactly, and every user error as one clean message."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.data import load_builtin

SPEC = {
    "name": "moons_small",
    "input_shape": [2],
    "seed": 7,
    "layers": [
        {"type": "dense", "units": 16, "activation": "relu"},
        {"type": "dropout", "rate": 0.1},
        {"type": "dense", "units": 1, "activation": "sigmoid"},
    ],
    "loss": "binary_crossentropy",
    "optimizer": {
        "type": "adam",
        "learning_rate": 0.02,
        "schedule": {"type": "exponential", "decay_steps": 50, "decay_rate": 0.9},
    },
    "training": {"epochs": 4, "batch_size": 32, "validation_split": 0.2},
    "data": "builtin:moons",
}


def write_spec(tmp_path: Path, **changes: object) -> str:
    path = tmp_path / "spec.json"
    path.write_text(json.dumps({**SPEC, **changes}))
    return str(path)


def assert_clean_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr


def test_train_evaluate_predict_and_inspect(cli: Any, tmp_path: Path) -> None:
    plots = importlib.util.find_spec("matplotlib") is not None  # a dev dependency
    spec = write_spec(tmp_path)
    plot = ["--plot", "train.png"] if plots else []
    trained = cli("train", spec, "--out", "m.h5", *plot, cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    out = trained.stdout
    assert "Epoch 1/4 - " in out and "Epoch 4/4 - " in out and "\r" not in out  # not a tty
    assert "val_loss: " in out and "val_accuracy: " in out
    assert "held-out accuracy: " in out and "saved m.h5 (4 epochs" in out
    assert not plots or (tmp_path / "train.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    model = mnn.load(tmp_path / "m.h5")
    assert model.epochs_done == 4 and len(model.history.history["val_loss"]) == 4
    moons = load_builtin("moons")
    expected = model.evaluate(moons.x_test, moons.y_test)
    evaluated = cli("evaluate", "m.h5", "--data", "builtin:moons", "--json", cwd=tmp_path)
    assert json.loads(evaluated.stdout) == pytest.approx(expected)
    plain = cli("evaluate", "m.h5", cwd=tmp_path)  # the spec's data: the test split
    assert "the 200 held-out samples of builtin:moons's test split: loss: " in plain.stdout
    assert f"accuracy: {expected['accuracy']:.4f}" in out

    np.save(tmp_path / "x.npy", moons.x_test[:7])
    for name in ("p.npy", "p.csv", "Q.NPY"):
        done = cli("predict", "m.h5", "--input", "x.npy", "--output", name, cwd=tmp_path)
        assert done.returncode == 0 and "wrote 7 predictions of shape (1,)" in done.stdout
    want = model.predict(moons.x_test[:7])
    np.testing.assert_array_equal(np.load(tmp_path / "p.npy"), want)
    np.testing.assert_array_equal(np.load(tmp_path / "Q.NPY"), want)  # the name it reported
    assert not (tmp_path / "Q.NPY.npy").exists()
    csv = np.loadtxt(tmp_path / "p.csv", delimiter=",", skiprows=1, ndmin=2)
    np.testing.assert_allclose(csv, want, rtol=1e-6)
    assert (tmp_path / "p.csv").read_text().startswith("output_0\n")

    inspected = cli("inspect", "m.h5", *(["--plot", "inspect.png"] if plots else []), cwd=tmp_path)
    assert inspected.returncode == 0 and "moons_small" in inspected.stdout
    if plots:
        assert "saved plot inspect.png" in inspected.stdout
        assert (tmp_path / "inspect.png").stat().st_size > 1000


def test_resume_continues_the_run_exactly(cli: Any, tmp_path: Path) -> None:
    spec = write_spec(tmp_path)
    assert cli("train", spec, "--out", "full.h5", "-q", cwd=tmp_path).returncode == 0
    half = cli(
        "train", spec, "--epochs", "2", "--out", "half.h5", "--checkpoint-every", "1",
        "--keep", "1", cwd=tmp_path,
    )  # fmt: skip
    assert half.returncode == 0, half.stderr
    assert sorted(p.name for p in tmp_path.glob("half-epoch*.h5")) == ["half-epoch0002.h5"]
    resumed = cli("train", "--resume", "half.h5", "--out", "resumed.h5", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming at epoch 3 of 4" in resumed.stdout and "Epoch 3/4" in resumed.stdout
    full, again = mnn.load(tmp_path / "full.h5"), mnn.load(tmp_path / "resumed.h5")
    assert again.epochs_done == 4 and again.history.epoch == [1, 2, 3, 4]
    assert again.optimizer.iterations == full.optimizer.iterations
    for key, value in full.get_weights().items():
        np.testing.assert_array_equal(value, again.get_weights()[key], err_msg=key)
    other = write_spec(tmp_path, layers=SPEC["layers"][:1] + SPEC["layers"][2:])
    mismatch = cli("train", other, "--resume", "half.h5", cwd=tmp_path)
    assert_clean_error(mismatch, "describe different models", "layers")


def test_plot_without_matplotlib_says_how_to_install_it(tmp_path: Path) -> None:
    spec = write_spec(tmp_path)
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "from modular_nn.cli.main import main\n"
        f"sys.exit(main(['train', {spec!r}, '--plot', 'p.png']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert_clean_error(result, 'pip install "modular-nn[plot]"')
    assert "Epoch" not in result.stdout  # refused before training, not after


@pytest.mark.parametrize(
    ("case", "data", "fragments"),
    [
        ("missing spec", None, ["spec file not found", "nope.json"]),
        ("missing data file", "missing.csv", ["data file not found", "missing.csv"]),
        ("wrong column count", "wide.csv", ["3 values per sample", "input_shape [2] needs 2"]),
        ("labels do not fit", "classes.csv", ["targets must be in [0, 1]", "received values"]),
        ("NaN in data", "nan.csv", ["line 3, column 'b'", "NaN"]),
        ("unknown builtin", "builtin:mnist", ["unknown built-in dataset 'mnist'", "digits"]),
        ("no data at all", "", ["no data to use", "--data"]),
    ],
)
def test_user_errors_are_one_clean_message(
    cli: Any, tmp_path: Path, case: str, data: str | None, fragments: list[str]
) -> None:
    (tmp_path / "wide.csv").write_text("a,b,c,label\n1,2,3,0\n4,5,6,1\n")
    (tmp_path / "classes.csv").write_text("a,b,label\n1,2,0\n4,5,2\n")
    (tmp_path / "nan.csv").write_text("a,b,label\n1,2,0\n4,nan,1\n")
    if data is None:
        args = ["train", "nope.json"]
    else:
        args = ["train", write_spec(tmp_path, data=None), *(["--data", data] if data else [])]
    assert_clean_error(cli(*args, cwd=tmp_path), *fragments)


def test_debug_shows_the_traceback(cli: Any, tmp_path: Path) -> None:
    result = cli("--debug", "evaluate", "missing.h5", "--data", "builtin:xor", cwd=tmp_path)
    assert result.returncode != 0 and "Traceback" in result.stderr
    assert "CheckpointError" in result.stderr


def test_train_refuses_to_overwrite_the_spec_the_data_or_a_foreign_file(
    cli: Any, tmp_path: Path
) -> None:
    data = tmp_path / "mydata.npz"
    rng = np.random.default_rng(0)
    np.savez(data, X=rng.random((40, 2)).astype(np.float32), y=rng.integers(0, 2, 40))
    spec = tmp_path / "mydata.json"
    spec.write_text(json.dumps({**SPEC, "data": "mydata.npz", "training": {"epochs": 1}}))
    spec_text, data_bytes = spec.read_text(), data.read_bytes()
    cases = [
        (["--out", "mydata.json"], "would overwrite the spec file"),
        (["--out", "mydata.npz"], "would overwrite the training data"),
    ]
    (tmp_path / "notes.h5").write_text("my notes, not a checkpoint")
    cases.append(
        (["--out", "notes.h5"], "notes.h5 exists and saving would replace it, but it is not")
    )
    for options, message in cases:
        assert_clean_error(cli("train", "mydata.json", *options, cwd=tmp_path), message)
    assert spec.read_text() == spec_text and data.read_bytes() == data_bytes
    assert (tmp_path / "notes.h5").read_text() == "my notes, not a checkpoint"
    # a checkpoint already there is replaced, as before
    assert cli("train", "mydata.json", "--out", "m.h5", cwd=tmp_path).returncode == 0
    again = cli("train", "mydata.json", "--out", "m.h5", cwd=tmp_path)
    assert again.returncode == 0, again.stderr


def test_periodic_checkpoints_keep_k_across_resumes_and_braces_in_folders(
    cli: Any, tmp_path: Path
) -> None:
    spec = write_spec(tmp_path)
    runs = tmp_path / "runs" / "{exp}"
    first = cli(
        "train", spec, "--epochs", "2", "--out", "runs/{exp}/run.h5", "--checkpoint-every", "1",
        "--keep", "2", "-q", cwd=tmp_path,
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    again = cli(
        "train", "--resume", "runs/{exp}/run.h5", "--epochs", "4", "--checkpoint-every", "1",
        "--keep", "2", "-q", cwd=tmp_path,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    names = sorted(p.name for p in runs.iterdir())
    assert names == ["run-epoch0003.h5", "run-epoch0004.h5", "run.h5"]


def test_resuming_a_run_that_stopped_early_is_an_error(cli: Any, tmp_path: Path) -> None:
    stopping = {"monitor": "val_loss", "patience": 1, "min_delta": 0.5}
    training = {
        "epochs": 200,
        "batch_size": 32,
        "validation_split": 0.2,
        "early_stopping": stopping,
    }
    spec = write_spec(tmp_path, training=training)
    done = cli("train", spec, "--out", "es.h5", "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    epochs = mnn.load(tmp_path / "es.h5").epochs_done
    assert epochs < 200
    saved = (tmp_path / "es.h5").read_bytes()
    again = cli("train", "--resume", "es.h5", cwd=tmp_path)
    assert_clean_error(again, f"es.h5 stopped early at epoch {epochs}", "nothing to resume")
    assert "Epoch" not in again.stdout
    assert (tmp_path / "es.h5").read_bytes() == saved  # not rewritten


def test_keep_leaves_the_periodic_files_of_another_run_alone(cli: Any, tmp_path: Path) -> None:
    spec = write_spec(tmp_path)
    first = cli("train", spec, "--epochs", "4", "--out", "run.h5", "--checkpoint-every", "1",
                "-q", cwd=tmp_path)  # fmt: skip
    assert first.returncode == 0, first.stderr
    other = cli("train", spec, "--epochs", "2", "--out", "run.h5", "--checkpoint-every", "1",
                "--keep", "2", "-q", cwd=tmp_path)  # fmt: skip  # a new run, not a resume
    assert other.returncode == 0, other.stderr
    names = sorted(p.name for p in tmp_path.glob("run-epoch*.h5"))
    assert names == [f"run-epoch000{i}.h5" for i in range(1, 5)]  # 3 and 4 are the first run's


def test_resuming_with_no_epochs_left_is_an_error_and_leaves_the_checkpoint(
    cli: Any, tmp_path: Path
) -> None:
    spec = write_spec(tmp_path)
    assert cli("train", spec, "--epochs", "3", "--out", "m.h5", "-q", cwd=tmp_path).returncode == 0
    saved = (tmp_path / "m.h5").read_bytes()
    for epochs in ("3", "2"):
        again = cli("train", "--resume", "m.h5", "--epochs", epochs, cwd=tmp_path)
        assert_clean_error(
            again, "m.h5 has already run 3 epochs and --epochs is " + epochs,
            "give --epochs above 3",
        )  # fmt: skip
        assert "Epoch" not in again.stdout and "saved" not in again.stdout
    # without --epochs the spec's 4 epochs are the whole run: one is left
    third = cli("train", "--resume", "m.h5", "--epochs", "4", "--out", "n.h5", "-q", cwd=tmp_path)
    assert third.returncode == 0, third.stderr
    assert (tmp_path / "m.h5").read_bytes() == saved  # never rewritten
    done = cli("train", "--resume", "n.h5", cwd=tmp_path)
    assert_clean_error(done, "has already run 4 epochs and the spec's training.epochs is 4")


def test_an_out_that_is_not_hdf5_is_refused_before_training(cli: Any, tmp_path: Path) -> None:
    spec = write_spec(tmp_path)
    result = cli("train", spec, "--out", "model.keras", cwd=tmp_path)
    assert_clean_error(result, "checkpoints are HDF5 files", "model.h5")
    assert "Epoch" not in result.stdout and not (tmp_path / "model.keras").exists()
