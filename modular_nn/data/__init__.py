"""Data for training: built-in datasets, files and sources read batch by batch.

::

    from modular_nn.data import load_builtin, load_data

    ds = load_builtin("digits")                  # Dataset: x_train, y_train, x_test, y_test
    ds = load_builtin("digits", input_shape=[8, 8, 1])   # images for a CNN
    ds = load_data("train.csv?label=species")    # a file: everything in x_train/y_train
    model.fit(ds.x_train, ds.y_train)            # also when x_train is an H5Source

Built-in names: ``digits`` (UCI handwritten digits, CC BY 4.0), ``moons``,
``spirals``, ``xor``; see ``modular_nn.data.builtin`` for their sources and splits.
"""

from __future__ import annotations

from modular_nn.data.builtin import BUILTIN_DATASETS, load_builtin
from modular_nn.data.dataset import Dataset, Inputs, reshape_inputs
from modular_nn.data.files import DATA_SUFFIXES, load_data, load_inputs, read_csv
from modular_nn.data.sources import BatchSource, H5Source

__all__ = [
    "BUILTIN_DATASETS",
    "DATA_SUFFIXES",
    "BatchSource",
    "Dataset",
    "H5Source",
    "Inputs",
    "load_builtin",
    "load_data",
    "load_inputs",
    "read_csv",
    "reshape_inputs",
]
