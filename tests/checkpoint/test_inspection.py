"""``modular-nn inspect CKPT`` and the description it prints."""

from __future__ import annotations

from pathlib import Path

import pytest

import modular_nn as mnn
from modular_nn.cli.main import main


def test_inspect_prints_spec_weights_state_and_providers(
    checkpoint: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["inspect", str(checkpoint)]) == 0
    out = capsys.readouterr().out
    assert "model file, format_version 1" in out
    assert "model 'tiny': input_shape (4,), dtype float32, seed 7" in out
    assert "dense_1       dense       30      units=6, activation=relu" in out
    assert "dense_1/kernel                (4, 6)  float32  parameter" in out
    assert "batch_norm_1/moving_mean      (6,)    float32  buffer" in out
    assert "optimizer state: adam, iterations 10, 12 slot arrays (m, v)" in out
    assert "training: 2 epochs done, global step 10" in out
    assert "layers/batch_norm" in out and "installed" in out
    assert "verified" not in out


def test_inspect_verify_reads_every_checksum(
    checkpoint: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["inspect", "--verify", str(checkpoint)]) == 0
    assert "every checksum matches" in capsys.readouterr().out


def test_inspect_a_weights_file(
    trained: mnn.Model, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trained.save_weights(tmp_path / "w.h5")
    assert main(["inspect", str(tmp_path / "w.h5")]) == 0
    out = capsys.readouterr().out
    assert "weights file" in out and "dense_2/kernel" in out and "providers" not in out


def test_inspect_a_bad_file_is_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "x.h5").write_text("hello")
    assert main(["inspect", str(tmp_path / "x.h5")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot read checkpoint") and "not an HDF5 file" in err


def test_inspect_wraps_long_options_instead_of_cutting_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = mnn.build_model(
        {
            "input_shape": [3],
            "layers": [
                {"type": "dense", "units": 4, "activation": "relu"},
                {"type": "dense", "units": 1, "kernel_initializer": "glorot_uniform"},
            ],
            "loss": "mse",
            "optimizer": {"type": "adam", "learning_rate": 0.005, "weight_decay": 0.01},
        }
    )
    path = tmp_path / "model.h5"
    model.save(path)
    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    head = out.split("weights (/weights)")[0]
    assert "..." not in head
    joined = " ".join(head.split())  # the wrapped lines read as one text
    assert "kernel_initializer=glorot_uniform, bias_initializer=zeros" in joined
    assert "beta_1=0.9, beta_2=0.999, epsilon=1e-07, weight_decay=0.01" in joined
    assert max(len(line) for line in head.splitlines()[1:]) < 100  # [0] names the path
