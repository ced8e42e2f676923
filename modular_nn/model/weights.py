"""A model's weights by name (``layer/name``), and its files: the ``WeightAccess`` mixin
of ``Model``.

Weight names are the layers' names and their parameters' or buffers' names;
layers of block copies read ``res/1/conv_a/kernel``. Files are written and read by
``modular_nn.checkpoint`` (imported on first use, so training never loads h5py).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from modular_nn.components.layer import Layer
from modular_nn.errors import DataError, LayerNotFoundError

if TYPE_CHECKING:
    from modular_nn.model.model import Model


class WeightAccess:
    """``get_layer``, ``get_weights``, ``set_weights``, ``count_params``, ``save``,
    ``save_weights``, ``load_weights`` and ``export``, for ``Model``."""

    def get_layer(self: Model, name: str) -> Layer:
        """The layer called ``name``."""
        name = self.graph.resolve(name)
        for node in self.graph.nodes:
            if node.name == name:
                name = node.owner  # a use of a shared layer: that layer
        for layer in self.layers:
            if layer.name == name:
                return layer
        names = ", ".join(layer.name or "" for layer in self.layers)
        raise LayerNotFoundError(f"no layer named {name!r}; layers: {names}")

    def get_weights(self: Model) -> dict[str, np.ndarray]:
        """Copies of every parameter and buffer, by ``layer/name``."""
        return {k: v.copy() for k, v in {**self.params, **self.buffers}.items()}

    def set_weights(self: Model, weights: dict[str, np.ndarray]) -> None:
        """Copy values into parameters/buffers by ``layer/name`` (shapes must match)."""
        if not isinstance(weights, Mapping):
            raise DataError(
                "expected weights as a dict of arrays by 'layer/name' (as get_weights gives), "
                f"received: {type(weights).__name__}"
            )
        targets = {**self.params, **self.buffers}
        problems = []
        arrays = {}
        for key, value in weights.items():
            if key not in targets:
                problems.append(f"unknown weight {key!r}")
                continue
            try:
                arrays[key] = np.asarray(value, dtype=targets[key].dtype)
            except (TypeError, ValueError):
                problems.append(f"{key}: expected numbers, received {type(value).__name__}")
                continue
            if arrays[key].shape != targets[key].shape:
                problems.append(
                    f"{key}: expected shape {targets[key].shape}, received {arrays[key].shape}"
                )
        if problems:
            raise DataError("cannot set weights: " + "; ".join(problems))
        for key, value in arrays.items():
            targets[key][...] = value

    def count_params(self: Model) -> int:
        """Number of trainable scalars."""
        return int(sum(p.size for p in self.params.values()))

    # ----- persistence (HDF5) ------------------------------------------------------------
    def save(self: Model, path: str | os.PathLike[str]) -> None:
        """Write spec, weights, optimizer and training state to one HDF5 file, atomically.

        Checkpoints are HDF5: a ``path`` not ending in ``.h5`` or ``.hdf5`` (``x.keras``)
        is refused with a ``CheckpointError``, nothing written."""
        from modular_nn.checkpoint import save_model

        save_model(self, path)

    def save_weights(self: Model, path: str | os.PathLike[str]) -> None:
        """Write parameters and buffers only (HDF5, a ``.h5`` or ``.hdf5`` path), atomically."""
        from modular_nn.checkpoint import save_weights

        save_weights(self, path)

    def load_weights(self: Model, path: str | os.PathLike[str], strict: bool = True) -> Any:
        """Load parameters and buffers by name; see ``modular_nn.checkpoint.load_weights``."""
        from modular_nn.checkpoint import load_weights

        return load_weights(self, path, strict=strict)

    def export(self: Model, path: str | os.PathLike[str], format: str = "onnx") -> Path:
        """Write the model in inference mode as an ONNX file (Keras 3's ``export``); needs
        the ``[onnx]`` extra. Raises ``ExportError`` before writing anything when a
        component cannot be exported; see ``modular_nn.export`` and docs/export.md."""
        from modular_nn.export import export_model

        return export_model(self, path, format=format)
