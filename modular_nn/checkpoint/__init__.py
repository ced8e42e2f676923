"""Self-describing HDF5 checkpoints (the file format is in ``docs/checkpoint-format.md``).

- ``save_model`` / ``load_model``: spec, weights, optimizer and training state
  (``model.save`` and ``mnn.load``).
- ``save_weights`` / ``load_weights``: parameters and buffers only, loaded by
  name with a ``WeightsReport`` of missing, unexpected and mis-shaped entries.

Writes are atomic; reads never execute code and raise only ``CheckpointError``.
"""

from __future__ import annotations

from modular_nn.checkpoint.format import FORMAT_NAME, FORMAT_VERSION
from modular_nn.checkpoint.model_io import load_model, save_model
from modular_nn.checkpoint.weights import ShapeMismatch, WeightsReport, load_weights, save_weights

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "ShapeMismatch",
    "WeightsReport",
    "load_model",
    "load_weights",
    "save_model",
    "save_weights",
]
