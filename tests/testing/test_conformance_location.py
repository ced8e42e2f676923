"""A plugin that raises during the conformance kit is reported with the place in the
plugin (file and line of the last frame inside its package) and the exception."""

from __future__ import annotations

import sys
import textwrap

import pytest

from modular_nn.registry import builtins_only_registry
from modular_nn.testing import check_component

HELPERS = """
def scale(x):
    raise ValueError("scale is not ready")  # raises here
"""

LAYERS = """
import modular_nn as mnn
from raiser_pkg.helpers import scale


class Raises(mnn.Layer):
    type_name = "raiser.raises"
    example_input_shape = (3,)

    def forward(self, x, training=False):
        return scale(x)

    def backward(self, grad_out):
        return grad_out


class ExportRaises(mnn.Layer):
    type_name = "raiser.export_raises"
    example_input_shape = (3,)

    def forward(self, x, training=False):
        return x * 2

    def backward(self, grad_out):
        return grad_out * 2

    def export_onnx(self, builder, inputs):
        return {}["missing"]  # raises here


@mnn.hookimpl
def register_layers(register):
    register(Raises)
    register(ExportRaises)
"""


def line_of(path, marker="# raises here"):
    lines = path.read_text().splitlines()
    return next(number for number, line in enumerate(lines, 1) if marker in line)


@pytest.fixture
def raiser(tmp_path, monkeypatch):
    package = tmp_path / "raiser_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "helpers.py").write_text(textwrap.dedent(HELPERS).lstrip("\n"))
    (package / "layers.py").write_text(textwrap.dedent(LAYERS).lstrip("\n"))
    monkeypatch.syspath_prepend(str(tmp_path))
    import raiser_pkg.layers as plugin

    registry = builtins_only_registry()
    assert registry.register_plugin(plugin, provider="raiser")
    yield registry, package
    for name in [m for m in sys.modules if m.startswith("raiser_pkg")]:
        del sys.modules[name]


def test_an_exception_in_a_plugin_names_its_file_line_and_the_exception(raiser):
    registry, package = raiser
    report = check_component("layers", "raiser.raises", registry=registry)
    failed = {r.property: r.detail for r in report.failures}
    assert failed, str(report)
    helpers = package / "helpers.py"
    where = f"{helpers}:{line_of(helpers)} in scale"  # the last frame inside the plugin
    for prop, detail in failed.items():
        assert "raised ValueError" in detail and "scale is not ready" in detail, prop
        assert where in detail, f"{prop}: {detail}"


def test_an_exception_under_a_wrapping_error_is_located_through_its_cause(raiser):
    registry, package = raiser
    report = check_component("layers", "raiser.export_raises", registry=registry)
    onnx = report.result("exports and matches onnxruntime")
    if onnx.status == "skip":
        pytest.skip(onnx.detail)  # onnx or onnxruntime missing
    assert onnx.status == "fail"
    # the ExportError naming the layer wraps the KeyError raised in export_onnx
    assert "raised ExportError" in onnx.detail and "KeyError" in onnx.detail
    layers = package / "layers.py"
    assert f"{layers}:{line_of(layers)} in export_onnx" in onnx.detail
    assert [r.property for r in report.failures] == ["exports and matches onnxruntime"]
