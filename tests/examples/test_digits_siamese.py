"""examples/digits_siamese.json: left and right through one shared encoder, "same digit?",
at least 90% on held-out pairs of held-out images."""

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
    spec = mnn.load_spec(example("digits_siamese"))
    data = load_builtin(spec.data, spec.inputs)
    model = mnn.build_model(spec)
    model.fit(data.x_train, data.y_train, verbose=0)
    return model, data


def test_digits_siamese_has_one_encoder_for_both_images(example: Callable[[str], Path]) -> None:
    spec = mnn.load_spec(example("digits_siamese"))
    assert spec.data == "builtin:digits_pairs"
    assert set(spec.inputs) == {"left", "right"} and spec.outputs == ["same"]
    assert any(getattr(layer, "shares", None) == "enc_left" for layer in spec.layers)
    model = mnn.build_model(spec)
    names = list(model.get_weights())
    assert any(name.startswith("enc_left/") for name in names)
    assert not any(name.startswith("enc_right") for name in names)  # weights stored once


@pytest.mark.slow
def test_digits_siamese_reaches_90_percent_on_held_out_pairs(trained: tuple) -> None:
    model, data = trained
    assert model.evaluate(data.x_test, data.y_test)["accuracy"] >= 0.90
    swapped = {"left": data.x_test["right"], "right": data.x_test["left"]}
    assert model.evaluate(swapped, data.y_test)["accuracy"] >= 0.90  # the order does not matter
