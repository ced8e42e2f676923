"""The conformance kit over every built-in component, driven by the registry itself.

New built-ins are picked up automatically; a new layer without an example in
``modular_nn/testing/examples.py`` (or on its class) fails here instead of
being skipped.
"""

from __future__ import annotations

import pytest

import modular_nn as mnn
from modular_nn.registry import KINDS
from modular_nn.testing import assert_conforms, conformance_cases
from modular_nn.testing.checks.base import NO_EXPORT_METHOD
from modular_nn.testing.checks.layers import NO_GRAPH_MODELS
from modular_nn.testing.onnx_check import NO_ONNX_RUNTIME

BUILTIN_CASES = conformance_cases(plugin="builtins")

#: Properties that may be skipped, and why.
ALLOWED_SKIPS = {"fused gradients"}  # losses that fuse with no activation


#: Model-level properties of the merge layers, skipped only while no model can be built from
#: a graph spec (``graph_models_problem``); once graphs work, they must pass too.
GRAPH_PROPERTIES = {"spec round trip", "hdf5 round trip"}


#: The ONNX export property: skipped without onnxruntime, or for a layer still without an
#: export (tests/export/test_builtin_coverage.py lists those and fails for any other).
EXPORT_PROPERTY = "exports and matches onnxruntime"


def allowed_skip(result) -> bool:
    if result.property in ALLOWED_SKIPS:
        return True
    if result.property == EXPORT_PROPERTY:
        return result.detail.startswith((NO_ONNX_RUNTIME, NO_EXPORT_METHOD))
    return result.property in GRAPH_PROPERTIES and result.detail.startswith(NO_GRAPH_MODELS)


@pytest.mark.parametrize("case", BUILTIN_CASES, ids=str)
def test_builtin_component_conforms(case):
    report = assert_conforms(case)
    skipped = [r for r in report.skipped if not allowed_skip(r)]
    assert not skipped, f"{case}: properties not checked:\n" + "\n".join(map(str, skipped))


def test_every_registered_builtin_is_a_case():
    registry = mnn.get_registry()
    expected = {
        (kind, info.name)
        for kind in KINDS
        for info in registry.components(kind)
        if info.provider.plugin == "builtins"
    }
    assert {(c.kind, c.name) for c in BUILTIN_CASES} == expected
    assert {"dense", "dropout", "batch_norm"} <= {c.name for c in BUILTIN_CASES}
    merges = {"add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate"}
    assert merges <= {c.name for c in BUILTIN_CASES}
