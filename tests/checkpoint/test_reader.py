"""Damaged and foreign files: mnn.load raises only CheckpointError, with a specific message."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.checkpoint.writer import set_text_attr, write_array, write_text
from modular_nn.errors import CheckpointError, SpecError


def load_error(path: Path) -> CheckpointError:
    with pytest.raises(CheckpointError) as info:
        mnn.load(path)
    assert type(info.value) is CheckpointError
    return info.value


def edited(path: Path, change: Callable[[h5py.File], Any]) -> Path:
    with h5py.File(path, "r+") as file:
        change(file)
    return path


def replace_array(name: str, data: Any) -> Callable[[h5py.File], None]:
    """Swap a dataset for another with a valid digest, so only the intended flaw remains."""

    def change(file: h5py.File) -> None:
        del file[name]
        write_array(file, name, np.asarray(data))

    return change


def replace_text(name: str, text: str) -> Callable[[h5py.File], None]:
    def change(file: h5py.File) -> None:
        del file[name]
        write_text(file, name, text)

    return change


# ----- not a checkpoint at all ---------------------------------------------------------------
def test_missing_file(tmp_path: Path) -> None:
    assert "not found" in str(load_error(tmp_path / "nope.h5"))


def test_directory(tmp_path: Path) -> None:
    assert "is a directory" in str(load_error(tmp_path))


@pytest.mark.parametrize("content", [b"", b"{'not': 'hdf5'}\n" * 40])
def test_not_an_hdf5_file(content: bytes, tmp_path: Path) -> None:
    path = tmp_path / "x.h5"
    path.write_bytes(content)
    assert "not an HDF5 file" in str(load_error(path))


@pytest.mark.parametrize("keep", [0.95, 0.5, 0.01])
def test_truncated_file(keep: float, checkpoint: Path) -> None:
    data = checkpoint.read_bytes()
    checkpoint.write_bytes(data[: max(int(len(data) * keep), 9)])
    assert "truncated" in str(load_error(checkpoint))


def test_foreign_hdf5_file(tmp_path: Path) -> None:
    path = tmp_path / "foreign.h5"
    with h5py.File(path, "w") as file:
        file["data"] = np.arange(3)
    assert "not a modular_nn checkpoint" in str(load_error(path))


def test_other_format_name(checkpoint: Path) -> None:
    edited(checkpoint, lambda f: set_text_attr(f, "format", "keras"))
    assert "format is 'keras'" in str(load_error(checkpoint))


# ----- format version and kind -----------------------------------------------------------------
def test_newer_format_version(checkpoint: Path) -> None:
    edited(checkpoint, lambda f: f.attrs.create("format_version", np.int64(2)))
    message = str(load_error(checkpoint))
    assert "format_version 2, newer" in message and "upgrade modular-nn" in message


@pytest.mark.parametrize("version", [np.int64(0), np.int64(-3)])
def test_older_or_invalid_format_version(version: Any, checkpoint: Path) -> None:
    edited(checkpoint, lambda f: f.attrs.create("format_version", version))
    assert "unsupported format_version" in str(load_error(checkpoint))


def test_format_version_of_the_wrong_type(checkpoint: Path) -> None:
    edited(checkpoint, lambda f: set_text_attr(f, "format_version", "1"))
    assert "expected an integer 'format_version'" in str(load_error(checkpoint))


def test_weights_only_file_is_not_a_checkpoint(trained: mnn.Model, tmp_path: Path) -> None:
    trained.save_weights(tmp_path / "w.h5")
    assert "weights-only file" in str(load_error(tmp_path / "w.h5"))


# ----- structure -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "group", ["weights", "optimizer", "optimizer/slots", "training", "training/history"]
)
def test_missing_group(group: str, checkpoint: Path) -> None:
    edited(checkpoint, lambda f: f.__delitem__(group))
    assert f"missing group /{group}" in str(load_error(checkpoint))


@pytest.mark.parametrize(
    "dataset",
    ["spec", "provenance/components", "optimizer/iterations", "training/epochs_done"],
)
def test_missing_dataset(dataset: str, checkpoint: Path) -> None:
    edited(checkpoint, lambda f: f.__delitem__(dataset))
    assert f"missing dataset /{dataset}" in str(load_error(checkpoint))


def test_missing_and_unexpected_weights_are_all_named(checkpoint: Path) -> None:
    def change(file: h5py.File) -> None:
        del file["weights/dense_1/bias"]
        del file["weights/batch_norm_1/moving_mean"]
        write_array(file, "weights/dense_9/kernel", np.zeros(2, np.float32))

    message = str(load_error(edited(checkpoint, change)))
    assert "missing from the file: dense_1/bias" in message
    assert "missing from the file: batch_norm_1/moving_mean" in message
    assert "unexpected in the file: dense_9/kernel" in message


def test_group_where_a_dataset_belongs(checkpoint: Path) -> None:
    def change(file: h5py.File) -> None:
        del file["training/epochs_done"]
        file.create_group("training/epochs_done")

    assert "expected /training/epochs_done to be a dataset" in str(
        load_error(edited(checkpoint, change))
    )


# ----- dtypes, shapes, sizes ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("weights/dense_1/kernel", np.zeros((4, 6), np.int32), "dtype int32"),
        ("optimizer/slots/dense_1/kernel/m", np.zeros((4, 6), np.uint8), "dtype uint8"),
        ("training/epochs_done", np.float64(2.0), "dtype float64"),
        ("training/history/epoch", np.zeros(2, np.float32), "dtype float32"),
    ],
)
def test_wrong_dtype(name: str, data: Any, expected: str, checkpoint: Path) -> None:
    message = str(load_error(edited(checkpoint, replace_array(name, data))))
    assert f"dataset /{name} has {expected}" in message


def test_object_dtype_is_refused_before_reading(checkpoint: Path) -> None:
    def change(file: h5py.File) -> None:
        del file["weights/dense_1/kernel"]
        file.create_dataset("weights/dense_1/kernel", data=["a"] * 4, dtype=h5py.string_dtype())

    message = str(load_error(edited(checkpoint, change)))
    assert "dtype object" in message and "refused" in message


def test_spec_stored_as_a_number_is_refused(checkpoint: Path) -> None:
    message = str(load_error(edited(checkpoint, replace_array("spec", np.int64(1)))))
    assert "dataset /spec has dtype int64, expected a fixed-length string" in message


def test_wrong_weight_shape_names_both_shapes(checkpoint: Path) -> None:
    change = replace_array("weights/dense_1/kernel", np.zeros((6, 4), np.float32))
    message = str(load_error(edited(checkpoint, change)))
    assert "dense_1/kernel: model has shape (4, 6), file has (6, 4)" in message


def test_wrong_optimizer_slot_shape(checkpoint: Path) -> None:
    change = replace_array("optimizer/slots/dense_2/bias/v", np.zeros(3, np.float32))
    message = str(load_error(edited(checkpoint, change)))
    assert "dense_2/bias/v: model has shape (1,), file has (3,)" in message


def test_wrong_scalar_shape(checkpoint: Path) -> None:
    change = replace_array("training/global_step", np.array([10], np.int64))
    message = str(load_error(edited(checkpoint, change)))
    assert "dataset /training/global_step has shape (1,), expected ()" in message


@pytest.mark.parametrize(
    ("name", "dtype"),
    [("weights/dense_1/kernel", "f4"), ("training/history/metrics/loss", "f8"), ("spec", "S64")],
)
def test_absurd_size_is_refused_before_reading(name: str, dtype: str, checkpoint: Path) -> None:
    def change(file: h5py.File) -> None:
        del file[name]
        # Chunked and never written: the file stays small while the dataset claims ~8 TiB.
        file.create_dataset(name, shape=(2**40, 2), dtype=dtype, chunks=(1, 2))

    message = str(load_error(edited(checkpoint, change)))
    assert "absurd size" in message and "refused before reading" in message


# ----- the embedded spec and provenance -----------------------------------------------------------
def test_invalid_spec_is_a_checkpoint_error_caused_by_the_spec_error(checkpoint: Path) -> None:
    with h5py.File(checkpoint, "r") as file:
        spec = json.loads(bytes(file["spec"][()]).decode())
    spec["layers"][0]["units"] = 0
    error = load_error(edited(checkpoint, replace_text("spec", json.dumps(spec))))
    assert "embedded spec is invalid" in str(error) and "units" in str(error)
    assert isinstance(error.__cause__, SpecError)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("{not json", "is not valid JSON"), ('"/etc/passwd"', "must hold a JSON object")],
)
def test_spec_that_is_not_a_json_object(text: str, expected: str, checkpoint: Path) -> None:
    assert expected in str(load_error(edited(checkpoint, replace_text("spec", text))))


def test_malformed_provenance(checkpoint: Path) -> None:
    change = replace_text("provenance/components", '[{"kind": "layers"}]')
    assert "provenance/components is malformed" in str(load_error(edited(checkpoint, change)))


def test_optimizer_state_of_another_optimizer(checkpoint: Path) -> None:
    edited(checkpoint, lambda f: set_text_attr(f["optimizer"], "type", "sgd"))
    assert "holds the state of 'sgd'" in str(load_error(checkpoint))


def test_invalid_rng_state(checkpoint: Path) -> None:
    change = replace_text("training/rng_state", json.dumps({"bit_generator": "MT19937"}))
    assert "must be the state of a PCG64 generator" in str(load_error(edited(checkpoint, change)))
    state = {"bit_generator": "PCG64", "state": {"state": "x", "inc": 1}}
    change = replace_text("training/rng_state", json.dumps(state))
    assert "not a valid PCG64 state" in str(load_error(edited(checkpoint, change)))


def test_negative_epoch_count(checkpoint: Path) -> None:
    change = replace_array("training/epochs_done", np.int64(-1))
    assert "/training/epochs_done is -1, expected at least 0" in str(
        load_error(edited(checkpoint, change))
    )


# ----- links and foreign storage ------------------------------------------------------------------
def test_soft_link_is_refused(checkpoint: Path) -> None:
    edited(checkpoint, lambda f: f.__setitem__("weights/alias", h5py.SoftLink("/weights/dense_1")))
    assert "/weights/alias is a soft link" in str(load_error(checkpoint))


def test_external_link_is_refused(checkpoint: Path, tmp_path: Path) -> None:
    shutil.copy(checkpoint, tmp_path / "other.h5")

    def change(file: h5py.File) -> None:
        del file["weights"]
        file["weights"] = h5py.ExternalLink("other.h5", "/weights")

    assert "external link to other.h5:/weights" in str(load_error(edited(checkpoint, change)))


def test_virtual_dataset_is_refused(checkpoint: Path, tmp_path: Path) -> None:
    def change(file: h5py.File) -> None:
        layout = h5py.VirtualLayout(shape=(4, 6), dtype="f4")
        layout[:] = h5py.VirtualSource(str(tmp_path / "elsewhere.h5"), "x", shape=(4, 6))
        del file["weights/dense_1/kernel"]
        file.create_virtual_dataset("weights/dense_1/kernel", layout)

    assert "is a virtual dataset" in str(load_error(edited(checkpoint, change)))


def test_external_raw_storage_is_refused(checkpoint: Path, tmp_path: Path) -> None:
    (tmp_path / "raw.bin").write_bytes(bytes(96))

    def change(file: h5py.File) -> None:
        del file["weights/dense_1/kernel"]
        file.create_dataset(
            "weights/dense_1/kernel", shape=(4, 6), dtype="f4", external=[("raw.bin", 0, 96)]
        )

    assert "keeps its data in external files" in str(load_error(edited(checkpoint, change)))


# ----- corruption ---------------------------------------------------------------------------------
def _data_offsets(path: Path) -> dict[str, int]:
    """File offset of the first stored byte of every dataset."""
    offsets: dict[str, int] = {}

    def visit(name: str, node: Any) -> None:
        if isinstance(node, h5py.Dataset):
            if node.chunks:
                offsets[name] = node.id.get_chunk_info(0).byte_offset
            else:
                offsets[name] = node.id.get_offset()

    with h5py.File(path, "r") as file:
        file.visititems(visit)
    return offsets


def test_a_flipped_byte_in_any_dataset_is_detected(checkpoint: Path, tmp_path: Path) -> None:
    original = checkpoint.read_bytes()
    offsets = _data_offsets(checkpoint)
    assert {"spec", "weights/dense_1/kernel", "training/epochs_done"} <= offsets.keys()
    assert len(offsets) > 20
    for name, offset in offsets.items():
        damaged = bytearray(original)
        damaged[offset] ^= 0x10
        path = tmp_path / "damaged.h5"
        path.write_bytes(bytes(damaged))
        message = str(load_error(path))
        assert f"/{name}" in message and "corrupted" in message, (name, message)


def test_flipped_checksum_attribute_is_detected(checkpoint: Path) -> None:
    edited(checkpoint, lambda f: set_text_attr(f["weights/dense_1/kernel"], "sha256", "0" * 64))
    assert "/weights/dense_1/kernel fails its SHA-256 checksum" in str(load_error(checkpoint))


def test_missing_checksum_attribute(checkpoint: Path) -> None:
    edited(checkpoint, lambda f: f["training/global_step"].attrs.__delitem__("sha256"))
    assert "has no 'sha256' checksum" in str(load_error(checkpoint))


def test_random_damage_never_escapes_as_another_error(
    checkpoint: Path, trained: mnn.Model, tmp_path: Path
) -> None:
    """Flip random bits anywhere: either a CheckpointError or the very same model."""
    original = checkpoint.read_bytes()
    x = np.random.default_rng(0).standard_normal((3, 4))
    expected = trained.predict(x)
    rng = np.random.default_rng(2024)
    path = tmp_path / "fuzzed.h5"
    for position in rng.integers(0, len(original), 40):
        damaged = bytearray(original)
        damaged[position] ^= 1 << int(rng.integers(8))
        path.write_bytes(bytes(damaged))
        try:
            model = mnn.load(path)
        except CheckpointError:
            continue
        np.testing.assert_array_equal(model.predict(x), expected)
