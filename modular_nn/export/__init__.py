"""Exporting models to other formats: ONNX (``model.export(path, format="onnx")``).

``OnnxBuilder`` is what a component's ``export_onnx`` method receives
(``modular_nn.export.builder``); ``export_model`` walks a model's graph
(``modular_nn.export.onnx_export``). Importing this package does not import onnx.
"""

from __future__ import annotations

from modular_nn.export.builder import OPSET, OnnxBuilder, OnnxExportable, exports_onnx
from modular_nn.export.onnx_export import export_model

__all__ = ["OPSET", "OnnxBuilder", "OnnxExportable", "export_model", "exports_onnx"]
