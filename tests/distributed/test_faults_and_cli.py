"""Issue 18 on the command line: ``train --workers N`` and ``mpiexec -n N modular-nn
train`` write the same checkpoint; a process that raises or is killed stops every
process (non-zero exit, the error printed once, no checkpoint); without mpi4py,
``--workers`` names the ``[mpi]`` extra."""

from __future__ import annotations

import builtins
import json
import subprocess
import sys
from pathlib import Path

import h5py
import mpi_worker as w
import numpy as np
import pytest
from mpi_helpers import mpiexec, quiet_env, run_mpi

import modular_nn as mnn
from modular_nn.cli.main import main

HERE = Path(__file__).resolve().parent
#: issue 18: every process exits within 60 s of a fault
FAULT_TIMEOUT = 60


def cli_files(folder: Path, epochs: int = 3) -> Path:
    """A spec (``spec.json``) and the worker's data as ``data.npz`` and ``data.h5``."""
    spec = w.spec(*w.CONFIGS["adam64"])
    spec["training"]["epochs"] = epochs
    (folder / "spec.json").write_text(json.dumps(spec))
    w.write_data_files(folder)
    return folder / "spec.json"


def checkpoint_weights(path: Path) -> np.ndarray:
    return w.weights(mnn.load(path))


def leftovers(folder: Path) -> list[str]:
    """Files in ``folder`` other than the inputs written by ``cli_files``."""
    return sorted(
        p.name for p in folder.iterdir() if p.name not in {"spec.json", "data.npz", "data.h5"}
    )


@pytest.mark.slow
def test_workers_option_writes_the_checkpoint_mpiexec_writes(tmp_path: Path) -> None:
    spec = cli_files(tmp_path)
    common = ["train", str(spec), "--data", str(tmp_path / "data.npz"), "--quiet"]
    launched = run_mpi(2, "-m", "modular_nn.cli.main", *common, "--out", str(tmp_path / "mpi.h5"))
    assert launched.returncode == 0, launched.stderr
    assert launched.stdout.count("saved ") == 1  # rank 0 alone prints and writes
    workers = subprocess.run(
        [sys.executable, "-m", "modular_nn.cli.main", *common, "--workers", "2",
         "--out", str(tmp_path / "workers.h5")],
        capture_output=True, text=True, timeout=120, env=quiet_env(), check=False,
    )  # fmt: skip
    assert workers.returncode == 0, workers.stderr
    alone = subprocess.run(
        [sys.executable, "-m", "modular_nn.cli.main", *common, "--out", str(tmp_path / "one.h5")],
        capture_output=True, text=True, timeout=120, env=quiet_env(), check=False,
    )  # fmt: skip
    assert alone.returncode == 0, alone.stderr
    two = checkpoint_weights(tmp_path / "mpi.h5")
    np.testing.assert_array_equal(checkpoint_weights(tmp_path / "workers.h5"), two)
    assert np.abs(checkpoint_weights(tmp_path / "one.h5") - two).max() <= 1e-12
    for name, processes in (("mpi.h5", 2), ("workers.h5", 2), ("one.h5", 1)):
        with h5py.File(tmp_path / name, "r") as f:
            assert int(f["training/processes"][()]) == processes, name


@pytest.mark.slow
def test_a_process_that_raises_stops_every_process(tmp_path: Path) -> None:
    spec = cli_files(tmp_path)
    with h5py.File(tmp_path / "data.h5", "r+") as f:
        f["X"][17, 2] = np.nan  # bad data in one row: one process's shard of one batch
    proc = run_mpi(
        2, "-m", "modular_nn.cli.main", "train", str(spec), "--data", str(tmp_path / "data.h5"),
        "--out", str(tmp_path / "run.h5"), "--checkpoint-every", "1", "--quiet",
        timeout=FAULT_TIMEOUT,
    )  # fmt: skip
    assert proc.returncode != 0
    assert proc.stderr.count("failed: DataError") == 1, proc.stderr
    assert "NaN" in proc.stderr
    assert leftovers(tmp_path) == []


@pytest.mark.slow
def test_a_killed_process_stops_every_process(tmp_path: Path) -> None:
    spec = cli_files(tmp_path, epochs=4)
    env = {**quiet_env(), "MNN_TEST_KILL_RANK": "1", "MNN_TEST_KILL_STEP": "9"}
    proc = subprocess.run(
        [mpiexec(), "-n", "2", sys.executable, str(HERE / "mpi_cli.py"), "train", str(spec),
         "--data", str(tmp_path / "data.npz"), "--out", str(tmp_path / "run.h5"),
         "--checkpoint-every", "1", "--quiet"],
        capture_output=True, text=True, timeout=FAULT_TIMEOUT, env=env, check=False,
    )  # fmt: skip
    assert proc.returncode != 0, proc.stdout
    # step 9 is in epoch 2: epoch 1's checkpoint is whole, nothing else was written
    assert leftovers(tmp_path) == ["run-epoch0001.h5"]
    assert mnn.load(tmp_path / "run-epoch0001.h5").epochs_done == 1


def test_workers_without_mpi4py_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = cli_files(tmp_path)
    real_import = builtins.__import__

    def without_mpi4py(name: str, *args: object, **kwargs: object) -> object:
        if name == "mpi4py" or name.startswith("mpi4py."):
            raise ImportError(f"No module named {name!r} (hidden by the test)")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_mpi4py)
    argv = ["train", str(spec), "--data", str(tmp_path / "data.npz"), "--workers", "2"]
    assert main(argv) != 0
    error = capsys.readouterr().err
    assert "[mpi]" in error and "--workers" in error, error
    assert leftovers(tmp_path) == []
