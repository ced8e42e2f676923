"""The built-in components, registered as a plugin through the same hooks as any other.

modular_nn's own ``pyproject.toml`` names this module as the entry point
``builtins`` in the group ``modular_nn``.
"""

from __future__ import annotations

from modular_nn.activations.elu import ELU
from modular_nn.activations.gelu import GELU
from modular_nn.activations.leaky_relu import LeakyReLU
from modular_nn.activations.linear import Linear
from modular_nn.activations.relu import ReLU
from modular_nn.activations.sigmoid import Sigmoid
from modular_nn.activations.silu import SiLU
from modular_nn.activations.softmax import Softmax
from modular_nn.activations.softplus import Softplus
from modular_nn.activations.tanh import Tanh
from modular_nn.hookspecs import Register, hookimpl
from modular_nn.initializers.constant import Constant
from modular_nn.initializers.glorot_normal import GlorotNormal
from modular_nn.initializers.glorot_uniform import GlorotUniform
from modular_nn.initializers.he_normal import HeNormal
from modular_nn.initializers.he_uniform import HeUniform
from modular_nn.initializers.lecun_normal import LecunNormal
from modular_nn.initializers.normal import Normal
from modular_nn.initializers.ones import Ones
from modular_nn.initializers.orthogonal import Orthogonal
from modular_nn.initializers.truncated_normal import TruncatedNormal
from modular_nn.initializers.zeros import Zeros
from modular_nn.layers.activation import ActivationLayer
from modular_nn.layers.add import Add
from modular_nn.layers.average import Average
from modular_nn.layers.avg_pool1d import AvgPool1D
from modular_nn.layers.avg_pool2d import AvgPool2D
from modular_nn.layers.batch_norm import BatchNorm
from modular_nn.layers.bidirectional import Bidirectional
from modular_nn.layers.concatenate import Concatenate
from modular_nn.layers.conv1d import Conv1D
from modular_nn.layers.conv2d import Conv2D
from modular_nn.layers.dense import Dense
from modular_nn.layers.dropout import Dropout
from modular_nn.layers.embedding import Embedding
from modular_nn.layers.flatten import Flatten
from modular_nn.layers.global_avg_pool1d import GlobalAvgPool1D
from modular_nn.layers.global_avg_pool2d import GlobalAvgPool2D
from modular_nn.layers.global_max_pool1d import GlobalMaxPool1D
from modular_nn.layers.global_max_pool2d import GlobalMaxPool2D
from modular_nn.layers.gru import GRU
from modular_nn.layers.layer_norm import LayerNorm
from modular_nn.layers.lstm import LSTM
from modular_nn.layers.max_pool1d import MaxPool1D
from modular_nn.layers.max_pool2d import MaxPool2D
from modular_nn.layers.maximum import Maximum
from modular_nn.layers.minimum import Minimum
from modular_nn.layers.multi_head_attention import MultiHeadAttention
from modular_nn.layers.multiply import Multiply
from modular_nn.layers.normalization import Normalization
from modular_nn.layers.positional_embedding import PositionalEmbedding
from modular_nn.layers.rescaling import Rescaling
from modular_nn.layers.reshape import Reshape
from modular_nn.layers.simple_rnn import SimpleRNN
from modular_nn.layers.subtract import Subtract
from modular_nn.losses.binary_crossentropy import BinaryCrossentropy
from modular_nn.losses.categorical_crossentropy import CategoricalCrossentropy
from modular_nn.losses.huber import Huber
from modular_nn.losses.mae import MeanAbsoluteError
from modular_nn.losses.mse import MeanSquaredError
from modular_nn.losses.sparse_categorical_crossentropy import SparseCategoricalCrossentropy
from modular_nn.metrics.accuracy import Accuracy
from modular_nn.metrics.auc import AUC
from modular_nn.metrics.binary_accuracy import BinaryAccuracy
from modular_nn.metrics.categorical_accuracy import CategoricalAccuracy
from modular_nn.metrics.f1 import F1Score
from modular_nn.metrics.mae import MAE
from modular_nn.metrics.mse import MSE
from modular_nn.metrics.precision import Precision
from modular_nn.metrics.r2 import R2Score
from modular_nn.metrics.recall import Recall
from modular_nn.metrics.top_k_accuracy import TopKAccuracy
from modular_nn.optimizers.adagrad import Adagrad
from modular_nn.optimizers.adam import Adam
from modular_nn.optimizers.adamw import AdamW
from modular_nn.optimizers.rmsprop import RMSprop
from modular_nn.optimizers.sgd import SGD

LAYERS = [
    Dense,
    Dropout,
    BatchNorm,
    ActivationLayer,
    LayerNorm,
    Conv2D,
    MaxPool2D,
    AvgPool2D,
    GlobalAvgPool2D,
    GlobalMaxPool2D,
    Conv1D,
    MaxPool1D,
    AvgPool1D,
    GlobalAvgPool1D,
    GlobalMaxPool1D,
    Flatten,
    Reshape,
    Embedding,
    Add,
    Subtract,
    Multiply,
    Average,
    Maximum,
    Minimum,
    Concatenate,
    SimpleRNN,
    LSTM,
    GRU,
    Bidirectional,
    MultiHeadAttention,
    PositionalEmbedding,
    Normalization,
    Rescaling,
]
ACTIVATIONS = [Linear, Sigmoid, ReLU, Tanh, Softmax, LeakyReLU, ELU, GELU, SiLU, Softplus]
LOSSES = [
    BinaryCrossentropy,
    CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
    MeanSquaredError,
    MeanAbsoluteError,
    Huber,
]
OPTIMIZERS = [SGD, Adam, AdamW, RMSprop, Adagrad]
INITIALIZERS = [
    HeNormal,
    HeUniform,
    GlorotNormal,
    GlorotUniform,
    Zeros,
    Ones,
    Normal,
    LecunNormal,
    Orthogonal,
    Constant,
    TruncatedNormal,
]
METRICS = [
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    MAE,
    MSE,
    Precision,
    Recall,
    F1Score,
    AUC,
    TopKAccuracy,
    R2Score,
]


def _register_all(register: Register, classes: list[type]) -> None:
    for cls in classes:
        register(cls)


@hookimpl
def register_layers(register: Register) -> None:
    _register_all(register, LAYERS)


@hookimpl
def register_activations(register: Register) -> None:
    _register_all(register, ACTIVATIONS)


@hookimpl
def register_losses(register: Register) -> None:
    _register_all(register, LOSSES)


@hookimpl
def register_optimizers(register: Register) -> None:
    _register_all(register, OPTIMIZERS)


@hookimpl
def register_initializers(register: Register) -> None:
    _register_all(register, INITIALIZERS)


@hookimpl
def register_metrics(register: Register) -> None:
    _register_all(register, METRICS)
