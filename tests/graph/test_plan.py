"""``GraphPlan``: the plan a spec resolves to (nodes in order, owners of shared layers,
block copies and their aliases) and the chain as its special case."""

from __future__ import annotations

import modular_nn as mnn
from modular_nn.graph.plan import DEFAULT_INPUT, GraphPlan
from modular_nn.spec.graph import resolve_graph


def plan_of(spec: dict) -> GraphPlan:
    plan, issues = resolve_graph(mnn.load_spec(spec))
    assert plan is not None and not issues
    return plan


def test_a_chain_plan() -> None:
    plan = GraphPlan.chain(["d1", "d2", "d3"], (4,))
    assert plan.inputs == {DEFAULT_INPUT: (4,)}
    assert [node.inputs for node in plan.nodes] == [["input"], ["d1"], ["d2"]]
    assert [node.path for node in plan.nodes] == ["layers[0]", "layers[1]", "layers[2]"]
    assert plan.outputs == ["d3"] and plan.is_chain and plan.owners() == ["d1", "d2", "d3"]


def test_a_chain_spec_resolves_to_a_chain() -> None:
    plan = plan_of({"input_shape": [3], "layers": [{"type": "dense", "units": 2}] * 3})
    assert plan.is_chain
    assert [node.name for node in plan.nodes] == ["dense_1", "dense_2", "dense_3"]
    assert mnn.build_model(
        {"input_shape": [3], "layers": [{"type": "dense", "units": 2}]}
    ).graph.is_chain


def test_blocks_shares_and_aliases() -> None:
    plan = plan_of(
        {
            "inputs": {"a": [3], "b": [3]},
            "blocks": {
                "res": {
                    "layers": [
                        {"name": "d", "type": "dense", "units": 3},
                        {"name": "sum", "type": "add", "inputs": ["block_input", "d"]},
                    ]
                }
            },
            "layers": [
                {"name": "r", "type": "block", "block": "res", "repeat": 2, "inputs": ["a"]},
                {"name": "r_b", "shares": "r", "inputs": ["b"]},
                {"name": "diff", "type": "subtract", "inputs": ["r", "r_b"]},
            ],
        }
    )
    assert not plan.is_chain
    names = [node.name for node in plan.nodes]
    assert names == [
        "r/1/d", "r/1/sum", "r/2/d", "r/2/sum",
        "r_b/1/d", "r_b/1/sum", "r_b/2/d", "r_b/2/sum", "diff",
    ]  # fmt: skip
    nodes = {node.name: node for node in plan.nodes}
    assert nodes["r_b/2/d"].owner == "r/2/d" and nodes["r_b/2/d"].shares
    assert not nodes["r/2/d"].shares
    assert nodes["r/1/sum"].inputs == ["a", "r/1/d"]
    assert nodes["r/2/sum"].inputs == ["r/1/sum", "r/2/d"]
    assert nodes["diff"].inputs == ["r/2/sum", "r_b/2/sum"]
    assert nodes["r/2/d"].path == "blocks.res.layers[0]" and nodes["r/2/d"].origin == "layers[0]"
    assert nodes["r_b/1/d"].origin == "layers[1]"
    assert plan.resolve("r") == "r/2/sum" and plan.resolve("r_b") == "r_b/2/sum"
    assert plan.resolve("diff") == "diff"
    assert plan.owners() == ["r/1/d", "r/1/sum", "r/2/d", "r/2/sum", "diff"]
