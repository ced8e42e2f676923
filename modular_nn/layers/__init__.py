"""Built-in layers, one per file.

The classes are importable from here as well (``from modular_nn.layers import
Dense``), each module imported on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

#: Class name -> the module (in this package) defining it.
_MODULES = {
    "ActivationLayer": "activation",
    "Add": "add",
    "Average": "average",
    "AvgPool1D": "avg_pool1d",
    "AvgPool2D": "avg_pool2d",
    "BatchNorm": "batch_norm",
    "Bidirectional": "bidirectional",
    "Concatenate": "concatenate",
    "Conv1D": "conv1d",
    "Conv2D": "conv2d",
    "Dense": "dense",
    "Dropout": "dropout",
    "Embedding": "embedding",
    "Flatten": "flatten",
    "GRU": "gru",
    "GlobalAvgPool1D": "global_avg_pool1d",
    "GlobalAvgPool2D": "global_avg_pool2d",
    "GlobalMaxPool1D": "global_max_pool1d",
    "GlobalMaxPool2D": "global_max_pool2d",
    "LayerNorm": "layer_norm",
    "LSTM": "lstm",
    "MaxPool1D": "max_pool1d",
    "MaxPool2D": "max_pool2d",
    "Maximum": "maximum",
    "Minimum": "minimum",
    "MultiHeadAttention": "multi_head_attention",
    "Multiply": "multiply",
    "Normalization": "normalization",
    "PositionalEmbedding": "positional_embedding",
    "Rescaling": "rescaling",
    "Reshape": "reshape",
    "SimpleRNN": "simple_rnn",
    "Subtract": "subtract",
}

__all__ = sorted(_MODULES)


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{module}"), name)
