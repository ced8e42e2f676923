"""modular_nn: a NumPy neural-network framework.

Models are JSON specs validated by pydantic, every component is a pluggy
plugin, and checkpoints are self-describing HDF5 files.
"""

from __future__ import annotations

from modular_nn.components.activation import Activation
from modular_nn.components.component import ComponentConfig
from modular_nn.components.initializer import Initializer
from modular_nn.components.layer import Layer
from modular_nn.components.loss import Loss
from modular_nn.components.metric import Metric
from modular_nn.components.optimizer import Optimizer, OptimizerConfig
from modular_nn.components.refs import ActivationRef, InitializerRef
from modular_nn.data import load_data
from modular_nn.errors import (
    CallbackError,
    CheckpointError,
    DataError,
    LayerNotFoundError,
    ModularNNError,
    PluginError,
    ShapeError,
    SpecError,
    SpecIssue,
    TrainingError,
    TuneError,
)
from modular_nn.hookspecs import hookimpl
from modular_nn.model.build import build_model, load
from modular_nn.model.callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    ModelCheckpoint,
    ReduceLROnPlateau,
)
from modular_nn.model.history import History
from modular_nn.model.model import Model
from modular_nn.registry import available, get_registry
from modular_nn.spec.loading import load_spec
from modular_nn.spec.model_spec import ModelSpec

__version__ = "0.1.0"


__all__ = [
    "Activation",
    "ActivationRef",
    "CSVLogger",
    "Callback",
    "CallbackError",
    "CheckpointError",
    "ComponentConfig",
    "DataError",
    "EarlyStopping",
    "History",
    "Initializer",
    "InitializerRef",
    "Layer",
    "LayerNotFoundError",
    "Loss",
    "Metric",
    "Model",
    "ModelCheckpoint",
    "ModelSpec",
    "ModularNNError",
    "Optimizer",
    "OptimizerConfig",
    "PluginError",
    "ReduceLROnPlateau",
    "ShapeError",
    "SpecError",
    "SpecIssue",
    "TrainingError",
    "TuneError",
    "__version__",
    "available",
    "build_model",
    "get_registry",
    "hookimpl",
    "load",
    "load_data",
    "load_spec",
]
