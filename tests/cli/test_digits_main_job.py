"""The project's main job: ``modular-nn train examples/digits_mlp.json --out digits.h5`` reaches
at least 97% accuracy on the held-out digits split, printed at the end."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

import modular_nn as mnn
from modular_nn.data import load_builtin

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "digits_mlp.json"


@pytest.mark.slow
def test_digits_mlp_reaches_97_percent_on_the_held_out_split(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("modular-nn")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "modular_nn.cli.main"]
    result = subprocess.run(
        [*command, "train", str(EXAMPLE), "--out", "digits.h5"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    printed = re.search(r"held-out accuracy: ([\d.]+)%", result.stdout)
    assert printed and float(printed.group(1)) >= 97.0, lines[-4:]
    assert lines[-1].startswith("saved digits.h5 (60 epochs")
    digits = load_builtin("digits")
    model = mnn.load(tmp_path / "digits.h5")
    accuracy = model.evaluate(digits.x_test, digits.y_test)["accuracy"]
    assert accuracy >= 0.97 and f"{accuracy:.2%}" == f"{printed.group(1)}%"
