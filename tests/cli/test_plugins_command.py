"""``modular-nn plugins``: lists distributions, versions, components and failures; a broken
plugin never takes the command line down (and is fatal only in strict mode)."""

from __future__ import annotations

import json
import os
import sys

import pytest

from modular_nn.cli.main import main
from modular_nn.registry import Registry, use_registry
from modular_nn.testing.distributions import write_distribution

GOOD = """
import modular_nn as mnn

class Same(mnn.Layer):
    type_name = "{prefix}.same"

    def forward(self, x, training=False):
        return x

    def backward(self, grad_out):
        return grad_out

@mnn.hookimpl
def register_layers(register):
    register(Same)
"""

BROKEN = "raise ImportError('this plugin needs a missing library')"


@pytest.fixture
def site(tmp_path):
    """A folder holding a good, a broken and two clashing fake distributions."""
    root = tmp_path / "site"
    write_distribution(
        root, "modular-nn-good", {"good_p": GOOD.format(prefix="good")}, {"good": "good_p"}
    )
    write_distribution(
        root, "modular-nn-broken", {"broken_p": BROKEN}, {"broken": "broken_p"}, version="0.3"
    )
    write_distribution(
        root, "modular-nn-one", {"one_p": GOOD.format(prefix="both")}, {"both": "one_p"}
    )
    write_distribution(
        root, "modular-nn-two", {"two_p": GOOD.format(prefix="both")}, {"both": "two_p"}
    )
    return root


@pytest.fixture
def run_cli(cli, site):
    """``run_cli(*args, **env)``: the real ``modular-nn`` in a subprocess that sees the fakes."""

    def run(*args, **env):
        path = os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])
        return cli(*args, env={**os.environ, "PYTHONPATH": path, **env})

    return run


def test_lists_the_builtins_with_their_version_and_components(capsys):
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "modular-nn 0.1.0  [plugin 'builtins']" in out
    assert "dense" in out and "layers (" in out and "optimizers (" in out


def test_json_for_machines(capsys):
    assert main(["plugins", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    builtins = report["plugins"][0]
    assert builtins["plugin"] == "builtins" and builtins["distribution"] == "modular-nn"
    assert builtins["status"] == "loaded" and builtins["error"] is None
    assert "dense" in builtins["components"]["layers"]
    assert report["conflicts"] == [] and report["strict"] is False


def test_failures_and_conflicts_are_listed(site, monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(site))
    registry = Registry()
    with pytest.warns(Warning), use_registry(registry):
        registry.ensure_loaded()
        assert main(["plugins", "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert main(["plugins"]) == 0
        text = capsys.readouterr().out
    for module in ("good_p", "broken_p", "one_p", "two_p"):
        sys.modules.pop(module, None)
    by_name = {p["plugin"]: p for p in report["plugins"]}
    assert by_name["broken"]["status"] == "failed"
    assert by_name["broken"]["version"] == "0.3"
    assert "ImportError: this plugin needs a missing library" in by_name["broken"]["error"]
    assert by_name["good"]["components"] == {"layers": ["good.same"]}
    (conflict,) = report["conflicts"]
    assert conflict["name"] == "both.same"
    assert [p["distribution"] for p in conflict["providers"]] == [
        "modular-nn-one",
        "modular-nn-two",
    ]
    assert "modular-nn-broken 0.3  [plugin 'broken']  FAILED" in text
    assert "layer 'both.same': modular-nn-one 1.0, modular-nn-two 1.0" in text


def test_a_broken_plugin_does_not_take_the_command_line_down(run_cli, tmp_path):
    result = run_cli("plugins")
    assert result.returncode == 0, result.stderr
    assert "modular-nn-broken 0.3  [plugin 'broken']  FAILED" in result.stdout
    assert "modular-nn-good 1.0  [plugin 'good']" in result.stdout
    assert "modular-nn-broken" in result.stderr and "missing library" in result.stderr  # warned
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"input_shape": [2], "layers": [{"type": "good.same"}]}))
    result = run_cli("validate", str(spec))
    assert result.returncode == 0 and "OK" in result.stdout


def test_strict_mode_makes_it_an_error_and_disabling_makes_it_go_away(run_cli):
    result = run_cli("plugins", MODULAR_NN_STRICT_PLUGINS="1")
    assert result.returncode == 1
    assert "error:" in result.stderr and "modular-nn-broken 0.3" in result.stderr
    result = run_cli(
        "plugins",
        "--json",
        MODULAR_NN_DISABLE_PLUGINS="broken,modular-nn-two",
        MODULAR_NN_STRICT_PLUGINS="1",
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    status = {p["plugin"]: p["status"] for p in report["plugins"]}
    assert status["broken"] == "disabled" and status["modular-nn-two:both"] == "disabled"
    assert report["conflicts"] == [] and report["disabled"] == ["broken", "modular-nn-two"]
