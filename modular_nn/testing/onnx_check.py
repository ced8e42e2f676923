"""Run an exported model in onnxruntime and compare it with ``predict``: what the
conformance kit's "exports and matches onnxruntime" property and the export tests use.

    problem = onnx_runtime_problem()          # None when onnx and onnxruntime import
    gap = onnx_gap(model, x)                  # max |onnxruntime - predict| over outputs
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

#: How a skip for want of onnx or onnxruntime starts (callers may allow exactly that skip).
NO_ONNX_RUNTIME = "needs onnx and onnxruntime"


def onnx_runtime_problem() -> str | None:
    """Why an export cannot be checked here (``NO_ONNX_RUNTIME ...``), or None."""
    missing = []
    for module in ("onnx", "onnxruntime"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        return (
            f"{NO_ONNX_RUNTIME}, not installed here ({', '.join(missing)} missing): "
            "pip install 'modular-nn[onnx]' onnxruntime"
        )
    return None


def run_onnx(path: str | os.PathLike[str], inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The outputs of the ONNX file at ``path`` for ``inputs`` (by input name), by name."""
    import onnxruntime

    session = onnxruntime.InferenceSession(os.fspath(path), providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    return dict(zip(names, session.run(names, inputs)))


def onnx_inputs(model: Any, x: Any) -> dict[str, np.ndarray]:
    """``x`` (an array, a list in input order or a dict by name) as the exported file takes
    it: by input name, in the model's dtype, integer ids as int64."""
    if isinstance(x, dict):
        parts = [x[name] for name in model.input_names]
    elif isinstance(x, (list, tuple)):
        parts = list(x)
    else:
        parts = [x]
    return {
        name: np.asarray(part, dtype=np.int64 if integer else model.dtype)
        for name, part, integer in zip(model.input_names, parts, model._integer_flags)
    }


def onnx_outputs_and_predictions(
    model: Any, x: Any, path: str | os.PathLike[str] | None = None
) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """``(output name, onnxruntime's output, predict's output)`` per output, exporting the
    model first (to ``path``, or to a temporary file)."""
    if path is None:
        with tempfile.TemporaryDirectory(prefix="mnn-onnx-") as tmp:
            return onnx_outputs_and_predictions(model, x, Path(tmp) / "model.onnx")
    model.export(path)
    got = run_onnx(path, onnx_inputs(model, x))
    expected = model.predict(x)
    if not isinstance(expected, dict):
        expected = {model.output_names[0]: expected}
    return [(name, got[name], np.asarray(expected[name])) for name in model.output_names]


def onnx_gap(model: Any, x: Any, path: str | os.PathLike[str] | None = None) -> float:
    """The largest absolute difference between onnxruntime and ``predict`` over every
    output (inf where a shape differs)."""
    worst = 0.0
    for _, got, expected in onnx_outputs_and_predictions(model, x, path):
        if got.shape != expected.shape:
            return float("inf")
        if got.size:
            diff = np.abs(got.astype(np.float64) - expected.astype(np.float64))
            worst = max(worst, float(np.max(diff)))
    return worst


__all__ = [
    "NO_ONNX_RUNTIME",
    "onnx_gap",
    "onnx_inputs",
    "onnx_outputs_and_predictions",
    "onnx_runtime_problem",
    "run_onnx",
]
