"""The search space: paths into a spec (positions, layer names in graphs and blocks, quoted
names), what to sample there, and every mistake refused before any trial with its path and
a did-you-mean."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

import modular_nn as mnn
from modular_nn.tune.space import Choice, FloatRange, IntRange, load_space, parse_path

GRAPH = {
    "name": "resnet",
    "input_shape": [8, 8, 1],
    "blocks": {
        "residual": {
            "layers": [
                {"name": "conv_a", "type": "conv2d", "filters": 4, "kernel_size": 3,
                 "padding": "same", "activation": "relu"},
                {"name": "conv_b", "type": "conv2d", "filters": 4, "kernel_size": 3,
                 "padding": "same"},
                {"name": "sum", "type": "add", "inputs": ["block_input", "conv_b"]},
            ]
        }
    },
    "layers": [
        {"name": "stem", "type": "conv2d", "filters": 4, "kernel_size": 3, "padding": "same"},
        {"name": "res", "type": "block", "block": "residual", "repeat": 2},
        {"name": "pool", "type": "global_avg_pool2d"},
        {"name": "0", "type": "dense", "units": 10, "activation": "softmax"},
    ],
    "loss": "sparse_categorical_crossentropy",
    "optimizer": "adam",
}  # fmt: skip


@pytest.fixture
def spec() -> dict[str, Any]:
    return mnn.load_spec(GRAPH).model_dump(mode="json")


def problems(space: dict[str, Any], spec: dict[str, Any]) -> list[str]:
    with pytest.raises(mnn.SpecError) as caught:
        load_space(space, spec)
    return [str(issue) for issue in caught.value.issues]


def test_paths_by_position_and_by_name_in_graphs_and_blocks(spec: dict[str, Any]) -> None:
    space = load_space(
        {
            "layers[res].repeat": {"int": [1, 3]},
            "blocks.residual.layers[conv_a].filters": {"choice": [4, 8]},
            "layers[0].filters": {"int": [2, 8], "step": 2},
            'layers["0"].units': {"int": [10, 10]},
            "optimizer.learning_rate": {"float": [1e-4, 0.1], "log": True},
            "blocks[residual].layers[1].activation": {"choice": ["relu", {"type": "tanh"}]},
        },
        spec,
    )
    locations = [d.location for d in space.dimensions]
    assert locations == [
        ("layers", 1, "repeat"),
        ("blocks", "residual", "layers", 0, "filters"),
        ("layers", 0, "filters"),
        ("layers", 3, "units"),
        ("optimizer", "learning_rate"),
        ("blocks", "residual", "layers", 1, "activation"),
    ]
    values = {
        "layers[res].repeat": 3,
        "blocks.residual.layers[conv_a].filters": 8,
        "blocks[residual].layers[1].activation": {"type": "tanh"},
    }
    changed = space.apply(spec, values)
    assert changed["layers"][1]["repeat"] == 3
    assert changed["blocks"]["residual"]["layers"][0]["filters"] == 8
    assert changed["blocks"]["residual"]["layers"][1]["activation"] == {"type": "tanh"}
    assert spec["layers"][1]["repeat"] == 2  # the base spec is left as it was
    assert mnn.load_spec(changed).layers[1].repeat == 3


def test_parse_path() -> None:
    assert parse_path("blocks.residual.layers[conv_a].filters") == [
        ("key", "blocks"),
        ("key", "residual"),
        ("key", "layers"),
        ("name", "conv_a"),
        ("key", "filters"),
    ]
    assert parse_path('layers["a.b]"][2]') == [("key", "layers"), ("name", "a.b]"), ("index", 2)]
    for bad, message in [
        ("layers[0.units", "expected ']' to close"),
        ("layers[].units", "expected a position or a name inside '[]'"),
        ("optimizer..learning_rate", "expected a key after '.'"),
        ("layers[0]units", "expected '.' or '[' after ']'"),
        ("", "received an empty one"),
    ]:
        with pytest.raises(mnn.SpecError, match=re.escape(message)):
            parse_path(bad)


def test_a_path_not_in_the_spec_gets_a_did_you_mean(spec: dict[str, Any]) -> None:
    found = problems(
        {
            "optimizer.learnig_rate": {"float": [0.1, 0.2]},
            "layers[rez].repeat": {"int": [1, 2]},
            "blocks.residual.layers[conv_c].filters": {"int": [1, 2]},
            "layers[9].units": {"int": [1, 2]},
            "layers[stem].xyz": {"int": [1, 2]},
            "layers[pool].units.more": {"int": [1, 2]},
            "layers[res].repeat.more": {"int": [1, 2]},
        },
        spec,
    )
    assert found == [
        "optimizer.learnig_rate: optimizer has no key 'learnig_rate' "
        "(fix: did you mean 'optimizer.learning_rate'?)",
        "layers[rez].repeat: layers has no entry named 'rez' (fix: did you mean "
        "'layers[res].repeat'?)",
        "blocks.residual.layers[conv_c].filters: blocks.residual.layers has no entry named "
        "'conv_c' (fix: did you mean 'blocks.residual.layers[conv_b].filters'?)",
        "layers[9].units: layers has 4 entries (positions 0 to 3), received position 9",
        found[4],
        found[5],
        "layers[res].repeat.more: layers[res].repeat is 2, which has no 'more'",
    ]
    assert found[4].startswith("layers[stem].xyz: layers[stem] has no key 'xyz' (it has: ")
    assert found[5].startswith("layers[pool].units.more: layers[pool] has no key 'units' (it ")


def test_ranges_and_choices_are_checked(spec: dict[str, Any]) -> None:
    found = problems(
        {
            "layers[0].filters": {"int": [8, 2]},
            "layers[res].repeat": {"choice": []},
            "optimizer.learning_rate": {"float": [0.0, 0.1], "log": True},
            "optimizer.beta_1": {"integer": [1, 2]},
            "optimizer.beta_2": {"float": [0.9, 0.99], "step": 0.01},
            "layers[stem].padding": {"int": [1, 2]},
            "optimizer.epsilon": [1e-8, 1e-7],
            "layers[0].kernel_size": {"choice": [3, 3]},
        },
        spec,
    )
    assert found == [
        "layers[0].filters: expected lo <= hi, received the empty range [8, 2]",
        "layers[res].repeat: expected at least one choice, received an empty list",
        "optimizer.learning_rate: a log range needs lo > 0, received: [0.0, 0.1]",
        'optimizer.beta_1: expected {"int": [lo, hi]}, {"float": [lo, hi]} or {"choice": '
        "[...]}, received no 'int', 'float' or 'choice': {\"integer\": [1, 2]} (fix: did you "
        "mean 'int' instead of 'integer'?)",
        "optimizer.beta_2 -> step: unknown option for 'float' (options: float, log)",
        'layers[stem].padding: an int range needs a number here, but the spec has "same"; '
        'use {"choice": [...]} for other values',
        'optimizer.epsilon: expected {"int": [lo, hi]}, {"float": [lo, hi]} or {"choice": '
        "[...]}, received: [1e-08, 1e-07]",
        "layers[0].kernel_size: expected distinct choices, received 3 twice",
    ]


def test_two_paths_to_one_value_and_an_empty_space_are_refused(spec: dict[str, Any]) -> None:
    found = problems(
        {"layers[0].filters": {"int": [1, 2]}, "layers[stem].filters": {"int": [1, 3]}}, spec
    )
    assert found == ["layers[stem].filters: names the same value as 'layers[0].filters'; keep one"]
    assert problems({}, spec) == [
        'the space is empty: name at least one spec path, e.g. "layers[0].units"'
    ]


def test_sampling_through_optuna() -> None:
    optuna = pytest.importorskip("optuna")
    trial = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0)).ask()
    assert 16 <= IntRange.model_validate({"int": [16, 256], "log": True}).suggest(trial, "a") <= 256
    assert IntRange.model_validate({"int": [2, 8], "step": 3}).suggest(trial, "b") in (2, 5, 8)
    assert 1e-4 <= FloatRange.model_validate({"float": [1e-4, 0.1]}).suggest(trial, "c") <= 0.1
    objects = [{"type": "sgd"}, {"type": "adam", "learning_rate": 0.01}]
    assert Choice.model_validate({"choice": objects}).suggest(trial, "d") in objects
    assert Choice.model_validate({"choice": ["relu", None]}).suggest(trial, "e") in ("relu", None)


def test_the_documented_example_space_fits_its_spec() -> None:
    root = Path(__file__).resolve().parents[2]
    space = json.loads((root / "examples" / "spaces" / "digits_mlp.json").read_text())
    spec = mnn.load_spec(root / "examples" / "digits_mlp.json").model_dump(mode="json")
    assert load_space(space, spec).paths == list(space)
    assert '"layers[dense_1].activation"' in (root / "docs" / "tuning.md").read_text()
