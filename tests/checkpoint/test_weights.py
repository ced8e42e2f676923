"""save_weights / load_weights: the strict report, partial loads, dtype casts (all-or-nothing
loading of damaged files is checked for every file of test_damaged_corpus.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.checkpoint import ShapeMismatch, WeightsReport
from modular_nn.errors import CheckpointError


def _other(tiny_spec: Any, **changes: Any) -> mnn.Model:
    return mnn.build_model(tiny_spec(seed=99, **changes))


def _assert_weights_equal(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], strict=True)


def test_round_trip_reports_everything_loaded(
    trained: mnn.Model, tiny_spec: Any, tmp_path: Path
) -> None:
    trained.save_weights(tmp_path / "w.h5")
    other = _other(tiny_spec)
    report = other.load_weights(tmp_path / "w.h5")
    assert isinstance(report, WeightsReport) and report.ok
    assert sorted(report.loaded) == sorted(trained.get_weights())
    _assert_weights_equal(other.get_weights(), trained.get_weights())
    x = np.ones((2, 4))
    np.testing.assert_array_equal(other.predict(x), trained.predict(x), strict=True)


def test_load_weights_from_a_full_checkpoint(
    checkpoint: Path, trained: mnn.Model, tiny_spec: Any
) -> None:
    other = _other(tiny_spec)
    assert other.load_weights(checkpoint).ok
    _assert_weights_equal(other.get_weights(), trained.get_weights())
    assert other.epochs_done == 0  # weights only: no training state


def _mismatched_pair(tiny_spec: Any) -> tuple[mnn.Model, mnn.Model]:
    saved = mnn.build_model(tiny_spec())
    layers = [
        {"type": "dense", "units": 5, "activation": "relu"},  # dense_1: 6 -> 5 units
        {"type": "dropout", "rate": 0.25},
        {"type": "dense", "units": 1, "activation": "sigmoid"},  # no batch_norm_1
        {"type": "dense", "units": 1, "name": "head"},  # not in the file
    ]
    return saved, _other(tiny_spec, layers=layers)


def test_strict_load_lists_every_problem_and_loads_nothing(tiny_spec: Any, tmp_path: Path) -> None:
    saved, other = _mismatched_pair(tiny_spec)
    saved.save_weights(tmp_path / "w.h5")
    before = other.get_weights()
    with pytest.raises(CheckpointError) as info:
        other.load_weights(tmp_path / "w.h5", strict=True)
    message = str(info.value)
    assert "nothing was loaded" in message
    for name in ["head/kernel", "head/bias"]:
        assert f"missing from the file: {name}" in message
    for name in ["batch_norm_1/gamma", "batch_norm_1/beta", "batch_norm_1/moving_mean"]:
        assert f"unexpected in the file: {name}" in message
    assert "dense_1/kernel: model has shape (4, 5), file has (4, 6)" in message
    assert "dense_1/bias: model has shape (5,), file has (6,)" in message
    assert "dense_2/kernel: model has shape (5, 1), file has (6, 1)" in message
    _assert_weights_equal(other.get_weights(), before)
    assert info.value.report.mismatched[0] == ShapeMismatch("dense_1/kernel", (4, 5), (4, 6))


def test_non_strict_load_loads_what_matches(tiny_spec: Any, tmp_path: Path) -> None:
    saved, other = _mismatched_pair(tiny_spec)
    saved.save_weights(tmp_path / "w.h5")
    before = other.get_weights()
    report = other.load_weights(tmp_path / "w.h5", strict=False)
    assert report.missing == ["head/kernel", "head/bias"]
    assert report.unexpected == [
        "batch_norm_1/beta",
        "batch_norm_1/gamma",
        "batch_norm_1/moving_mean",
        "batch_norm_1/moving_variance",
    ]
    mismatched = [m.name for m in report.mismatched]
    assert mismatched == ["dense_1/kernel", "dense_1/bias", "dense_2/kernel"]
    assert report.loaded == ["dense_2/bias"]
    np.testing.assert_array_equal(other.params["dense_2/bias"], saved.params["dense_2/bias"])
    np.testing.assert_array_equal(other.params["dense_1/kernel"], before["dense_1/kernel"])


@pytest.mark.parametrize(("saved", "target"), [("float64", "float32"), ("float32", "float64")])
def test_loading_follows_the_models_dtype(
    saved: str, target: str, trained: mnn.Model, tiny_spec: Any, tmp_path: Path
) -> None:
    source = mnn.build_model(tiny_spec(dtype=saved, seed=5))
    source.save_weights(tmp_path / "w.h5")
    model = mnn.build_model(tiny_spec(dtype=target))
    assert model.load_weights(tmp_path / "w.h5").ok
    assert model.dtype == np.dtype(target)
    for name, value in source.get_weights().items():
        loaded = model.get_weights()[name]
        assert loaded.dtype == np.dtype(target)
        np.testing.assert_array_equal(loaded, value.astype(target))
    x = np.ones((2, 4))
    assert model.predict(x).dtype == np.dtype(target)


def test_load_weights_errors_are_checkpoint_errors(trained: mnn.Model, tmp_path: Path) -> None:
    (tmp_path / "bad.h5").write_text("not hdf5")
    with pytest.raises(CheckpointError, match="not an HDF5 file"):
        trained.load_weights(tmp_path / "bad.h5")
    with pytest.raises(CheckpointError, match="not found"):
        trained.load_weights(tmp_path / "missing.h5")


def test_report_describes_nothing_when_ok() -> None:
    assert WeightsReport().ok and WeightsReport().describe() == ""
