"""Fake plugin distributions, installed for one test by putting a folder with a
``*.dist-info`` (METADATA and entry_points.txt) and the plugin's modules on
``sys.path``: importlib.metadata finds them exactly as it finds pip-installed ones."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from modular_nn.registry import Registry

MakeDistribution = Callable[..., Path]

#: A plugin module registering one working layer, ``{prefix}.double`` (y = 2x).
GOOD_PLUGIN = """
import modular_nn as mnn

class Double(mnn.Layer):
    type_name = "{prefix}.double"
    example_input_shape = (3,)

    def forward(self, x, training=False):
        return x * 2

    def backward(self, grad_out):
        return grad_out * 2

@mnn.hookimpl
def register_layers(register):
    register(Double)
"""


@pytest.fixture
def make_distribution(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[MakeDistribution]:
    """``make_distribution(name, {module: source}, {entry point: module}, version=...)``."""
    modules: list[str] = []

    def make(
        name: str,
        sources: dict[str, str],
        entry_points: dict[str, str],
        version: str = "1.0",
        entry_points_text: str | None = None,
    ) -> Path:
        root = tmp_path / f"site-{name}"
        root.mkdir()
        for module, source in sources.items():
            (root / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
            modules.append(module)
        info = root / f"{name.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8"
        )
        text = entry_points_text
        if text is None:
            text = "[modular_nn]\n" + "".join(f"{k} = {v}\n" for k, v in entry_points.items())
        (info / "entry_points.txt").write_text(text, encoding="utf-8")
        monkeypatch.syspath_prepend(str(root))
        return root

    yield make
    for module in modules:
        sys.modules.pop(module, None)


@pytest.fixture
def good_plugin() -> Callable[[str], str]:
    """The source of a working plugin module registering ``{prefix}.double``."""
    return GOOD_PLUGIN.format


@pytest.fixture
def fresh_registry() -> Callable[[], Registry]:
    """A new registry that discovers whatever is on sys.path now."""

    def fresh() -> Registry:
        registry = Registry()
        registry.ensure_loaded()
        return registry

    return fresh
