"""``modular-nn new-plugin NAME`` writes a package that installs with pip, is found through
its entry point, and whose generated tests (the conformance kit) pass as generated."""

from __future__ import annotations

import importlib
import importlib.util
import json
import math
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.cli.main import main
from modular_nn.cli.new_plugin import KINDS, PluginNames, ScaffoldError, write_plugin
from modular_nn.errors import SpecError, TrainingError
from modular_nn.metrics import make_metrics
from modular_nn.registry import Provider, builtins_only_registry, use_registry
from modular_nn.testing import check_component, conformance_cases
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


#: kind -> (registry kind, the example's name after the prefix)
GENERATED = {
    "layer": ("layers", "linear"),
    "activation": ("activations", "softsign"),
    "loss": ("losses", "log_cosh"),
    "optimizer": ("optimizers", "momentum"),
    "initializer": ("initializers", "scaled_normal"),
    "metric": ("metrics", "specificity"),
}


def test_every_kind_is_covered():
    assert set(GENERATED) == set(KINDS)


@pytest.mark.parametrize("kind", sorted(GENERATED))
def test_each_kind_is_written_registered_and_passes_its_generated_tests(kind, tmp_path, capsys):
    """--kind and --dist: the package under the distribution's name, the component under
    NAME's prefix; registered by hand (as an installation would), its generated test file
    (the conformance kit over the distribution and the use in a model) passes."""
    dist = f"acme-{kind}s"
    code = main(["new-plugin", "acme", "--dist", dist, "--kind", kind, "-d", str(tmp_path)])
    assert code == 0
    registry_kind, example = GENERATED[kind]
    assert f"{kind} acme.{example}" in capsys.readouterr().out
    root = tmp_path / dist
    package = dist.replace("-", "_")
    assert (root / "src" / package / f"{example}.py").is_file()
    assert f'name = "{dist}"' in (root / "pyproject.toml").read_text()
    assert f'acme = "{package}.plugin"' in (root / "pyproject.toml").read_text()
    assert f"`acme.{example}`" in (root / "README.md").read_text()
    sys.path.insert(0, str(root / "src"))
    try:
        plugin = importlib.import_module(f"{package}.plugin")
        registry = builtins_only_registry()
        assert registry.register_plugin(plugin, provider=Provider("acme", dist, "0.1.0"))
        assert f"acme.{example}" in registry.names(registry_kind)
        test_file = root / "tests" / f"test_{package}_conformance.py"
        with use_registry(registry):
            spec = importlib.util.spec_from_file_location(f"generated_{kind}_tests", test_file)
            tests = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(tests)  # its parametrize asks for the distribution's cases
            cases = conformance_cases(distribution=dist)
            assert [(c.kind, c.name) for c in cases] == [(registry_kind, f"acme.{example}")]
            for case in cases:
                tests.test_conforms(case)
            usage = [getattr(tests, n) for n in dir(tests) if n.startswith("test_the_")]
            assert len(usage) == 1
            usage[0]()
    finally:
        sys.path.remove(str(root / "src"))
        for module in [m for m in sys.modules if m.startswith(package)]:
            del sys.modules[module]


def test_dist_names_and_unknown_kind_refused(tmp_path, capsys):
    names = PluginNames.from_name("Acme", "Acme.Layers")
    assert (names.prefix, names.distribution, names.package) == (
        "acme",
        "acme.layers",
        "acme_layers",
    )
    for bad in ("1abc", "a b", "modular_nn", "acme/../x"):
        with pytest.raises(ScaffoldError, match="expected a distribution name"):
            PluginNames.from_name("acme", bad)
    with pytest.raises(ScaffoldError, match="expected --kind one of") as caught:
        write_plugin("acme", tmp_path, kind="metrics")
    assert "layer, activation, loss, optimizer, initializer, metric" in str(caught.value)
    assert not (tmp_path / "modular-nn-acme").exists()
    with pytest.raises(SystemExit):  # argparse: invalid choice
        main(["new-plugin", "acme", "--kind", "callback", "-d", str(tmp_path)])
    assert "invalid choice" in capsys.readouterr().err
    assert not (tmp_path / "modular-nn-acme").exists()


def test_the_generated_metric_is_a_ready_example(tmp_path):
    """The metric kind: registered through register_metrics, binary only, with an option;
    exact over batches against a count by hand, and usable in a spec with its options."""
    root = write_plugin("acme", tmp_path, kind="metric")
    plugin_text = (root / "src/modular_nn_acme/plugin.py").read_text()
    assert "def register_metrics(register: Register) -> None:" in plugin_text
    assert "register(Specificity)" in plugin_text
    assert '"training": {"metrics": ["acme.specificity"]}' in (root / "README.md").read_text()
    sys.path.insert(0, str(root / "src"))
    try:
        import modular_nn_acme.plugin as plugin

        registry = builtins_only_registry()
        assert registry.register_plugin(plugin, provider="acme")
        with use_registry(registry):
            rng = np.random.default_rng(3)
            scores = rng.uniform(size=(50, 2))
            labels = (rng.uniform(size=(50, 2)) < 0.4).astype(np.float64)
            (metric,) = make_metrics(
                [{"type": "acme.specificity", "threshold": 0.3, "name": "tnr"}],
                "binary",
                False,
                (2,),
            )
            assert metric.name == "tnr"
            for lo in range(0, 50, 7):
                metric.update(scores[lo : lo + 7], labels[lo : lo + 7])
            negatives = labels == 0
            expected = np.count_nonzero(negatives & (scores <= 0.3)) / np.count_nonzero(negatives)
            assert metric.result() == pytest.approx(expected, rel=1e-12)
            assert metric.state().tolist() == [
                np.count_nonzero(negatives & (scores <= 0.3)),
                np.count_nonzero(negatives),
            ]
            with pytest.raises(TrainingError, match="applies to binary outputs"):
                make_metrics(["acme.specificity"], "regression", False, (1,))
            with pytest.raises(SpecError, match="threshold"):
                make_metrics([{"type": "acme.specificity", "threshold": 2}], "binary", False)
            model = mnn.build_model(
                json.loads((root / "README.md").read_text().split("```json")[1].split("```")[0])
            )
            logs = model.evaluate(rng.standard_normal((8, 4)), np.ones((8, 1)))
            assert math.isnan(logs["acme.specificity"])  # no negative target: undefined
    finally:
        sys.path.remove(str(root / "src"))
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
