"""HDF5 data read in blocks: bounded reads, every sample once per epoch, reproducible shuffling,
and Model.fit / evaluate / predict taking a BatchSource."""

from pathlib import Path

import h5py
import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.data import H5Source, load_data
from modular_nn.data import sources as sources_module

N = 1000


def row_ids(batches: list) -> np.ndarray:
    return np.rint(np.concatenate([xb[:, 3] for xb, _ in batches]) * N).astype(int)


def make_h5(path: Path, n: int = N) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    x[:, 3] = np.arange(n) / n  # a row id, to follow samples through the batches
    with h5py.File(path, "w") as f:
        f["X"], f["y"] = x, y
    return x, y


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of rows of every read from an HDF5 file."""
    sizes: list[int] = []
    original = sources_module._H5Reader.read

    def counting(self: object, start: int, stop: int) -> tuple:
        sizes.append(stop - start)
        return original(self, start, stop)  # type: ignore[arg-type]

    monkeypatch.setattr(sources_module._H5Reader, "read", counting)
    return sizes


def spec(**changes: object) -> dict:
    base = {
        "input_shape": [4],
        "seed": 3,
        "layers": [
            {"type": "dense", "units": 8, "activation": "tanh"},
            {"type": "dropout", "rate": 0.1},
            {"type": "dense", "units": 1, "activation": "sigmoid"},
        ],
        "loss": "binary_crossentropy",
        "optimizer": {"type": "adam", "learning_rate": 0.05},
    }
    return {**base, **changes}


def test_shuffled_epoch_reads_bounded_blocks_and_sees_every_sample_once(
    tmp_path: Path, reads: list[int]
) -> None:
    make_h5(tmp_path / "d.h5")
    source = H5Source(tmp_path / "d.h5", block_rows=64)
    rng = np.random.default_rng(0)
    epochs = [list(source.batches(16, rng)) for _ in range(2)]
    assert reads and max(reads) <= 64 and sum(reads) == 2 * N
    for batches in epochs:
        assert sorted(row_ids(batches)) == list(range(N))
        assert [len(xb) for xb, _ in batches].count(16) == len(batches) - 1  # one partial batch
        for xb, yb in batches:  # labels stay with their samples
            np.testing.assert_array_equal(yb, (xb[:, 0] + xb[:, 1] > 0).astype(np.int64))
    assert not np.array_equal(row_ids(epochs[0]), row_ids(epochs[1]))
    np.testing.assert_array_equal(row_ids(list(source.batches(16))), np.arange(N))


def test_fit_streams_an_h5_file_bigger_than_the_batch(tmp_path: Path, reads: list[int]) -> None:
    x, y = make_h5(tmp_path / "d.h5")
    source = H5Source(tmp_path / "d.h5", block_rows=128)
    model = mnn.build_model(spec())
    history = model.fit(source, epochs=3, batch_size=32, validation_split=0.2, verbose=0)
    assert max(reads) <= 128  # never more than one block of the 1,000 rows in memory
    assert history.history["val_accuracy"][-1] > 0.9
    train_reads = sum(reads)
    assert train_reads == 3 * N  # 800 training + 200 validation rows per epoch
    results = model.evaluate(source, batch_size=100)
    assert max(reads) <= 128 and results["accuracy"] > 0.9
    np.testing.assert_allclose(
        model.predict(source, batch_size=100), model.predict(x), rtol=1e-6, atol=1e-7
    )
    assert results == pytest.approx(model.evaluate(x, y))


def test_streamed_training_is_reproducible_from_the_model_seed(tmp_path: Path) -> None:
    make_h5(tmp_path / "d.h5")

    def train(seed: int) -> dict[str, np.ndarray]:
        model = mnn.build_model(spec(seed=seed))
        model.fit(load_data(tmp_path / "d.h5").x_train, epochs=2, batch_size=50, verbose=0)
        return model.get_weights()

    a, b, c = train(1), train(1), train(2)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    assert any(not np.array_equal(a[key], c[key]) for key in a)


def test_source_errors(tmp_path: Path) -> None:
    make_h5(tmp_path / "d.h5")
    with h5py.File(tmp_path / "d.h5", "a") as f:
        f["short"] = np.zeros(10)
        f["text"] = np.array([b"a", b"b"])
    with pytest.raises(mnn.DataError, match=r"no dataset 'inputs'.*datasets: X, short, text, y"):
        H5Source(tmp_path / "d.h5", x_key="inputs")
    with pytest.raises(mnn.DataError, match="1000 samples but 'short' has 10"):
        H5Source(tmp_path / "d.h5", y_key="short")
    with pytest.raises(mnn.DataError, match="must be numeric"):
        H5Source(tmp_path / "d.h5", x_key="text", labels=False)
    (tmp_path / "bad.h5").write_text("no hdf5")
    with pytest.raises(mnn.DataError, match="cannot read .* as HDF5"):
        H5Source(tmp_path / "bad.h5")
    model = mnn.build_model(spec())
    source = H5Source(tmp_path / "d.h5")
    with pytest.raises(mnn.DataError, match="carries its labels"):
        model.fit(source, np.zeros(N), epochs=1, verbose=0)
    with pytest.raises(mnn.DataError, match="has no labels"):
        model.fit(H5Source(tmp_path / "d.h5", labels=False), epochs=1, verbose=0)
    with pytest.raises(mnn.DataError, match="leaves no training"):
        source.split(0.99999)  # the last 1000 - floor(0.01) = 1000 rows: no training rows
    with pytest.raises(mnn.DataError, match=r"4 values per sample .* needs 5"):
        source.reshaped((5,))


def test_non_finite_values_in_a_streamed_batch_are_a_data_error(tmp_path: Path) -> None:
    x, y = make_h5(tmp_path / "d.h5")
    with h5py.File(tmp_path / "d.h5", "a") as f:
        f["X"][500, 0] = np.nan
    model = mnn.build_model(spec())
    with pytest.raises(mnn.DataError, match="NaN or infinite"):
        model.fit(H5Source(tmp_path / "d.h5"), epochs=1, batch_size=100, verbose=0)


@pytest.mark.parametrize(("n", "split", "held_out"), [(10, 0.25, 3), (10, 0.05, 1), (10, 0.3, 3)])
def test_validation_split_holds_out_what_keras_does(n: int, split: float, held_out: int) -> None:
    from modular_nn.data.sources import held_out_rows

    assert held_out_rows(n, split) == held_out  # n - floor(n * (1 - split))
