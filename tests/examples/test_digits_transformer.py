"""examples/digits_transformer.json: a transformer encoder block placed twice over the rows
of each digit, at least 96% held out."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import modular_nn as mnn
from modular_nn.data import load_builtin

#: the encoder block, in order: attention, residual, norm, feed-forward, residual, norm
ENCODER = [
    "multi_head_attention", "add", "layer_norm", "dense", "dense", "add", "layer_norm",
]  # fmt: skip


@pytest.fixture(scope="module")
def trained(example: Callable[[str], Path]) -> tuple[mnn.Model, Any]:
    """The example trained once as its spec says, and its data."""
    spec = mnn.load_spec(example("digits_transformer"))
    data = load_builtin(spec.data, spec.input_shape)
    model = mnn.build_model(spec)
    model.fit(data.x_train, data.y_train, verbose=0)
    return model, data


def test_digits_transformer_places_an_encoder_block_twice(
    example: Callable[[str], Path],
) -> None:
    spec = mnn.load_spec(example("digits_transformer"))
    assert spec.data == "builtin:digits_rows"
    block = spec.blocks["encoder"].layers
    assert [layer.type for layer in block] == ENCODER
    sums = [layer for layer in block if layer.type == "add"]
    assert "block_input" in sums[0].inputs  # the residual around attention
    entries = {layer.name: layer for layer in spec.layers}
    assert entries["encoder"].block == "encoder" and entries["encoder"].repeat == 2
    assert [layer.type for layer in spec.layers][:2] == ["dense", "positional_embedding"]
    model = mnn.build_model(spec)
    weights = model.get_weights()
    for copy in (1, 2):  # each copy has its own attention, heads of 8 over d_model 32
        assert weights[f"encoder/{copy}/attention/query_kernel"].shape == (32, 4 * 8)
        assert weights[f"encoder/{copy}/attention/output_kernel"].shape == (4 * 8, 32)
    assert "encoder/3/attention/query_kernel" not in weights
    assert weights["position/embeddings"].shape == (8, 32)
    assert "global_avg_pool1d" in {layer.type_name for layer in model.layers}


@pytest.mark.slow
def test_digits_transformer_reaches_96_percent_held_out_accuracy(trained: tuple) -> None:
    model, data = trained
    assert model.evaluate(data.x_test, data.y_test)["accuracy"] >= 0.96
