"""``modular-nn train``, ``evaluate`` and ``predict`` of a model with two inputs and two
outputs: .npz and .h5 arrays named after them, every output's metrics printed, one .npz
of predictions per output, and clear errors for data that does not fit the graph."""

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.cli.main import main
from modular_nn.data import BUILTIN_DATASETS, Dataset

SPEC = {
    "name": "two_heads",
    "inputs": {"a": [4], "b": [3]},
    "seed": 5,
    "layers": [
        {"name": "da", "type": "dense", "units": 5, "activation": "relu", "inputs": ["a"]},
        {"name": "db", "type": "dense", "units": 5, "activation": "relu", "inputs": ["b"]},
        {"name": "cat", "type": "concatenate", "inputs": ["da", "db"]},
        {"name": "reg", "type": "dense", "units": 1},
        {"name": "cls", "type": "dense", "units": 3, "activation": "softmax", "inputs": ["cat"]},
    ],
    "outputs": ["reg", "cls"],
    "loss": {"reg": "mse", "cls": "sparse_categorical_crossentropy"},
    "optimizer": "adam",
    "training": {"epochs": 3, "batch_size": 16},
}
N = 60


def arrays(n: int = N, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, 4)).astype(np.float32)
    b = rng.normal(size=(n, 3)).astype(np.float32)
    return {
        "a": a,
        "b": b,
        "reg": a.sum(axis=1, keepdims=True) - b[:, :1],
        "cls": np.argmax(b, axis=1).astype(np.int64),
    }


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, np.ndarray]:
    """``spec.json``, ``d.npz`` and ``d.h5`` (arrays a, b, reg, cls) in the working folder."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "spec.json").write_text(json.dumps(SPEC))
    data = arrays()
    np.savez(tmp_path / "d.npz", **data)
    with h5py.File(tmp_path / "d.h5", "w") as f:
        for name, value in data.items():
            f[name] = value
    return data


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_train_evaluate_predict_from_npz_named_after_inputs_and_outputs(
    files: dict[str, np.ndarray], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys, "train", "spec.json", "--data", "d.npz", "--out", "m.h5",
        "--validation-split", "0.25", "-q",
    )  # fmt: skip
    assert code == 0, err
    assert f"data d.npz: {N:,} training samples" in out
    for key in ("reg_loss", "cls_loss", "cls_accuracy", "val_reg_loss", "val_cls_accuracy"):
        assert f"{key}: " in out
    model = mnn.load("m.h5")
    assert model.epochs_done == 3 and len(model.history.history["val_cls_accuracy"]) == 3

    x = {"a": files["a"], "b": files["b"]}
    y = {"reg": files["reg"], "cls": files["cls"]}
    expected = model.evaluate(x, y)
    code, out, err = run(capsys, "evaluate", "m.h5", "--data", "d.npz", "--json")
    assert code == 0, err
    assert json.loads(out) == pytest.approx(expected)
    assert set(expected) == {"loss", "reg_loss", "cls_loss", "cls_accuracy"}
    code, out, _ = run(capsys, "evaluate", "m.h5", "--data", "d.npz")
    assert f"all {N} samples of d.npz (no test split): loss: {expected['loss']:.4f}" in out
    assert f"reg_loss: {expected['reg_loss']:.4f}" in out
    assert f"cls_accuracy: {expected['cls_accuracy']:.2%}" in out

    code, out, err = run(capsys, "predict", "m.h5", "--input", "d.npz", "--output", "P.NPZ")
    assert code == 0, err
    assert f"wrote {N} predictions to P.NPZ: reg (1,), cls (3,)" in out
    want = model.predict(x)
    with np.load("P.NPZ") as written:
        assert sorted(written.files) == ["cls", "reg"]
        assert written["reg"].shape == (N, 1) and written["cls"].shape == (N, 3)
        np.testing.assert_array_equal(written["reg"], want["reg"])
        np.testing.assert_array_equal(written["cls"], want["cls"])
    assert not Path("P.NPZ.npz").exists()


def test_hdf5_data_is_streamed_as_dicts_and_gives_what_npz_gives(
    files: dict[str, np.ndarray], capsys: pytest.CaptureFixture[str]
) -> None:
    for data, out_file in (("d.npz", "from_npz.h5"), ("d.h5", "from_h5.h5")):
        code, out, err = run(
            capsys, "train", "spec.json", "--data", data, "--out", out_file, "-q",
            "--validation-split", "0.2",
        )  # fmt: skip
        assert code == 0, err
    assert "(streamed from disk)" in out and "val_cls_accuracy: " in out
    streamed, loaded = mnn.load("from_h5.h5"), mnn.load("from_npz.h5")
    assert streamed.history.history["val_loss"][-1] > 0
    assert len(streamed.history.history["val_cls_accuracy"]) == 3

    code, out, err = run(capsys, "evaluate", "from_h5.h5", "--data", "d.h5", "--json")
    assert code == 0, err
    x = {"a": files["a"], "b": files["b"]}
    expected = streamed.evaluate(x, {"reg": files["reg"], "cls": files["cls"]})
    assert json.loads(out) == pytest.approx(expected)

    code, out, err = run(capsys, "predict", "from_h5.h5", "--input", "d.h5", "--output", "p.npz")
    assert code == 0, err
    want = streamed.predict(x)
    with np.load("p.npz") as written:
        np.testing.assert_allclose(written["reg"], want["reg"], rtol=1e-6)
        np.testing.assert_allclose(written["cls"], want["cls"], rtol=1e-6)
    # the npz-trained model also reads the h5 inputs, and the h5 one the npz inputs
    code, _, err = run(capsys, "predict", "from_npz.h5", "--input", "d.h5", "--output", "q.npz")
    assert code == 0, err
    with np.load("q.npz") as written:
        np.testing.assert_allclose(written["cls"], loaded.predict(x)["cls"], rtol=1e-6)


def test_a_builtin_dataset_of_named_arrays_prints_every_outputs_held_out_accuracy(
    files: dict[str, np.ndarray],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    train, test = arrays(48, seed=1), arrays(12, seed=2)

    def named() -> Dataset:
        def split(d: dict[str, np.ndarray]) -> list[dict[str, np.ndarray]]:
            return [{"a": d["a"], "b": d["b"]}, {"reg": d["reg"], "cls": d["cls"]}]

        return Dataset(*split(train), *split(test), name="builtin:named_test")

    monkeypatch.setitem(BUILTIN_DATASETS, "named_test", named)
    code, out, err = run(
        capsys, "train", "spec.json", "--data", "builtin:named_test", "--out", "m.h5", "-q"
    )
    assert code == 0, err
    model = mnn.load("m.h5")
    x = {"a": test["a"], "b": test["b"]}
    results = model.evaluate(x, {"reg": test["reg"], "cls": test["cls"]})
    assert "test (12 held-out samples): loss: " in out
    assert f"held-out cls_accuracy: {results['cls_accuracy']:.2%}" in out
    code, out, err = run(capsys, "evaluate", "m.h5", "--data", "builtin:named_test")
    assert code == 0, err
    assert "the 12 held-out samples of builtin:named_test's test split: " in out
    assert f"reg_loss: {results['reg_loss']:.4f}" in out
    code, out, err = run(
        capsys, "predict", "m.h5", "--input", "builtin:named_test", "--output", "p.npz"
    )
    assert code == 0, err
    with np.load("p.npz") as written:
        np.testing.assert_array_equal(written["cls"], model.predict(x)["cls"])

    other = {**SPEC, "inputs": {"left": [4], "b": [3]}}
    other["layers"] = [{**SPEC["layers"][0], "inputs": ["left"]}, *SPEC["layers"][1:]]
    Path("other.json").write_text(json.dumps(other))
    code, _, err = run(capsys, "train", "other.json", "--data", "builtin:named_test")
    assert code == 1
    assert (
        "builtin:named_test provides inputs 'a', 'b', but this model's inputs are 'left', 'b'"
        in err
    )


@pytest.mark.parametrize(
    ("command", "fragments"),
    [
        (
            ["train", "spec.json", "--data", "bad.npz"],
            [
                "bad.npz does not have the arrays this model reads",
                "missing 'b' (input 'b'), 'cls' (target of output 'cls')",
                "arrays found: a, extra, reg",
            ],
        ),
        (
            ["evaluate", "m.h5", "--data", "bad.h5"],
            [
                "bad.h5 does not have the datasets this model reads",
                "missing 'reg'",
                "datasets found: a, b, cls",
            ],
        ),
        (
            ["train", "spec.json", "--data", "d.csv"],
            [
                "d.csv: a CSV file holds one table",
                "inputs 'a', 'b' and outputs 'reg', 'cls'",
                "use a .npz or .h5 file",
            ],
        ),
        (
            ["predict", "m.h5", "--input", "d.csv", "--output", "p.npz"],
            ["a CSV file holds one table", "inputs 'a', 'b'", ".npz or .h5"],
        ),
        (
            ["predict", "m.h5", "--input", "x.npy", "--output", "p.npz"],
            ["a .npy file holds one array", "inputs 'a', 'b'"],
        ),
        (
            ["predict", "m.h5", "--input", "d.npz", "--output", "p.csv"],
            ["this model has 2 outputs ('reg', 'cls')", "expected a file ending in .npz"],
        ),
        (
            ["predict", "m.h5", "--input", "d.npz", "--output", "p.npy"],
            ["this model has 2 outputs", ".npz"],
        ),
        (
            ["train", "spec.json", "--data", "d.npz", "--x-key", "a"],
            ["--x-key 'a' names one array, but this model has 2 inputs ('a', 'b')"],
        ),
        (
            ["train", "spec.json", "--data", "short.npz"],
            ["short.npz: 'a' has 60 samples but 'cls' has 59"],
        ),
    ],
)
def test_data_that_does_not_fit_the_graph_is_one_clean_error(
    files: dict[str, np.ndarray],
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    fragments: list[str],
) -> None:
    model = mnn.build_model(SPEC)
    model.save("m.h5")
    np.savez("bad.npz", a=files["a"], reg=files["reg"], extra=files["a"])
    with h5py.File("bad.h5", "w") as f:
        f["a"], f["b"], f["cls"] = files["a"], files["b"], files["cls"]
    np.savez("short.npz", **{**files, "cls": files["cls"][:-1]})
    Path("d.csv").write_text("1,2,3,4,5,6,7,0\n")
    np.save("x.npy", files["a"])
    code, out, err = run(capsys, *command)
    assert code == 1 and err.startswith("error: ") and "Traceback" not in err
    for fragment in fragments:
        assert fragment in err
    assert not Path("p.npz").exists() and not Path("p.csv").exists()


def test_resuming_a_graph_run_compares_the_graph(
    files: dict[str, np.ndarray], capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--data", "d.npz", "-q"]
    assert run(capsys, "train", "spec.json", "--out", "full.h5", *args)[0] == 0
    assert run(capsys, "train", "spec.json", "--epochs", "1", "--out", "half.h5", *args)[0] == 0
    code, out, err = run(capsys, "train", "spec.json", "--resume", "half.h5", *args)
    assert code == 0, err
    full, resumed = mnn.load("full.h5"), mnn.load("half.h5")
    assert resumed.epochs_done == 3
    for key, value in full.get_weights().items():
        np.testing.assert_array_equal(value, resumed.get_weights()[key], err_msg=key)
    Path("other.json").write_text(json.dumps({**SPEC, "outputs": ["cls", "reg"]}))
    code, _, err = run(capsys, "train", "other.json", "--resume", "half.h5", *args)
    assert code == 1 and "describe different models (they differ in outputs" in err


def test_a_single_output_model_writes_npz_named_after_its_output_and_reads_named_arrays(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    spec = {
        "inputs": {"features": [4]},
        "layers": [{"name": "score", "type": "dense", "units": 1, "activation": "sigmoid"}],
        "loss": "binary_crossentropy",
        "optimizer": "adam",
        "training": {"epochs": 1},
    }
    Path("s.json").write_text(json.dumps(spec))
    data = arrays()
    labels = (data["a"][:, 0] > 0).astype(np.int64)
    np.savez("named.npz", features=data["a"], score=labels)  # no X, y: the names serve
    np.savez("plain.npz", X=data["a"], y=labels)
    for source in ("named.npz", "plain.npz"):
        code, _, err = run(capsys, "train", "s.json", "--data", source, "--out", "m.h5", "-q")
        assert code == 0, err
    code, out, err = run(capsys, "predict", "m.h5", "--input", "named.npz", "--output", "p.npz")
    assert code == 0 and f"wrote {N} predictions of shape (1,) to p.npz" in out, err
    with np.load("p.npz") as written:
        assert written.files == ["score"]
        np.testing.assert_array_equal(written["score"], mnn.load("m.h5").predict(data["a"]))
    np.savez("neither.npz", inputs=data["a"], y=labels)
    code, _, err = run(capsys, "evaluate", "m.h5", "--data", "neither.npz")
    assert code == 1
    assert "missing 'X' or 'features' (input 'features'); arrays found: inputs, y" in err
    assert "choose with --x-key" in err
