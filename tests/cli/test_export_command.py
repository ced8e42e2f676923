"""``modular-nn export CKPT -o model.onnx``: the file written, its default name, and the
one-line errors (a checkpoint that cannot be read, the [onnx] extra missing)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.cli.main import main
from modular_nn.testing.onnx_check import onnx_runtime_problem, run_onnx

needs_onnxruntime = pytest.mark.skipif(
    onnx_runtime_problem() is not None, reason=str(onnx_runtime_problem())
)
XOR = Path(__file__).resolve().parents[2] / "examples" / "xor.json"


@needs_onnxruntime
def test_export_writes_the_checkpoints_model(cli, tmp_path):
    model = mnn.build_model(XOR)
    model.save(tmp_path / "xor.h5")
    result = cli("export", str(tmp_path / "xor.h5"), "-o", str(tmp_path / "out.onnx"))
    assert result.returncode == 0, result.stderr
    assert "exported 'xor'" in result.stdout and "opset 17" in result.stdout
    assert "inputs input (None, 2)" in result.stdout
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    got = run_onnx(tmp_path / "out.onnx", {"input": x})[model.output_names[0]]
    np.testing.assert_allclose(got, model.predict(x), atol=1e-6)


@needs_onnxruntime
def test_default_output_is_the_checkpoint_name_with_onnx(tmp_path, capsys):
    mnn.build_model(XOR).save(tmp_path / "run.h5")
    assert main(["export", str(tmp_path / "run.h5")]) == 0
    assert (tmp_path / "run.onnx").is_file()
    assert str(tmp_path / "run.onnx") in capsys.readouterr().out


def test_missing_checkpoint_is_one_line(tmp_path, capsys):
    assert main(["export", str(tmp_path / "nope.h5"), "-o", str(tmp_path / "m.onnx")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    assert not (tmp_path / "m.onnx").exists()


def test_missing_extra_is_named(tmp_path, capsys, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_onnx(name, *args, **kwargs):
        if name == "onnx" or name.startswith("onnx."):
            raise ImportError("No module named 'onnx'")
        return real_import(name, *args, **kwargs)

    mnn.build_model(XOR).save(tmp_path / "run.h5")
    monkeypatch.setattr(builtins, "__import__", no_onnx)
    assert main(["export", str(tmp_path / "run.h5")]) == 1
    err = capsys.readouterr().err
    assert "install the [onnx] extra: pip install 'modular-nn[onnx]'" in err
    assert not (tmp_path / "run.onnx").exists()
