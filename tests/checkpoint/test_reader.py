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
