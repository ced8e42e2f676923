"""Every built-in layer and activation exports to ONNX, but for the layers whose export
is still to be written (listed here): a new built-in without ``export_onnx`` fails."""

from __future__ import annotations

import modular_nn as mnn
from modular_nn.export import exports_onnx

#: Built-in layers without an ONNX export yet; a model using one is refused by name
#: (``ExportError``) and the conformance kit reports the property as skipped.
PENDING = {"normalization"}

#: What the issue names, which must export.
REQUIRED = {
    "layers": {
        "dense", "dropout", "batch_norm", "layer_norm", "conv2d", "max_pool2d", "avg_pool2d",
        "global_avg_pool2d", "flatten", "reshape", "embedding", "activation", "add",
        "subtract", "multiply", "average", "maximum", "minimum", "concatenate",
    },
    "activations": {
        "linear", "sigmoid", "relu", "tanh", "softmax", "leaky_relu", "elu", "gelu", "silu",
        "softplus",
    },
}  # fmt: skip


def builtins(kind):
    registry = mnn.get_registry()
    return {i.name: i.cls for i in registry.components(kind) if i.provider.plugin == "builtins"}


def test_required_components_export():
    for kind, names in REQUIRED.items():
        found = builtins(kind)
        assert names <= set(found), f"{kind} not registered: {names - set(found)}"
        lacking = sorted(name for name in names if not exports_onnx(found[name]))
        assert not lacking, f"{kind} without export_onnx: {lacking}"


def test_every_builtin_exports_or_is_listed_as_pending():
    for kind in ("layers", "activations"):
        lacking = sorted(
            name
            for name, cls in builtins(kind).items()
            if not exports_onnx(cls) and name not in PENDING
        )
        assert not lacking, (
            f"built-in {kind} without export_onnx: {lacking}; add the method "
            "(docs/export.md) or list them in PENDING"
        )
