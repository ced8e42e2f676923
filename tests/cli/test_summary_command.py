"""``modular-nn summary SPEC [--format text|dot]`` through the real console script."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

import modular_nn as mnn
from modular_nn.model.dot import graph_dot
from modular_nn.model.summary import summary_table

#: two inputs, a block placed twice, shared layers and a shared block, a merge
SIAMESE: dict[str, Any] = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "specs" / "siamese.json").read_text()
)
CHAIN = {
    "input_shape": [4],
    "layers": [{"type": "dense", "units": 8, "activation": "relu"}, {"type": "dense", "units": 2}],
}


@pytest.fixture
def siamese_path(tmp_path: Path) -> str:
    path = tmp_path / "siamese.json"
    path.write_text(json.dumps(SIAMESE))
    return str(path)


def test_text_is_the_default_and_shows_the_graph(cli: Any, siamese_path: str) -> None:
    default = cli("summary", siamese_path)
    explicit = cli("summary", siamese_path, "--format", "text")
    assert default.returncode == explicit.returncode == 0
    assert default.stdout == explicit.stdout == summary_table(mnn.build_model(SIAMESE)) + "\n"
    assert "Connected to" in default.stdout and "conv2d (shares stem)" in default.stdout
    assert "res (residual)" in default.stdout and "enc, enc_r" in default.stdout


def test_a_chain_keeps_its_table(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "chain.json"
    path.write_text(json.dumps(CHAIN))
    result = cli("summary", str(path))
    assert result.returncode == 0
    assert result.stdout.splitlines()[:2] == [
        'Model "model" (input (None, 4), float32)',
        "Layer    Type   Output shape  Params",
    ]
    assert "Connected to" not in result.stdout


def test_dot_prints_the_graph(cli: Any, siamese_path: str) -> None:
    result = cli("summary", siamese_path, "--format", "dot")
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout == graph_dot(mnn.build_model(SIAMESE))
    assert result.stdout.startswith('digraph "siamese" {')
    assert 'subgraph "cluster_res/2" {' in result.stdout


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")
def test_dot_output_renders_to_png(cli: Any, siamese_path: str, tmp_path: Path) -> None:
    text = cli("summary", siamese_path, "--format", "dot").stdout
    png = tmp_path / "siamese.png"
    done = subprocess.run(["dot", "-Tpng", "-o", str(png)], input=text, text=True, timeout=60)
    assert done.returncode == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_unknown_format_is_refused_naming_the_choices(cli: Any, siamese_path: str) -> None:
    result = cli("summary", siamese_path, "--format", "png")
    assert result.returncode == 2 and result.stdout == ""
    assert "invalid choice: 'png'" in result.stderr and "'text', 'dot'" in result.stderr


def test_a_graph_mistake_is_one_clean_error(cli: Any, tmp_path: Path) -> None:
    broken = {**SIAMESE, "layers": [*SIAMESE["layers"][:-2], SIAMESE["layers"][-1]]}
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken))
    result = cli("summary", str(path), "--format", "dot")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("error:") and "Traceback" not in result.stderr
    assert "layers[2]: the output of 'enc' reaches no model output" in result.stderr
