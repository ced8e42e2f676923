"""``train`` with a plugin whose code raises: one line naming the plugin, the layer and
the exception, pointing to ``--debug``; ``--debug`` shows the traceback."""

from __future__ import annotations

import json
import os

import pytest

from modular_nn.testing.distributions import write_distribution

PLUGIN = """
import modular_nn as mnn


class Explode(mnn.Layer):
    type_name = "boom.explode"

    def forward(self, x, training=False):
        if training:
            raise ValueError("the fuse is lit")
        return x

    def backward(self, grad_out):
        return grad_out


class BadBackward(mnn.Activation):
    type_name = "boom.bad_backward"

    def forward(self, x):
        return x

    def backward(self, grad_out):
        return grad_out @ grad_out  # a shape error, as a newcomer writes it


@mnn.hookimpl
def register_layers(register):
    register(Explode)


@mnn.hookimpl
def register_activations(register):
    register(BadBackward)
"""


@pytest.fixture
def boom_env(tmp_path):
    site = write_distribution(
        tmp_path / "site", "modular-nn-boom", {"boom_plugin": PLUGIN}, {"boom": "boom_plugin"}
    )
    path = os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path}


def spec_file(tmp_path, layers):
    spec = {
        "input_shape": [2],
        "layers": layers,
        "loss": "mse",
        "optimizer": "sgd",
        "training": {"epochs": 1, "batch_size": 8},
        "data": "builtin:xor",
    }
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    return str(path)


def errors(result):
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def test_a_plugin_layer_raising_is_one_line(cli, boom_env, tmp_path):
    layers = [{"name": "fuse", "type": "boom.explode"}, {"type": "dense", "units": 1}]
    spec = spec_file(tmp_path, layers)
    result = cli("train", spec, "--out", "m.h5", cwd=tmp_path, env=boom_env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    (line,) = errors(result)
    assert "modular-nn-boom 1.0 (plugin 'boom')" in line
    assert "layer 'fuse' (type 'boom.explode')" in line
    assert "ValueError" in line and "the fuse is lit" in line and "--debug" in line
    assert "boom_plugin.py:" in line  # where in the plugin
    debug = cli("train", spec, "--out", "m.h5", "--debug", cwd=tmp_path, env=boom_env)
    assert debug.returncode != 0 and "Traceback" in debug.stderr
    assert "ValueError: the fuse is lit" in debug.stderr


def test_a_plugin_activation_raising_names_it_and_its_layer(cli, boom_env, tmp_path):
    layers = [{"name": "hidden", "type": "dense", "units": 3, "activation": "boom.bad_backward"},
              {"type": "dense", "units": 1}]  # fmt: skip
    spec = spec_file(tmp_path, layers)
    result = cli("train", spec, "--out", "m.h5", cwd=tmp_path, env=boom_env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    (line,) = errors(result)
    assert "(plugin 'boom')" in line and "activation 'boom.bad_backward'" in line
    assert "in layer 'hidden' (type 'dense')" in line and "ValueError" in line
