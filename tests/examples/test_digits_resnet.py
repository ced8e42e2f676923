"""examples/digits_resnet.json: a residual block placed twice reaches 98.5% on digits."""

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
    spec = mnn.load_spec(example("digits_resnet"))
    data = load_builtin(spec.data, spec.input_shape)  # NHWC images, the fixed split
    model = mnn.build_model(spec)
    model.fit(data.x_train, data.y_train, verbose=0)
    return model, data


def test_digits_resnet_is_a_stem_two_residual_blocks_and_a_softmax(
    example: Callable[[str], Path],
) -> None:
    spec = mnn.load_spec(example("digits_resnet"))
    assert spec.data == "builtin:digits"
    block = spec.blocks["residual"].layers
    assert [layer.type for layer in block[:2]] == ["conv2d", "conv2d"]
    assert any(layer.type == "add" and "block_input" in layer.inputs for layer in block)
    entries = {layer.name: layer for layer in spec.layers}
    assert entries["res"].block == "residual" and entries["res"].repeat == 2
    model = mnn.build_model(spec)
    names = list(model.get_weights())
    for copy in (1, 2):  # each copy has its own weights
        assert f"res/{copy}/conv_a/kernel" in names and f"res/{copy}/conv_b/kernel" in names
    assert "res/3/conv_a/kernel" not in names
    assert {"global_avg_pool2d", "add"} <= {layer.type_name for layer in model.layers}


@pytest.mark.slow
def test_digits_resnet_reaches_98_5_percent_held_out_accuracy(trained: tuple) -> None:
    model, data = trained
    assert model.evaluate(data.x_test, data.y_test)["accuracy"] >= 0.985
