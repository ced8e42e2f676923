"""Atomic writes: a save killed mid-write or failing leaves the previous checkpoint intact."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.checkpoint import state, writer
from modular_nn.errors import CheckpointError

# The child trains a model further, then saves it over the checkpoint; the save
# announces itself and stalls after a few weights have been written.
CHILD = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    import modular_nn as mnn
    from modular_nn.checkpoint import weights

    path = sys.argv[1]
    model = mnn.load(path)
    rng = np.random.default_rng(0)
    model.fit(rng.standard_normal((16, 4)), rng.integers(0, 2, (16, 1)), epochs=1, verbose=0)
    real, calls = weights.write_array, []

    def stalling_write_array(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            print("mid-write", flush=True)
            time.sleep(120)
        return real(*args, **kwargs)

    weights.write_array = stalling_write_array
    model.save(path)
    print("finished", flush=True)
    """
)


def _wait_for_line(process: subprocess.Popen[str], timeout: float) -> str:
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)  # type: ignore[arg-type]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if selector.select(timeout=1.0):
            return process.stdout.readline().strip()  # type: ignore[union-attr]
        if process.poll() is not None:
            break
    return ""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_mid_save_leaves_the_previous_checkpoint_intact(
    checkpoint: Path, trained: mnn.Model
) -> None:
    before = checkpoint.read_bytes()
    script = checkpoint.parent / "child.py"
    script.write_text(CHILD)
    process = subprocess.Popen(
        [sys.executable, str(script), str(checkpoint)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = _wait_for_line(process, timeout=60)
        assert line == "mid-write", process.stderr.read() if process.poll() is not None else line
        temps = list(checkpoint.parent.glob(".run.h5.*.tmp"))
        assert len(temps) == 1 and temps[0].stat().st_size > 0  # the new file is being written
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        process.stdout.close()  # type: ignore[union-attr]
        process.stderr.close()  # type: ignore[union-attr]
    assert process.returncode == -signal.SIGKILL
    assert checkpoint.read_bytes() == before
    loaded = mnn.load(checkpoint)
    x = np.random.default_rng(1).standard_normal((5, 4))
    np.testing.assert_array_equal(loaded.predict(x), trained.predict(x), strict=True)
    assert loaded.epochs_done == trained.epochs_done


def test_a_failing_save_keeps_the_old_file_and_removes_its_temp(
    checkpoint: Path, trained: mnn.Model, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = checkpoint.read_bytes()

    def broken(*args: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("modular_nn.checkpoint.model_io.write_training", broken)
    with pytest.raises(CheckpointError, match="No space left on device"):
        trained.save(checkpoint)
    assert checkpoint.read_bytes() == before
    assert sorted(p.name for p in checkpoint.parent.iterdir()) == ["run.h5"]


def test_an_interrupted_save_removes_its_temp(
    tmp_path: Path, trained: mnn.Model, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(state, "write_array", interrupted)
    with pytest.raises(KeyboardInterrupt):
        trained.save(tmp_path / "run.h5")
    assert list(tmp_path.iterdir()) == []


def test_the_file_and_directory_are_fsynced(
    tmp_path: Path, trained: mnn.Model, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}") if os.path.isdir("/proc") else "?")
        real_fsync(fd)

    monkeypatch.setattr(writer.os, "fsync", spy)
    trained.save(tmp_path / "run.h5")
    assert len(synced) == 2
    if os.path.isdir("/proc"):
        assert Path(synced[0]).parent == tmp_path and Path(synced[0]).name.endswith(".tmp")
        assert Path(synced[1]) == tmp_path


def test_new_files_get_the_usual_permissions(tmp_path: Path, trained: mnn.Model) -> None:
    old = os.umask(0o022)
    try:
        trained.save(tmp_path / "run.h5")
    finally:
        os.umask(old)
    assert (tmp_path / "run.h5").stat().st_mode & 0o777 == 0o644


def test_unwritable_targets(tmp_path: Path, trained: mnn.Model) -> None:
    with pytest.raises(CheckpointError, match="does not exist"):
        trained.save(tmp_path / "no" / "such" / "dir.h5")
    with pytest.raises(CheckpointError, match="is a directory"):
        trained.save_weights(tmp_path)
    with pytest.raises(CheckpointError, match="expected a file path"):
        trained.save(42)  # type: ignore[arg-type]


@pytest.mark.parametrize("path", [b"x.h5", "a.h5\x00", ""])
def test_a_path_that_is_not_text_is_a_checkpoint_error(
    tmp_path: Path, trained: mnn.Model, path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for save in (trained.save, trained.save_weights):
        with pytest.raises(CheckpointError, match="expected a file path as text"):
            save(path)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_replacing_a_checkpoint_keeps_its_permissions(tmp_path: Path, trained: mnn.Model) -> None:
    path = tmp_path / "private.h5"
    trained.save(path)
    os.chmod(path, 0o600)
    trained.save(path)
    assert os.stat(path).st_mode & 0o777 == 0o600


def test_a_file_name_of_255_bytes_can_be_saved(tmp_path: Path, trained: mnn.Model) -> None:
    path = tmp_path / ("a" * 252 + ".h5")
    trained.save(path)
    assert mnn.load(path).count_params() == trained.count_params()
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left


def test_saving_through_a_symlink_replaces_the_file_it_points_to(
    tmp_path: Path, trained: mnn.Model
) -> None:
    real, link = tmp_path / "real.h5", tmp_path / "latest.h5"
    trained.save(real)
    link.symlink_to(real.name)
    trained.fit(np.ones((4, 4)), np.ones((4, 1)), epochs=1, verbose=0)
    trained.save(link)
    assert link.is_symlink() and mnn.load(real).epochs_done == trained.epochs_done


@pytest.mark.parametrize("name", ["x.keras", "x.ckpt", "x.pt", "x", "x.h5.tmp"])
def test_a_name_that_is_not_hdf5_is_refused_and_nothing_is_written(
    tmp_path: Path, trained: mnn.Model, name: str
) -> None:
    for save in (trained.save, trained.save_weights):
        with pytest.raises(CheckpointError, match=r"checkpoints are HDF5 files") as caught:
            save(tmp_path / name)
        assert ".h5 or .hdf5" in str(caught.value) and name in str(caught.value)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(CheckpointError, match=r"save to '.*x\.h5'"):
        trained.save(tmp_path / "x.keras")  # the fix names the file to use


@pytest.mark.parametrize("name", ["x.h5", "x.hdf5", "X.H5", "run.v2.HDF5"])
def test_h5_and_hdf5_names_in_any_case_are_saved(
    tmp_path: Path, trained: mnn.Model, name: str
) -> None:
    trained.save(tmp_path / name)
    trained.save_weights(tmp_path / f"w-{name}")
    assert mnn.load(tmp_path / name).count_params() == trained.count_params()
