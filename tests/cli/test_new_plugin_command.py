"""``modular-nn new-plugin NAME`` writes a package that installs with pip, is found through
its entry point, and whose generated tests (the conformance kit) pass as generated."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys

import pytest

from modular_nn.cli.main import main
from modular_nn.cli.new_plugin import PluginNames, ScaffoldError, write_plugin
from modular_nn.registry import builtins_only_registry
from modular_nn.testing import check_component
from modular_nn.testing.distributions import write_distribution


def test_writes_the_package(tmp_path, capsys):
    assert main(["new-plugin", "acme-tools", "--directory", str(tmp_path)]) == 0
    assert "wrote" in capsys.readouterr().out
    root = tmp_path / "modular-nn-acme-tools"
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert files == [
        "README.md",
        "pyproject.toml",
        "src/modular_nn_acme_tools/__init__.py",
        "src/modular_nn_acme_tools/linear.py",
        "src/modular_nn_acme_tools/plugin.py",
        "tests/test_modular_nn_acme_tools_conformance.py",
    ]
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((root / "pyproject.toml").read_text())
    assert project["project"]["name"] == "modular-nn-acme-tools"
    assert project["project"]["entry-points"]["modular_nn"] == {
        "acme_tools": "modular_nn_acme_tools.plugin"
    }
    layer = (root / "src/modular_nn_acme_tools/linear.py").read_text()
    assert 'type_name = "acme_tools.linear"' in layer and "def backward" in layer
    for path in root.rglob("*.py"):
        compile(path.read_text(), str(path), "exec")  # valid Python as generated


def test_names_and_refusals(tmp_path):
    names = PluginNames.from_name("modular-nn-Acme")
    assert (names.prefix, names.distribution, names.package) == (
        "acme",
        "modular-nn-acme",
        "modular_nn_acme",
    )
    for bad in ("", "1abc", "a b", "builtins", "acme.tools"):
        with pytest.raises(ScaffoldError, match="expected a plugin name"):
            PluginNames.from_name(bad)
    write_plugin("acme", tmp_path)
    with pytest.raises(ScaffoldError, match="already exists"):
        write_plugin("acme", tmp_path)
    write_plugin("acme", tmp_path, force=True)
    assert main(["new-plugin", "acme", "-d", str(tmp_path)]) == 1  # an error line, not a traceback


def test_the_generated_layer_conforms(tmp_path, monkeypatch):
    """Without installing: import the generated plugin module and register it by hand."""
    root = write_plugin("acme", tmp_path)
    monkeypatch.syspath_prepend(str(root / "src"))
    try:
        import modular_nn_acme.plugin as plugin

        registry = builtins_only_registry()
        assert registry.register_plugin(plugin, provider="acme")
        report = check_component("layers", "acme.linear", registry=registry)
        assert report.ok, str(report)
    finally:
        for module in [m for m in sys.modules if m.startswith("modular_nn_acme")]:
            del sys.modules[module]


def can_build_wheels() -> bool:
    """pip can build a wheel offline (--no-build-isolation) with the setuptools installed here:
    setuptools >= 70.1 builds wheels alone, older ones need the ``wheel`` package."""
    try:
        import setuptools
    except ImportError:
        return False
    if importlib.util.find_spec("wheel") is not None:
        return True
    version = tuple(int(part) for part in re.findall(r"\d+", setuptools.__version__)[:2])
    return version >= (70, 1)


def install(root, site) -> str:
    """Install the generated package into ``site``: with pip when it can build offline,
    otherwise as pip would lay it out (the package, and a dist-info holding the entry points
    read from the generated pyproject.toml). Returns how it was installed."""
    if can_build_wheels():
        done = subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation"]
            + ["--no-input", "--disable-pip-version-check", "--target", str(site), str(root)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return "pip"
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    write_distribution(
        site,
        project["name"],
        {},
        project["entry-points"]["modular_nn"],
        version=project["version"],
    )
    for package in (root / "src").iterdir():
        shutil.copytree(package, site / package.name)
    return "laid out"


@pytest.mark.slow
def test_installed_it_is_found_and_its_generated_tests_pass(tmp_path):
    """pip builds and installs the package (no network: --no-deps, --no-build-isolation),
    and pytest runs the generated tests against the installation, in a new process."""
    root = write_plugin("acme", tmp_path / "src")
    site = tmp_path / "site"
    install(root, site)
    assert (site / "modular_nn_acme-0.1.0.dist-info" / "entry_points.txt").exists()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
    }
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(root)],
        capture_output=True,
        text=True,
        cwd=root,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
