"""Checkpoints of graph models: save/load, exact resume, strict and non-strict weight loads
across block repeats, ``inspect``, early stopping on two outputs, nested HDF5 groups."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.cli.main import main
from modular_nn.model.callbacks import ModelCheckpoint

StateCheck = Callable[[mnn.Model, mnn.Model], None]


def graph_spec(repeat: int = 2, **training: Any) -> dict[str, Any]:
    """Two inputs through one shared encoder, dropout, a residual block with batch norm
    placed ``repeat`` times, and two outputs with their own losses and weights."""
    return {
        "name": "graph",
        "inputs": {"a": [4], "b": [4]},
        "seed": 2,
        "blocks": {
            "residual": {
                "layers": [
                    {"name": "conv_a", "type": "dense", "units": 4, "activation": "relu"},
                    {"name": "bn", "type": "batch_norm"},
                    {"name": "sum", "type": "add", "inputs": ["block_input", "bn"]},
                ]
            }
        },
        "layers": [
            {"name": "enc", "type": "dense", "units": 4, "activation": "tanh", "inputs": ["a"]},
            {"name": "enc_b", "shares": "enc", "inputs": ["b"]},
            {"name": "drop", "type": "dropout", "rate": 0.3},
            {"name": "diff", "type": "subtract", "inputs": ["enc", "drop"]},
            {"name": "res", "type": "block", "block": "residual", "repeat": repeat},
            {"name": "same", "type": "dense", "units": 1, "activation": "sigmoid"},
            {
                "name": "digit",
                "type": "dense",
                "units": 3,
                "activation": "softmax",
                "inputs": ["res"],
            },
        ],  # fmt: skip
        "outputs": ["same", "digit"],
        "loss": {"same": "binary_crossentropy", "digit": "sparse_categorical_crossentropy"},
        "loss_weights": {"same": 0.5, "digit": 1.5},
        "optimizer": {"type": "adam", "learning_rate": 0.05},
        "training": {"batch_size": 8, "shuffle": True, **training},
    }


@pytest.fixture
def graph_xy() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    rng = np.random.default_rng(1)
    x = {"a": rng.standard_normal((40, 4)), "b": rng.standard_normal((40, 4))}
    y = {"same": (x["a"][:, :1] > 0).astype(float), "digit": rng.integers(0, 3, 40)}
    return x, y


def assert_same_outputs(mine: dict[str, np.ndarray], theirs: dict[str, np.ndarray]) -> None:
    assert isinstance(mine, dict) and list(mine) == list(theirs) == ["same", "digit"]
    for key in mine:
        np.testing.assert_array_equal(mine[key], theirs[key], strict=True)


def test_save_and_load_give_bit_identical_predictions(
    graph_xy: Any, tmp_path: Path, assert_same_state: StateCheck
) -> None:
    model = mnn.build_model(graph_spec())
    model.fit(*graph_xy, epochs=2, verbose=0)
    model.save(tmp_path / "graph.h5")
    loaded = mnn.load(tmp_path / "graph.h5")
    assert loaded.to_spec() == model.to_spec()
    assert loaded.input_names == ["a", "b"] and loaded.output_names == ["same", "digit"]
    assert_same_outputs(loaded.predict(graph_xy[0]), model.predict(graph_xy[0]))
    assert_same_state(loaded, model)
    assert loaded.evaluate(*graph_xy) == model.evaluate(*graph_xy)


@pytest.mark.parametrize("how", ["plain", "initial_epoch"])
def test_continuing_fit_equals_uninterrupted_training(
    how: str, graph_xy: Any, tmp_path: Path, assert_same_state: StateCheck
) -> None:
    spec = graph_spec()  # dropout, batch norm, shuffling and adam's moments all carried over
    uninterrupted = mnn.build_model(spec)
    uninterrupted.fit(*graph_xy, epochs=4, verbose=0)
    first = mnn.build_model(spec)
    first.fit(*graph_xy, epochs=2, verbose=0)
    first.save(tmp_path / "run.h5")
    resumed = mnn.load(tmp_path / "run.h5")
    if how == "plain":
        resumed.fit(*graph_xy, epochs=2, verbose=0)
    else:
        resumed.fit(*graph_xy, epochs=4, initial_epoch=2, verbose=0)
    assert_same_state(resumed, uninterrupted)
    assert resumed.history.epoch == [1, 2, 3, 4]
    assert {"loss", "same_loss", "digit_loss", "digit_accuracy"} <= set(resumed.history.history)
    assert_same_outputs(resumed.predict(graph_xy[0]), uninterrupted.predict(graph_xy[0]))


def test_hdf5_groups_nest_block_copies(graph_xy: Any, tmp_path: Path) -> None:
    model = mnn.build_model(graph_spec())
    model.save(tmp_path / "graph.h5")
    model.save_weights(tmp_path / "weights.h5")
    for name in ("graph.h5", "weights.h5"):
        with h5py.File(tmp_path / name, "r") as f:
            weights = f["weights"]
            assert isinstance(weights["res"], h5py.Group)
            assert sorted(weights["res"]) == ["1", "2"]
            assert isinstance(weights["res"]["1"]["conv_a"], h5py.Group)
            kernel = f["/weights/res/1/conv_a/kernel"]
            assert isinstance(kernel, h5py.Dataset) and kernel.shape == (4, 4)
            np.testing.assert_array_equal(kernel[()], model.get_weights()["res/1/conv_a/kernel"])
            assert "moving_mean" in f["/weights/res/2/bn"]
            assert "enc_b" not in weights  # a shared layer's weights are stored once
            assert sorted(weights) == ["digit", "enc", "res", "same"]


def test_load_weights_strict_reports_block_copies_by_name(tmp_path: Path) -> None:
    two = mnn.build_model(graph_spec(repeat=2))
    two.save_weights(tmp_path / "two.h5")
    three = mnn.build_model(graph_spec(repeat=3))
    before = three.get_weights()
    with pytest.raises(mnn.CheckpointError) as info:
        three.load_weights(tmp_path / "two.h5")
    message = str(info.value)
    for name in ("res/3/conv_a/kernel", "res/3/conv_a/bias", "res/3/bn/moving_mean"):
        assert f"missing from the file: {name}" in message
    assert "res/2/conv_a/kernel" not in message
    for key, value in three.get_weights().items():  # all or nothing: nothing was loaded
        np.testing.assert_array_equal(value, before[key])

    three.save_weights(tmp_path / "three.h5")
    with pytest.raises(mnn.CheckpointError, match="unexpected in the file: res/3/conv_a/kernel"):
        two.load_weights(tmp_path / "three.h5", strict=True)


def test_load_weights_non_strict_loads_the_matching_block_copies(tmp_path: Path) -> None:
    two = mnn.build_model(graph_spec(repeat=2))
    two.save_weights(tmp_path / "two.h5")
    three = mnn.build_model({**graph_spec(repeat=3), "seed": 9})  # other weights throughout
    untouched = three.get_weights()
    report = three.load_weights(tmp_path / "two.h5", strict=False)
    assert sorted(report.missing) == sorted(
        f"res/3/{name}"
        for name in ("conv_a/kernel", "conv_a/bias", "bn/gamma", "bn/beta", "bn/moving_mean",
                     "bn/moving_variance")
    )  # fmt: skip
    assert not report.unexpected and not report.mismatched
    loaded, source = three.get_weights(), two.get_weights()
    assert sorted(report.loaded) == sorted(source)
    for key, value in source.items():
        np.testing.assert_array_equal(loaded[key], value)
    for key in report.missing:
        np.testing.assert_array_equal(loaded[key], untouched[key])


def test_inspect_lists_block_copies_and_named_inputs(
    graph_xy: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = mnn.build_model(graph_spec())
    model.fit(*graph_xy, epochs=1, verbose=0)
    model.save(tmp_path / "graph.h5")
    assert main(["inspect", str(tmp_path / "graph.h5")]) == 0
    out = capsys.readouterr().out
    assert "model 'graph': inputs a (4,), b (4,), dtype float32, seed 2" in out
    for name in ("res/1/conv_a/kernel", "res/2/conv_a/bias", "res/2/bn/moving_variance"):
        assert name in out
    lines = out.splitlines()
    assert any(line.split()[:2] == ["enc_b", "shared"] for line in lines if line.strip())
    assert any(line.split()[:2] == ["res", "block"] for line in lines if line.strip())
    assert "res/1/bn/moving_mean" in out and "buffer" in out


EARLY = {"monitor": "val_loss", "patience": 2, "restore_best_weights": True}


def test_early_stopping_on_two_outputs_restores_the_best_weights(graph_xy: Any) -> None:
    spec = graph_spec(validation_split=0.25, early_stopping=EARLY)
    model = mnn.build_model(spec)
    history = model.fit(*graph_xy, epochs=30, verbose=0)
    assert model.epochs_done < 30  # it stopped early
    val = history.history["val_loss"]
    best = int(np.argmin(val)) + 1
    assert best < model.epochs_done  # the best epoch is not the last: weights are restored
    assert {"val_same_loss", "val_digit_loss", "val_digit_accuracy"} <= set(history.history)
    # the best epoch's weights: a run of exactly that many epochs ends with them
    short = mnn.build_model(spec)
    short.fit(*graph_xy, epochs=best, verbose=0)
    for key, value in short.get_weights().items():
        np.testing.assert_array_equal(model.get_weights()[key], value, err_msg=key)


def test_early_stopping_on_two_outputs_resumes_exactly(graph_xy: Any, tmp_path: Path) -> None:
    """A run that checkpoints every epoch, interrupted after any epoch and resumed from its
    file, stops where the whole run does, with the same restored weights."""
    spec = graph_spec(validation_split=0.25, early_stopping=EARLY)
    whole = mnn.build_model(spec)
    every_epoch = ModelCheckpoint(tmp_path / "epoch-{epoch}.h5")
    whole.fit(*graph_xy, epochs=30, verbose=0, callbacks=[every_epoch])
    assert 2 < whole.epochs_done < 30
    alone = mnn.build_model(spec)  # saving along the way changes nothing
    alone.fit(*graph_xy, epochs=30, verbose=0)
    assert alone.epochs_done == whole.epochs_done
    for done in range(1, whole.epochs_done):
        resumed = mnn.load(tmp_path / f"epoch-{done}.h5")
        assert resumed.early_stopping_best is not None
        resumed.fit(*graph_xy, epochs=30 - done, verbose=0)
        assert resumed.epochs_done == whole.epochs_done, done
        for key, value in whole.get_weights().items():
            np.testing.assert_array_equal(resumed.get_weights()[key], value, err_msg=key)
            np.testing.assert_array_equal(alone.get_weights()[key], value, err_msg=key)
