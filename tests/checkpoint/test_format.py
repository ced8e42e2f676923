"""The documented layout (docs/checkpoint-format.md), read back with nothing but h5py."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import h5py
import numpy as np
import pytest

import modular_nn as mnn


def _text(value: object) -> str:
    return bytes(value).decode("utf-8")  # type: ignore[call-overload]


def _sha256(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array, array.dtype.newbyteorder("<"))).hexdigest()


def test_root_attributes(checkpoint: Path) -> None:
    with h5py.File(checkpoint, "r") as file:
        attrs = file.attrs
        assert _text(attrs["format"]) == "modular_nn.checkpoint"
        assert attrs["format_version"] == 1 and attrs["format_version"].dtype == np.int64
        assert _text(attrs["kind"]) == "model"
        assert _text(attrs["library_version"]) == mnn.__version__
        assert _text(attrs["created"]).endswith("Z")
        for name in attrs:  # fixed-length strings or integers: never object dtype
            assert attrs.get_id(name).dtype.kind in "Si"


def test_weights_by_documented_paths(checkpoint: Path, trained: mnn.Model) -> None:
    with h5py.File(checkpoint, "r") as file:
        assert sorted(file) == ["optimizer", "provenance", "spec", "training", "weights"]
        for layer in trained.layers:
            for name, value in {**layer.params, **layer.buffers}.items():
                dataset = file[f"/weights/{layer.name}/{name}"]
                np.testing.assert_array_equal(dataset[()], value, strict=True)
                assert dataset.dtype == np.dtype("<f4")
                assert dataset.fletcher32 and dataset.chunks is not None
                assert dataset.compression is None
                assert _text(dataset.attrs["sha256"]) == _sha256(dataset[()])
                role = "buffer" if name in layer.buffers else "parameter"
                assert _text(dataset.attrs["role"]) == role


def test_spec_is_json_text_in_a_dataset(checkpoint: Path, trained: mnn.Model) -> None:
    with h5py.File(checkpoint, "r") as file:
        dataset = file["spec"]
        assert dataset.shape == () and dataset.dtype.kind == "S"
        assert h5py.check_string_dtype(dataset.dtype).encoding == "utf-8"
        raw = bytes(dataset[()])
        assert _text(dataset.attrs["sha256"]) == hashlib.sha256(raw).hexdigest()
    assert mnn.load_spec(json.loads(raw)).model_dump() == trained.to_spec().model_dump()


def test_optimizer_and_training_state(checkpoint: Path, trained: mnn.Model) -> None:
    with h5py.File(checkpoint, "r") as file:
        assert _text(file["optimizer"].attrs["type"]) == "adam"
        assert file["optimizer/iterations"][()] == trained.optimizer.iterations
        for param, slots in trained.optimizer.slots.items():
            for slot in ("m", "v"):
                stored = file[f"optimizer/slots/{param}/{slot}"][()]
                np.testing.assert_array_equal(stored, slots[slot], strict=True)
        assert file["training/epochs_done"][()] == 2
        assert file["training/global_step"][()] == trained.global_step
        state = json.loads(bytes(file["training/rng_state"][()]))
        assert state == trained.rng.bit_generator.state
        assert list(file["training/history/epoch"][()]) == [1, 2]
        loss = file["training/history/metrics/loss"][()]
        assert loss.dtype == np.float64 and list(loss) == trained.history.history["loss"]


def test_weights_only_file(trained: mnn.Model, tmp_path: Path) -> None:
    trained.save_weights(tmp_path / "w.h5")
    with h5py.File(tmp_path / "w.h5", "r") as file:
        assert _text(file.attrs["kind"]) == "weights"
        assert list(file) == ["weights"]
        kernel = file["weights/dense_1/kernel"][()]
    np.testing.assert_array_equal(kernel, trained.params["dense_1/kernel"])


@pytest.mark.skipif(shutil.which("h5dump") is None, reason="h5dump (hdf5-tools) not installed")
def test_h5dump_reads_the_weights(checkpoint: Path, trained: mnn.Model) -> None:
    """Another HDF5 implementation (the reference tools, possibly an older HDF5) reads them."""
    out = subprocess.run(
        ["h5dump", "-d", "/weights/dense_2/bias", "-A", "0", str(checkpoint)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "H5T_IEEE_F32LE" in out
    value = float(out.split("(0):")[1].split()[0])
    assert value == pytest.approx(float(trained.params["dense_2/bias"][0]), rel=1e-5)
