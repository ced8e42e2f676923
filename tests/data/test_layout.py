"""Data for models with several inputs or outputs: .npz and .h5 arrays named after them,
sources that yield dicts (shuffled rows kept together, split, reshaped per input), built-in
datasets of named arrays, and every mismatch as a DataError naming what is missing."""

from pathlib import Path

import h5py
import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.data import H5Source, load_data, load_inputs
from modular_nn.data.dataset import Dataset
from modular_nn.data.layout import Layout

N = 200
INPUTS = {"a": [2, 2], "b": [3]}
OUTPUTS = ["reg", "cls"]
SPEC = {
    "inputs": INPUTS,
    "seed": 1,
    "layers": [
        {"name": "fa", "type": "flatten", "inputs": ["a"]},
        {"name": "cat", "type": "concatenate", "inputs": ["fa", "b"]},
        {"name": "hidden", "type": "dense", "units": 8, "activation": "tanh"},
        {"name": "reg", "type": "dense", "units": 1},
        {"name": "cls", "type": "dense", "units": 3, "activation": "softmax", "inputs": ["hidden"]},
    ],
    "outputs": OUTPUTS,
    "loss": {"reg": "mse", "cls": "sparse_categorical_crossentropy"},
    "optimizer": {"type": "adam", "learning_rate": 0.02},
}


def named_arrays(n: int = N) -> dict[str, np.ndarray]:
    """a: 4 values per sample (flat, as files hold it), b: 3; row i carries i in every array."""
    rng = np.random.default_rng(0)
    ids = np.arange(n, dtype=np.float64)
    a = np.column_stack([ids, rng.normal(size=(n, 3))])
    b = np.column_stack([ids, rng.normal(size=(n, 2))])
    return {"a": a, "b": b, "reg": ids[:, None] / n, "cls": (np.arange(n) % 3).astype(np.int64)}


def write_h5(path: Path, arrays: dict[str, np.ndarray]) -> Path:
    with h5py.File(path, "w") as f:
        for name, value in arrays.items():
            f[name] = value
    return path


def test_npz_arrays_named_after_inputs_and_outputs_load_as_dicts_reshaped(tmp_path: Path) -> None:
    arrays = named_arrays()
    np.savez(tmp_path / "d.npz", **arrays, unused=np.zeros(3))
    ds = load_data(tmp_path / "d.npz", inputs=INPUTS, outputs=OUTPUTS)
    assert list(ds.x_train) == ["a", "b"] and list(ds.y_train) == ["reg", "cls"]
    assert ds.x_train["a"].shape == (N, 2, 2) and ds.x_train["b"].shape == (N, 3)
    np.testing.assert_array_equal(ds.x_train["a"].reshape(N, 4), arrays["a"])
    np.testing.assert_array_equal(ds.y_train["cls"], arrays["cls"])
    only_inputs = load_inputs(tmp_path / "d.npz", inputs=INPUTS)
    assert list(only_inputs) == ["a", "b"] and only_inputs["a"].shape == (N, 2, 2)
    model = mnn.build_model(SPEC)
    history = model.fit(ds.x_train, ds.y_train, epochs=2, batch_size=32, verbose=0,
                        validation_split=0.25)  # fmt: skip
    assert len(history.history["val_cls_accuracy"]) == 2


def test_h5_source_yields_dicts_whose_rows_stay_together_when_shuffled(tmp_path: Path) -> None:
    arrays = named_arrays()
    write_h5(tmp_path / "d.h5", arrays)
    source = load_data(tmp_path / "d.h5", inputs=INPUTS, outputs=OUTPUTS).x_train
    assert isinstance(source, H5Source) and source.has_labels
    assert source.sample_shape == {"a": (2, 2), "b": (3,)}
    source.block_rows = 64
    seen = []
    for xb, yb in source.batches(16, np.random.default_rng(0)):
        assert set(xb) == {"a", "b"} and set(yb) == {"reg", "cls"}
        assert xb["a"].shape[1:] == (2, 2)
        ids = xb["a"][:, 0, 0]
        np.testing.assert_array_equal(xb["b"][:, 0], ids)  # every array: the same rows
        np.testing.assert_array_equal(yb["reg"][:, 0], ids / N)
        np.testing.assert_array_equal(yb["cls"], ids.astype(np.int64) % 3)
        seen.extend(ids.astype(int).tolist())
    assert sorted(seen) == list(range(N)) and seen != list(range(N))

    train, held = source.split(0.25)
    assert (len(train), len(held)) == (150, 50)
    held_ids = np.concatenate([xb["b"][:, 0] for xb, _ in held.batches(20)])
    np.testing.assert_array_equal(held_ids, np.arange(150, 200))


def test_fit_evaluate_predict_on_a_named_h5_source_match_the_arrays(tmp_path: Path) -> None:
    arrays = named_arrays()
    write_h5(tmp_path / "d.h5", arrays)
    source = load_data(tmp_path / "d.h5", inputs=INPUTS, outputs=OUTPUTS).x_train
    model = mnn.build_model(SPEC)
    history = model.fit(source, epochs=2, batch_size=32, validation_split=0.2, verbose=0)
    assert len(history.history["val_reg_loss"]) == 2
    x = {"a": arrays["a"].reshape(N, 2, 2), "b": arrays["b"]}
    y = {"reg": arrays["reg"], "cls": arrays["cls"]}
    assert model.evaluate(source, batch_size=50) == pytest.approx(model.evaluate(x, y), rel=1e-5)
    streamed = model.predict(load_inputs(tmp_path / "d.h5", inputs=INPUTS), batch_size=64)
    direct = model.predict(x)
    for name in OUTPUTS:
        np.testing.assert_allclose(streamed[name], direct[name], rtol=1e-5, atol=1e-7)


def test_a_single_input_or_target_may_keep_the_names_x_and_y(tmp_path: Path) -> None:
    arrays = named_arrays()
    np.savez(tmp_path / "one_in.npz", X=arrays["b"], reg=arrays["reg"], cls=arrays["cls"])
    ds = load_data(tmp_path / "one_in.npz", inputs={"b": [3]}, outputs=OUTPUTS)
    np.testing.assert_array_equal(ds.x_train, arrays["b"])  # one input: an array
    assert list(ds.y_train) == ["reg", "cls"]
    np.savez(tmp_path / "plain.npz", X=arrays["a"], y=arrays["cls"], inp=arrays["b"])
    plain = load_data(tmp_path / "plain.npz", inputs={"inp": [2, 2]}, outputs=["out"])
    assert plain.x_train.shape == (N, 2, 2)  # X wins over a same-named array, as always
    np.testing.assert_array_equal(plain.y_train, arrays["cls"])
    chosen = load_data(tmp_path / "plain.npz", x_key="inp", inputs={"inp": [3]}, outputs=["o"])
    np.testing.assert_array_equal(chosen.x_train, arrays["b"])
    write_h5(tmp_path / "named.h5", {"inp": arrays["b"], "out": arrays["cls"]})
    source = load_data(tmp_path / "named.h5", inputs={"inp": [3]}, outputs=["out"]).x_train
    xb, yb = next(source.batches(N))
    np.testing.assert_array_equal(xb, arrays["b"])  # one input, one target: arrays
    np.testing.assert_array_equal(yb, arrays["cls"])


def test_missing_or_mismatched_arrays_name_what_is_missing_and_what_is_there(
    tmp_path: Path,
) -> None:
    arrays = named_arrays()
    np.savez(tmp_path / "d.npz", a=arrays["a"], left=arrays["b"], reg=arrays["reg"])
    with pytest.raises(mnn.DataError) as caught:
        load_data(tmp_path / "d.npz", inputs=INPUTS, outputs=OUTPUTS)
    message = str(caught.value)
    assert "missing 'b' (input 'b'), 'cls' (target of output 'cls')" in message
    assert "arrays found: a, left, reg" in message
    write_h5(tmp_path / "d.h5", {"a": arrays["a"], "b": arrays["b"][:-1], "reg": arrays["reg"],
                                 "cls": arrays["cls"]})  # fmt: skip
    with pytest.raises(mnn.DataError, match=r"'a' has 200 samples but 'b' has 199"):
        load_data(tmp_path / "d.h5", inputs=INPUTS, outputs=OUTPUTS)
    np.savez(tmp_path / "wide.npz", **{**arrays, "b": np.zeros((N, 5))})
    with pytest.raises(mnn.DataError, match=r"input 'b': the data has 5 values per sample"):
        load_data(tmp_path / "wide.npz", inputs=INPUTS, outputs=OUTPUTS)
    with pytest.raises(mnn.DataError, match="--y-key 'cls' names one array, but this model has 2"):
        load_data(tmp_path / "wide.npz", y_key="cls", inputs=INPUTS, outputs=OUTPUTS)


@pytest.mark.parametrize("suffix", [".csv", ".npy"])
def test_csv_and_npy_cannot_feed_several_inputs(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"d{suffix}"
    if suffix == ".csv":
        path.write_text("1,2,3,4,5,6,7,0\n")
    else:
        np.save(path, np.zeros((2, 7)))
    with pytest.raises(mnn.DataError, match=r"inputs 'a', 'b'.*use a \.npz or \.h5 file"):
        load_data(path, labels=suffix == ".csv", inputs=INPUTS, outputs=OUTPUTS)
    (tmp_path / "one.csv").write_text("1,2,3,0\n4,5,6,1\n")  # one input, two outputs
    with pytest.raises(mnn.DataError, match=r"CSV file holds one table.*outputs 'reg', 'cls'"):
        load_data(tmp_path / "one.csv", inputs={"b": [3]}, outputs=OUTPUTS)
    only_inputs = load_inputs(tmp_path / "one.csv", label_column=-1, inputs={"b": [3]})
    np.testing.assert_array_equal(only_inputs, [[1, 2, 3], [4, 5, 6]])  # inputs only: fine


def test_a_dataset_of_named_arrays_is_arranged_for_the_model() -> None:
    rng = np.random.default_rng(0)
    images = {"left": rng.random((6, 64)), "right": rng.random((6, 64))}
    dataset = Dataset(images, {"same": np.arange(6) % 2}, images, {"same": np.ones(6)}, name="p")
    layout = Layout.of({"left": [8, 8, 1], "right": [8, 8, 1]}, ["match"], labels=True)
    arranged = layout.arrange(dataset)
    assert arranged.x_train["left"].shape == (6, 8, 8, 1)
    np.testing.assert_array_equal(arranged.y_train, np.arange(6) % 2)  # one target: an array
    np.testing.assert_array_equal(arranged.y_test, np.ones(6))
    wrong = Layout.of({"a": [64], "b": [64]}, ["match"], labels=True)
    with pytest.raises(mnn.DataError, match=r"p provides inputs 'left', 'right', but this model"):
        wrong.arrange(dataset)
    two_outputs = Layout.of({"left": [64], "right": [64]}, ["x", "y"], labels=True)
    with pytest.raises(mnn.DataError, match=r"p provides outputs 'same'.*'x', 'y'"):
        two_outputs.arrange(dataset)
    one_input = Layout.of({"image": [64]}, ["same"], labels=True)
    with pytest.raises(mnn.DataError, match=r"p provides inputs 'left', 'right'.*'image'"):
        one_input.arrange(dataset)
    flat = Dataset(rng.random((6, 64)), np.zeros(6), name="flat")
    with pytest.raises(mnn.DataError, match=r"flat has one input array, but this model has"):
        wrong.arrange(flat)


def test_h5_source_of_named_datasets_reports_a_missing_one(tmp_path: Path) -> None:
    arrays = named_arrays()
    write_h5(tmp_path / "d.h5", {"a": arrays["a"], "cls": arrays["cls"]})
    with pytest.raises(mnn.DataError) as caught:
        H5Source(tmp_path / "d.h5", inputs={"a": "a", "b": "b"}, outputs={"cls": "cls"})
    assert "no dataset 'b' with a sample axis; datasets: a, cls" in str(caught.value)
    assert "--x-key" not in str(caught.value)  # no single dataset to choose here
    source = H5Source(tmp_path / "d.h5", inputs={"a": "a"}, labels=False)
    assert source.sample_shape == {"a": (4,)} and not source.has_labels
    with pytest.raises(mnn.DataError, match=r"expected a shape for each of them"):
        source.reshaped((2, 2))
