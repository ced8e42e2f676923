"""``Model.summary()``: the chain table as before, the graph table (inputs, shared uses,
blocks, "Connected to") for every other graph, ``print_fn``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import modular_nn as mnn
from modular_nn.model.summary import summary_table

CHAIN = {
    "name": "xor",
    "input_shape": [2],
    "layers": [
        {"type": "dense", "units": 5, "activation": "relu"},
        {"type": "batch_norm"},
        {"type": "dense", "units": 1, "activation": "sigmoid"},
    ],
}

CHAIN_TEXT = """\
Model "xor" (input (None, 2), float32)
Layer         Type        Output shape  Params
----------------------------------------------
dense_1       dense       (None, 5)     15
batch_norm_1  batch_norm  (None, 5)     10
dense_2       dense       (None, 1)     6
----------------------------------------------
Total params: 41
Trainable params: 31
Non-trainable params: 10"""


def siamese() -> dict[str, Any]:
    """Two inputs, a block placed twice, shared layers (and a shared block), a merge."""
    return json.loads(
        (Path(__file__).parents[1] / "fixtures" / "specs" / "siamese.json").read_text()
    )


def rows(text: str) -> dict[str, list[str]]:
    """The table's rows by their first cell, split on runs of two or more spaces."""
    lines = text.splitlines()
    rules = [i for i, line in enumerate(lines) if line and set(line) == {"-"}]
    body = lines[rules[0] + 1 : rules[1]]
    cells = [[cell.strip() for cell in line.split("  ") if cell.strip()] for line in body]
    return {row[0]: row[1:] for row in cells}


def test_chain_summary_is_unchanged() -> None:
    model = mnn.build_model(CHAIN)
    assert summary_table(model) == CHAIN_TEXT


def test_summary_prints_and_returns_the_text(capsys: pytest.CaptureFixture[str]) -> None:
    model = mnn.build_model(CHAIN)
    assert model.summary() == CHAIN_TEXT
    assert capsys.readouterr().out == CHAIN_TEXT + "\n"


def test_print_fn_receives_the_text_instead_of_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    received: list[str] = []
    text = mnn.build_model(siamese()).summary(print_fn=received.append)
    assert received == [text] and "Connected to" in text
    assert capsys.readouterr().out == ""


def test_graph_summary_shows_inputs_connections_blocks_and_shared_uses() -> None:
    model = mnn.build_model(siamese())
    text = summary_table(model)
    assert text.splitlines()[0] == (
        'Model "siamese" (inputs left (None, 8, 8, 1), right (None, 8, 8, 1); float32)'
    )
    assert text.splitlines()[1].split() == [
        "Layer", "Type", "Output", "shape", "Params", "Block", "Connected", "to",
    ]  # fmt: skip
    table = rows(text)
    # every input and every node (each use of a shared layer too), in graph order
    assert list(table) == ["left", "right", *(node.name for node in model.graph.nodes)]
    assert table["left"] == ["input", "(None, 8, 8, 1)", "0", "-"]
    assert table["stem"] == ["conv2d", "(None, 8, 8, 4)", "40", "left"]
    # block copies: their own weights, the placement and the block they come from
    assert table["res/1/conv_a"] == ["conv2d", "(None, 8, 8, 4)", "148", "res (residual)", "stem"]
    assert table["res/2/sum"] == [
        "add", "(None, 8, 8, 4)", "0", "res (residual)", "res/1/sum, res/2/conv_b",
    ]  # fmt: skip
    # shared uses name the layer they apply and count no parameters of their own
    assert table["stem_r"] == ["conv2d (shares stem)", "(None, 8, 8, 4)", "0", "right"]
    assert table["res_r/1/conv_a"] == [
        "conv2d (shares res/1/conv_a)", "(None, 8, 8, 4)", "0", "res_r (residual)", "stem_r",
    ]  # fmt: skip
    assert table["enc_r"] == ["global_avg_pool2d (shares enc)", "(None, 4)", "0", "res_r/2/sum"]
    # the merge is connected to both branches
    assert table["diff"] == ["subtract", "(None, 4)", "0", "enc, enc_r"]
    # the column adds up to the totals: nothing is counted twice
    column = sum(int(cells[2].replace(",", "")) for cells in table.values())
    assert column == model.count_params() == 637
    assert "Output: same (None, 1)\nTotal params: 637\n" in text


def test_outputs_name_a_block_placement_by_its_last_node() -> None:
    spec = siamese()
    spec["outputs"] = ["same", "res"]
    spec["loss"] = {"same": "binary_crossentropy", "res": "mse"}
    text = summary_table(mnn.build_model(spec))
    assert "Outputs: same (None, 1), res = res/2/sum (None, 8, 8, 4)" in text


def test_a_chain_on_a_named_input_shows_its_input_row() -> None:
    spec = {"inputs": {"features": [4]}, "layers": [{"type": "dense", "units": 2}]}
    model = mnn.build_model(spec)
    assert model.graph.is_chain
    text = summary_table(model)
    assert text.startswith('Model "model" (input features (None, 4); float32)')
    assert rows(text) == {
        "features": ["input", "(None, 4)", "0", "-"],
        "dense_1": ["dense", "(None, 2)", "10", "features"],
    }
