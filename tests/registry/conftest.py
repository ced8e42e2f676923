"""Fake plugin distributions, installed for one test by putting a folder with a
``*.dist-info`` (METADATA and entry_points.txt) and the plugin's modules on
``sys.path``: importlib.metadata finds them exactly as it finds pip-installed ones."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from modular_nn.registry import Registry
from modular_nn.testing.distributions import write_distribution

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
    """``make_distribution(name, {module: source}, {entry point: module}, version=...)``:
    see ``modular_nn.testing.distributions.write_distribution``."""
    modules: list[str] = []

    def make(name: str, sources: dict[str, str], entry_points: dict[str, str], **kw: Any) -> Path:
        root = write_distribution(tmp_path / f"site-{name}", name, sources, entry_points, **kw)
        modules.extend(sources)
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
