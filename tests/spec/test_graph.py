"""Graph specs: every structural mistake is a ``SpecError`` with its JSON path, found before
anything is allocated, independent mistakes reported together; graph specs round-trip."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.components.layer import Layer
from modular_nn.errors import SpecIssue


def two_inputs(**changes: Any) -> dict[str, Any]:
    """Inputs a (4) and b (3) through one dense each, added, then one dense output."""
    spec: dict[str, Any] = {
        "inputs": {"a": [4], "b": [3]},
        "layers": [
            {"name": "da", "type": "dense", "units": 4, "inputs": ["a"]},
            {"name": "db", "type": "dense", "units": 4, "inputs": ["b"]},
            {"name": "sum", "type": "add", "inputs": ["da", "db"]},
            {"name": "out", "type": "dense", "units": 1},
        ],
        "loss": "mse",
    }
    spec.update(changes)
    return spec


def with_block(block_layers: list[dict[str, Any]], **entry: Any) -> dict[str, Any]:
    return {
        "input_shape": [4],
        "blocks": {"res": {"layers": block_layers}},
        "layers": [{"name": "r", "type": "block", "block": "res", **entry}],
    }


RESIDUAL = [
    {"name": "d", "type": "dense", "units": 4, "activation": "relu"},
    {"name": "sum", "type": "add", "inputs": ["block_input", "d"]},
]


def issues_of(spec: dict[str, Any]) -> list[SpecIssue]:
    with pytest.raises(mnn.SpecError) as info:
        mnn.load_spec(spec)
    return info.value.issues


def only_issue(spec: dict[str, Any]) -> SpecIssue:
    issues = issues_of(spec)
    assert len(issues) == 1, [str(i) for i in issues]
    return issues[0]


def test_the_base_specs_are_valid() -> None:
    mnn.load_spec(two_inputs())
    mnn.load_spec(with_block(RESIDUAL, repeat=2))


# ----- references and cycles ---------------------------------------------------------------
def test_a_cycle_names_its_path_and_the_layers_on_it() -> None:
    spec = two_inputs()
    spec["layers"][0]["inputs"] = ["sum"]  # da <- sum <- da
    issue = only_issue(spec)
    assert issue.path == "layers[0].inputs[0]"
    assert "cycle" in issue.message and "da -> sum -> da" in issue.message


def test_a_layer_taking_its_own_output_is_a_cycle() -> None:
    spec = two_inputs()
    spec["layers"][0]["inputs"] = ["da"]
    issue = only_issue(spec)
    assert issue.path == "layers[0].inputs[0]"
    assert "cycle" in issue.message and "'da'" in issue.message


def test_a_reference_to_a_later_layer_says_so() -> None:
    spec = two_inputs()
    spec["layers"][0]["inputs"] = ["db"]  # db comes later, but does not depend on da
    spec["layers"][2]["inputs"] = ["da", "db"]
    issue = only_issue(spec)
    assert issue.path == "layers[0].inputs[0]"
    assert "'db' is a later layer" in issue.message
    assert "move 'da' after 'db'" in issue.hint


def test_an_unknown_name_suggests_a_close_one() -> None:
    spec = two_inputs()
    spec["layers"][2]["inputs"] = ["da", "dbb"]
    issue = only_issue(spec)
    assert issue.path == "layers[2].inputs[1]"
    assert "unknown name 'dbb'" in issue.message
    assert issue.hint == "did you mean 'db'?"


def test_layers_after_a_broken_one_are_not_reported_as_unknown() -> None:
    spec = two_inputs()
    spec["layers"][0]["inputs"] = ["nope"]  # 'da' is broken; 'sum' names it
    issue = only_issue(spec)
    assert issue.path == "layers[0].inputs[0]" and "'nope'" in issue.message


# ----- merges --------------------------------------------------------------------------------
@pytest.mark.parametrize("merge", ["add", "subtract", "multiply", "average", "maximum", "minimum"])
def test_a_merge_of_shapes_that_do_not_fit_names_both(merge: str) -> None:
    spec = two_inputs()
    spec["layers"][1]["units"] = 5
    spec["layers"][2]["type"] = merge
    issue = only_issue(spec)
    assert issue.path == "layers[2]"
    assert "(4,)" in issue.message and "(5,)" in issue.message and "'sum'" in issue.message


def test_a_concatenation_of_shapes_that_do_not_fit_names_both() -> None:
    spec = {
        "inputs": {"a": [2, 3], "b": [4, 5]},
        "layers": [{"name": "cat", "type": "concatenate", "inputs": ["a", "b"]}],
    }
    issue = only_issue(spec)
    assert issue.path == "layers[0]"
    assert "(2, 3)" in issue.message and "(4, 5)" in issue.message


def test_a_merge_given_one_input() -> None:
    spec = two_inputs()
    spec["layers"][2]["inputs"] = ["da"]
    spec["layers"][1]["inputs"] = ["b"]
    spec["outputs"] = ["out", "db"]
    issue = only_issue(spec)
    assert issue.path == "layers[2].inputs"
    assert "add takes at least 2 inputs, received 1" in issue.message


# ----- unused layers and inputs ------------------------------------------------------------
def test_a_layer_whose_output_reaches_no_output() -> None:
    spec = two_inputs()
    spec["layers"].insert(3, {"name": "dead", "type": "dense", "units": 2, "inputs": ["da"]})
    spec["layers"][4]["inputs"] = ["sum"]
    issue = only_issue(spec)
    assert issue.path == "layers[3]"
    assert "'dead' reaches no model output" in issue.message


def test_a_block_layer_that_reaches_nothing_is_reported_in_the_block() -> None:
    layers = [
        {"name": "d", "type": "dense", "units": 4},
        {"name": "side", "type": "dense", "units": 2, "inputs": ["block_input"]},
        {"name": "sum", "type": "add", "inputs": ["block_input", "d"]},
    ]
    issue = only_issue(with_block(layers, repeat=2))
    assert issue.path == "blocks.res.layers[1]"
    assert "'side'" in issue.message and "block" in issue.message


def test_an_input_nothing_uses() -> None:
    spec = two_inputs()
    spec["inputs"]["c"] = [2]
    issue = only_issue(spec)
    assert issue.path == "inputs.c"
    assert "model input 'c' is not used" in issue.message


# ----- shares --------------------------------------------------------------------------------
def test_shares_with_another_type() -> None:
    spec = two_inputs(inputs={"a": [4], "b": [4]})
    spec["layers"][1] = {"name": "db", "shares": "da", "type": "conv2d", "inputs": ["b"]}
    issue = only_issue(spec)
    assert issue.path == "layers[1].type"
    assert "'da' is a dense layer, not conv2d" in issue.message


def test_shares_with_the_same_type_is_accepted() -> None:
    spec = two_inputs(inputs={"a": [4], "b": [4]})
    spec["layers"][1] = {"name": "db", "shares": "da", "type": "dense", "inputs": ["b"]}
    assert mnn.load_spec(spec).layers[1].shares == "da"


def test_shares_with_another_input_shape_names_both() -> None:
    spec = two_inputs()  # a is (4,), b is (3,)
    spec["layers"][1] = {"name": "db", "shares": "da", "inputs": ["b"]}
    issue = only_issue(spec)
    assert issue.path == "layers[1]"
    assert "'db' shares layer 'da'" in issue.message
    assert "(4,)" in issue.message and "(3,)" in issue.message


def test_shares_of_an_unknown_layer_suggests_one() -> None:
    spec = two_inputs(inputs={"a": [4], "b": [4]})
    spec["layers"][1] = {"name": "db", "shares": "daa", "inputs": ["b"]}
    issue = only_issue(spec)
    assert issue.path == "layers[1].shares"
    assert "unknown layer 'daa'" in issue.message and issue.hint == "did you mean 'da'?"


# ----- blocks --------------------------------------------------------------------------------
def test_an_unknown_block() -> None:
    issue = only_issue(with_block(RESIDUAL, block="resdual"))
    assert issue.path == "layers[0].block"
    assert "unknown block 'resdual'" in issue.message and issue.hint == "did you mean 'res'?"


def test_a_block_referring_to_itself() -> None:
    layers = [*RESIDUAL, {"name": "again", "type": "block", "block": "res"}]
    issue = only_issue(with_block(layers))
    assert issue.path == "blocks.res.layers[2].block"
    assert "block 'res' refers to itself (res -> res)" in issue.message


def test_a_block_referring_to_itself_through_another() -> None:
    spec = {
        "input_shape": [4],
        "blocks": {
            "p": {"layers": [{"type": "dense", "units": 4}, {"type": "block", "block": "q"}]},
            "q": {"layers": [{"type": "block", "block": "p"}]},
        },
        "layers": [{"type": "block", "block": "p"}],
    }
    issue = only_issue(spec)
    assert issue.path.startswith("blocks.")
    assert "refers to itself" in issue.message and "p -> q -> p" in issue.message


@pytest.mark.parametrize("repeat", [0, -1])
def test_repeat_below_one(repeat: int) -> None:
    issue = only_issue(with_block(RESIDUAL, repeat=repeat))
    assert issue.path == "layers[0].repeat"
    assert "greater than or equal to 1" in issue.message and str(repeat) in issue.message


# ----- outputs and losses --------------------------------------------------------------------
def test_a_loss_keyed_by_an_unknown_output() -> None:
    spec = two_inputs(outputs=["out", "sum"], loss={"out": "mse", "sum": "mse", "summ": "mse"})
    issue = only_issue(spec)
    assert issue.path == "loss.summ"
    assert "'summ' is not an output" in issue.message and issue.hint == "did you mean 'sum'?"


def test_a_missing_loss_for_one_output() -> None:
    issue = only_issue(two_inputs(outputs=["out", "sum"], loss={"out": "mse"}))
    assert issue.path == "loss"
    assert "no loss for output 'sum'" in issue.message


@pytest.mark.parametrize("key", ["loss_weights", "metrics"])
def test_weights_and_metrics_keyed_by_an_unknown_output(key: str) -> None:
    spec = two_inputs(outputs=["out", "sum"])
    if key == "loss_weights":
        spec["loss_weights"] = {"out": 1.0, "oot": 2.0}
        where = "loss_weights.oot"
    else:
        spec["training"] = {"metrics": {"oot": ["mae"]}}
        where = "training.metrics.oot"
    issue = only_issue(spec)
    assert issue.path == where and "'oot' is not an output" in issue.message


def test_an_unknown_output() -> None:
    issue = only_issue(two_inputs(outputs=["out", "suum"]))
    assert issue.path == "outputs[1]"
    assert "unknown layer 'suum'" in issue.message and issue.hint == "did you mean 'sum'?"


# ----- inputs --------------------------------------------------------------------------------
def test_both_input_shape_and_inputs() -> None:
    issue = only_issue(two_inputs(input_shape=[4]))
    assert issue.path == "inputs"
    assert "either 'input_shape' or 'inputs', not both" in issue.message


def test_neither_input_shape_nor_inputs() -> None:
    spec = two_inputs()
    del spec["inputs"]
    issue = only_issue(spec)
    assert issue.path == "input_shape"
    assert "missing" in issue.message and "'inputs'" in issue.hint


def test_several_inputs_and_a_first_layer_without_inputs() -> None:
    spec = two_inputs()
    del spec["layers"][0]["inputs"]
    issue = only_issue(spec)
    assert issue.path == "layers[0].inputs"
    assert "several inputs" in issue.message


# ----- all at once, before anything is allocated -------------------------------------------
def test_independent_mistakes_are_reported_together() -> None:
    spec = two_inputs(
        inputs={"a": [4], "b": [3], "c": [2]},  # c unused
        blocks={"res": {"layers": RESIDUAL}},
    )
    spec["layers"][0]["inputs"] = ["aa"]  # unknown (da broken: sum and out say nothing)
    spec["layers"].append({"name": "r", "type": "block", "block": "rez", "inputs": ["b"]})
    spec["outputs"] = ["out", "r"]
    paths = sorted(issue.path for issue in issues_of(spec))
    assert paths == ["layers[0].inputs[0]", "layers[4].block"], paths


def test_shape_mistakes_in_independent_branches_are_reported_together() -> None:
    spec = {
        "inputs": {"a": [4], "b": [3]},
        "layers": [
            {"name": "x1", "type": "add", "inputs": ["a", "b"]},
            {"name": "x2", "type": "multiply", "inputs": ["b", "a"]},
            {"name": "cat", "type": "concatenate", "inputs": ["x1", "x2"]},
        ],
    }
    issues = issues_of(spec)
    assert [issue.path for issue in issues] == ["layers[0]", "layers[1]"]


@pytest.mark.parametrize(
    "spec",
    [two_inputs(), with_block(RESIDUAL, repeat=3), two_inputs(inputs={"a": [4], "b": [5]})],
    ids=["valid", "valid-block", "merge-shapes"],
)
def test_load_spec_builds_no_layer(monkeypatch: pytest.MonkeyPatch, spec: dict[str, Any]) -> None:
    def no_building(self: Layer, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"{self.name} was built while validating")

    monkeypatch.setattr(Layer, "build", no_building)
    try:
        mnn.load_spec(spec)
    except mnn.SpecError as exc:  # the mistake is found by shape inference, not by building
        assert "(4,)" in str(exc) and "(5,)" in str(exc)
    with pytest.raises(AssertionError, match="was built"):
        mnn.build_model(two_inputs())  # the patch is in force


# ----- round trips ---------------------------------------------------------------------------
GRAPH = {
    "name": "g",
    "inputs": {"a": [4], "b": [4]},
    "seed": 5,
    "blocks": {"res": {"layers": RESIDUAL}},
    "layers": [
        {"name": "enc", "type": "dense", "units": 4, "activation": "tanh", "inputs": ["a"]},
        {"name": "enc_b", "shares": "enc", "inputs": ["b"]},
        {"name": "cat", "type": "concatenate", "inputs": ["enc", "enc_b"]},
        {"name": "r", "type": "block", "block": "res", "repeat": 2, "inputs": ["enc"]},
        {"name": "p", "type": "dense", "units": 1, "activation": "sigmoid", "inputs": ["cat"]},
        {"name": "q", "type": "dense", "units": 3, "inputs": ["r"]},
    ],
    "outputs": ["p", "q"],
    "loss": {"p": "binary_crossentropy", "q": "mse"},
    "loss_weights": {"p": 0.25, "q": 2.0},
    "optimizer": "sgd",
    "training": {"metrics": {"p": ["accuracy"], "q": ["mae"]}},
}


def test_a_graph_spec_round_trips() -> None:
    spec = mnn.load_spec(GRAPH)
    model = mnn.build_model(spec)
    dumped = model.to_spec()
    assert dumped == spec
    assert mnn.load_spec(dumped) == dumped
    assert mnn.load_spec(dumped.to_json()) == dumped
    data = dumped.model_dump(mode="json")
    assert data["inputs"] == {"a": [4], "b": [4]}
    assert data["outputs"] == ["p", "q"]
    assert [e["name"] for e in data["blocks"]["res"]["layers"]] == ["d", "sum"]
    assert data["layers"][3] == {
        "type": "block",
        "name": "r",
        "inputs": ["enc"],
        "block": "res",
        "repeat": 2,
    }
    assert data["layers"][1]["shares"] == "enc"
    assert data["loss"]["p"]["type"] == "binary_crossentropy" and data["loss"]["q"]["type"] == "mse"
    assert data["loss_weights"] == {"p": 0.25, "q": 2.0}
    assert data["training"]["metrics"] == {"p": ["accuracy"], "q": ["mae"]}


def test_a_graph_rebuilt_from_its_spec_has_the_same_weights() -> None:
    model = mnn.build_model(GRAPH)
    again = mnn.build_model(model.to_spec())
    weights, rebuilt = model.get_weights(), again.get_weights()
    assert sorted(weights) == sorted(rebuilt)
    assert "r/2/d/kernel" in weights and "enc_b/kernel" not in weights
    for key, value in weights.items():
        np.testing.assert_array_equal(rebuilt[key], value, strict=True)


def test_a_chain_dumps_exactly_as_before() -> None:
    spec = mnn.load_spec(
        {
            "input_shape": [2],
            "layers": [{"type": "dense", "units": 3}, {"type": "dropout", "rate": 0.5}],
            "loss": "mse",
            "optimizer": {"type": "sgd", "learning_rate": 0.5},
        }
    )
    expected = {
        "format_version": 1,
        "name": "model",
        "input_shape": [2],
        "dtype": "float32",
        "seed": 0,
        "layers": [
            {
                "type": "dense",
                "name": "dense_1",
                "units": 3,
                "activation": {"type": "linear"},
                "use_bias": True,
                "kernel_initializer": {"type": "he_normal"},
                "bias_initializer": {"type": "zeros"},
            },
            {"type": "dropout", "name": "dropout_1", "rate": 0.5},
        ],
        "loss": {"type": "mse"},
        "optimizer": {
            "type": "sgd",
            "learning_rate": 0.5,
            "schedule": None,
            "global_clipnorm": None,
            "momentum": 0.0,
            "nesterov": False,
            "weight_decay": 0.0,
        },
        "training": {
            "epochs": 10,
            "batch_size": 32,
            "shuffle": True,
            "validation_split": 0.0,
            "metrics": None,
            "early_stopping": None,
        },
        "data": None,
    }
    assert spec.model_dump(mode="json") == expected
    model = mnn.build_model(spec)
    assert model.to_spec().model_dump(mode="json") == expected
    assert copy.deepcopy(expected) == mnn.load_spec(expected).model_dump(mode="json")
