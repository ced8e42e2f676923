"""The project's main job: ``modular-nn train examples/digits_mlp.json --out digits.h5`` reaches
at least 97% accuracy on the held-out digits split, printed at the end."""

import re
from pathlib import Path
from typing import Any

import pytest

import modular_nn as mnn
from modular_nn.data import load_builtin

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "digits_mlp.json"


@pytest.mark.slow
def test_digits_mlp_reaches_97_percent_on_the_held_out_split(cli: Any, tmp_path: Path) -> None:
    result = cli("train", str(EXAMPLE), "--out", "digits.h5", cwd=tmp_path, timeout=600)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    printed = re.search(r"held-out accuracy: ([\d.]+)%", result.stdout)
    assert printed and float(printed.group(1)) >= 97.0, lines[-4:]
    assert lines[-1].startswith("saved digits.h5 (60 epochs")
    digits = load_builtin("digits")
    model = mnn.load(tmp_path / "digits.h5")
    accuracy = model.evaluate(digits.x_test, digits.y_test)["accuracy"]
    assert accuracy >= 0.97 and f"{accuracy:.2%}" == f"{printed.group(1)}%"
