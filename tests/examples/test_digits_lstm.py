"""examples/digits_lstm.json: an LSTM reading each digit's rows, at least 97% held out."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import modular_nn as mnn
from modular_nn.data import load_builtin


@pytest.fixture(scope="module")
def trained(example: Callable[[str], Path]) -> tuple[mnn.Model, Any]:
    """The example trained once as its spec says, and its data."""
    spec = mnn.load_spec(example("digits_lstm"))
    data = load_builtin(spec.data, spec.input_shape)  # (n, 8, 8): 8 rows of 8 features
    model = mnn.build_model(spec)
    model.fit(data.x_train, data.y_train, verbose=0)
    return model, data


def test_digits_lstm_reads_the_rows_as_a_sequence(example: Callable[[str], Path]) -> None:
    spec = mnn.load_spec(example("digits_lstm"))
    assert spec.data == "builtin:digits_rows" and list(spec.input_shape) == [8, 8]
    model = mnn.build_model(spec)
    assert model.layers[0].type_name == "lstm"
    weights = model.get_weights()
    assert weights["lstm_1/kernel"].shape == (8, 4 * 64)  # Keras's layout, gates i, f, c, o
    assert weights["lstm_1/recurrent_kernel"].shape == (64, 4 * 64)
    assert model.output_shape == (10,)


@pytest.mark.slow
def test_digits_lstm_reaches_97_percent_held_out_accuracy(trained: tuple) -> None:
    model, data = trained
    assert model.evaluate(data.x_test, data.y_test)["accuracy"] >= 0.97
