"""What is not a damaged file: a missing path, a directory, a weights-only file given to mnn.load.

Damaged and foreign files (truncated, flipped bytes, wrong types and shapes,
links, invalid specs, non-HDF5 content, ...) are the generated corpus in
``test_damaged_corpus.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import modular_nn as mnn
from modular_nn.errors import CheckpointError


def load_error(path: Path) -> CheckpointError:
    with pytest.raises(CheckpointError) as info:
        mnn.load(path)
    assert type(info.value) is CheckpointError
    return info.value


def test_missing_file(tmp_path: Path) -> None:
    assert "not found" in str(load_error(tmp_path / "nope.h5"))


def test_directory(tmp_path: Path) -> None:
    assert "is a directory" in str(load_error(tmp_path))


def test_weights_only_file_is_not_a_checkpoint(trained: mnn.Model, tmp_path: Path) -> None:
    trained.save_weights(tmp_path / "w.h5")
    assert "weights-only file" in str(load_error(tmp_path / "w.h5"))


def _rewrite_kernel(path: Path, **storage: object) -> None:
    import hashlib

    import h5py
    import numpy as np

    with h5py.File(path, "r+") as f:
        name = "dense_1/kernel"
        kernel = f["weights"][name][()]
        del f["weights"][name]
        dataset = f["weights"].create_dataset(name, data=kernel, **storage)
        dataset.attrs["sha256"] = np.bytes_(hashlib.sha256(kernel.tobytes()).hexdigest())


@pytest.mark.parametrize(
    "storage",
    [
        {"compression": "gzip", "compression_opts": 9, "chunks": (8192, 8192)},
        {"compression": "lzf"},
        {"shuffle": True},
    ],
)
def test_compressed_or_transformed_data_is_refused(
    checkpoint: Path, storage: dict[str, object]
) -> None:
    # a gzip chunk of 8192x8192 zeros is a few hundred KB on disk and 256 MiB in memory
    _rewrite_kernel(checkpoint, maxshape=(None, None), **storage)
    with pytest.raises(CheckpointError, match="stored through HDF5 filter .* only the fletcher32"):
        mnn.load(checkpoint)


def test_a_name_that_is_not_utf8_is_corrupted(checkpoint: Path) -> None:
    import h5py

    with h5py.File(checkpoint, "r+") as f:
        f["weights"][b"bad\xff"] = f["spec"]  # a hard link whose name is not UTF-8
    with pytest.raises(CheckpointError, match=r"not valid UTF-8 \(.*\); the file is corrupted"):
        mnn.load(checkpoint)


def test_a_file_another_process_writes_is_reported_as_locked(checkpoint: Path) -> None:
    import subprocess
    import sys
    import time

    holder = subprocess.Popen(
        [sys.executable, "-c", f"import h5py, time; f = h5py.File({str(checkpoint)!r}, 'r+'); "
         "print('open', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        with pytest.raises(CheckpointError, match="another process has it open for writing"):
            mnn.load(checkpoint)
    finally:
        holder.kill()
        holder.wait()
    time.sleep(0.1)
    assert mnn.load(checkpoint).epochs_done == 2


def test_a_path_with_nul_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="without NUL"):
        mnn.load(str(tmp_path / "a\x00b.h5"))
