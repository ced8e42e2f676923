"""The graph engine: gradients through merges, fan-outs, shared layers and blocks (checked
against finite differences of the whole model's loss, in float64), shared layers' per-use
state and shared buffers, and activations freed after their last use."""

from __future__ import annotations

import gc
import weakref
from typing import Any

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.graph.engine import GraphEngine
from modular_nn.testing.gradcheck import assert_gradients_close, check_model_gradients

MERGES = ["add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate"]
TOL = 1e-6


def build(layers: list[dict[str, Any]], **changes: Any) -> mnn.Model:
    spec: dict[str, Any] = {
        "inputs": {"a": [3]},
        "dtype": "float64",
        "seed": 4,
        "layers": layers,
        "loss": "mse",
        "optimizer": "sgd",
    }
    spec.update(changes)
    return mnn.build_model(spec)


def data(model: mnn.Model, rows: int = 5, seed: int = 0) -> tuple[dict[str, Any], Any]:
    rng = np.random.default_rng(seed)
    x = {name: rng.standard_normal((rows, *shape)) for name, shape in model.input_shapes.items()}
    y = {name: rng.standard_normal((rows, *shape)) for name, shape in model.output_shapes.items()}
    return x, y


def check(model: mnn.Model, rows: int = 5, expected: set[str] | None = None) -> None:
    x, y = data(model, rows)
    results = check_model_gradients(model, x, y)
    assert set(results) == (expected if expected is not None else set(model.params))
    assert results, "nothing was checked"
    assert_gradients_close(results, TOL)


# ----- gradient checks ---------------------------------------------------------------------
@pytest.mark.parametrize("merge", MERGES)
def test_every_merge_inside_a_graph(merge: str) -> None:
    model = build(
        [
            {"name": "left", "type": "dense", "units": 4, "activation": "tanh", "inputs": ["a"]},
            {"name": "right", "type": "dense", "units": 4, "activation": "sigmoid",
             "inputs": ["a"]},
            {"name": "merged", "type": merge, "inputs": ["left", "right"]},
            {"name": "out", "type": "dense", "units": 2},
        ]
    )  # fmt: skip
    assert {"left/kernel", "right/kernel", "out/kernel"} <= set(model.params)
    check(model)


@pytest.mark.parametrize("merge", ["add", "multiply", "concatenate"])
def test_a_merge_of_three_inputs(merge: str) -> None:
    model = build(
        [
            {"name": "p", "type": "dense", "units": 2, "activation": "tanh", "inputs": ["a"]},
            {"name": "q", "type": "dense", "units": 2, "inputs": ["a"]},
            {"name": "r", "type": "dense", "units": 2, "activation": "elu", "inputs": ["a"]},
            {"name": "merged", "type": merge, "inputs": ["p", "q", "r"]},
            {"name": "out", "type": "dense", "units": 1},
        ]
    )
    check(model)


def test_a_fan_out_sums_the_gradients_of_both_consumers() -> None:
    model = build(
        [
            {"name": "trunk", "type": "dense", "units": 4, "activation": "tanh", "inputs": ["a"]},
            {"name": "p", "type": "dense", "units": 3, "activation": "relu", "inputs": ["trunk"]},
            {"name": "q", "type": "dense", "units": 3, "activation": "tanh", "inputs": ["trunk"]},
            {"name": "merged", "type": "multiply", "inputs": ["p", "q"]},
            {"name": "out", "type": "dense", "units": 1},
        ]
    )
    check(model)


def test_a_skip_connection_around_two_layers() -> None:
    model = build(
        [
            {"name": "d1", "type": "dense", "units": 3, "activation": "tanh"},
            {"name": "d2", "type": "dense", "units": 3, "activation": "tanh"},
            {"name": "skip", "type": "add", "inputs": ["a", "d2"]},
            {"name": "out", "type": "dense", "units": 2},
        ]
    )
    check(model)


def shared_dense(inputs: dict[str, list[int]], drop: bool = False) -> list[dict[str, Any]]:
    layers: list[dict[str, Any]] = [
        {"name": "enc", "type": "dense", "units": 4, "activation": "tanh", "inputs": ["a"]},
        {"name": "enc_b", "shares": "enc", "inputs": ["b"]},
    ]
    merge_inputs = ["enc", "enc_b"]
    if drop:
        layers += [
            {"name": "drop", "type": "dropout", "rate": 0.5, "inputs": ["enc"]},
            {"name": "drop_b", "shares": "drop", "inputs": ["enc_b"]},
        ]
        merge_inputs = ["drop", "drop_b"]
    return layers + [
        {"name": "cat", "type": "concatenate", "inputs": merge_inputs},
        {"name": "out", "type": "dense", "units": 2},
    ]


def test_a_shared_layer_used_twice_gets_the_sum_of_both_uses() -> None:
    inputs = {"a": [3], "b": [3]}
    model = build(shared_dense(inputs), inputs=inputs)
    assert sorted(model.params) == ["enc/bias", "enc/kernel", "out/bias", "out/kernel"]
    check(model)


def test_a_shared_layer_equals_two_layers_with_the_same_weights_summed() -> None:
    """The shared kernel's gradient is the sum of the gradients two separate copies get."""
    inputs = {"a": [3], "b": [3]}
    shared = build(shared_dense(inputs), inputs=inputs)
    separate_layers = shared_dense(inputs)
    separate_layers[1] = {"name": "enc_b", "type": "dense", "units": 4, "activation": "tanh",
                          "inputs": ["b"]}  # fmt: skip
    separate = build(separate_layers, inputs=inputs)
    weights = shared.get_weights()
    separate.set_weights(
        {**weights, "enc_b/kernel": weights["enc/kernel"], "enc_b/bias": weights["enc/bias"]}
    )
    x, y = data(shared)
    for model in (shared, separate):
        xs, ys = model._prepare_xy(x, y)
        _, grads = model._loss_and_grad(model.forward(xs, True), ys)
        model.backward(grads)
    for key in ("kernel", "bias"):
        summed = separate.grads[f"enc/{key}"] + separate.grads[f"enc_b/{key}"]
        np.testing.assert_allclose(shared.grads[f"enc/{key}"], summed, rtol=1e-12, atol=1e-15)
        assert np.abs(separate.grads[f"enc_b/{key}"]).max() > 0  # the second use counts


def test_a_shared_dropout_keeps_each_uses_mask() -> None:
    """Two uses of one dropout layer draw two masks; each use's backward needs its own."""
    inputs = {"a": [3], "b": [3]}
    model = build(shared_dense(inputs, drop=True), inputs=inputs)
    x, _ = data(model, rows=6)
    xs = model._prepare_x(x)
    model.forward(xs, True)
    first, second = (step.layer for step in model.engine.steps if step.name.startswith("drop"))
    assert first is not second
    assert first.mask.shape == second.mask.shape == (6, 4)
    assert not np.array_equal(first.mask, second.mask)  # each use kept its own mask
    check(model, rows=6)


def test_a_shared_block() -> None:
    model = build(
        [
            {"name": "r", "type": "block", "block": "res", "inputs": ["a"]},
            {"name": "r_b", "shares": "r", "inputs": ["b"]},
            {"name": "diff", "type": "subtract", "inputs": ["r", "r_b"]},
            {"name": "out", "type": "dense", "units": 1},
        ],
        inputs={"a": [3], "b": [3]},
        blocks={"res": {"layers": [
            {"name": "d", "type": "dense", "units": 3, "activation": "tanh"},
            {"name": "sum", "type": "add", "inputs": ["block_input", "d"]},
        ]}},
    )  # fmt: skip
    assert sorted(model.params) == ["out/bias", "out/kernel", "r/1/d/bias", "r/1/d/kernel"]
    check(model)


def test_a_block_repeated_twice() -> None:
    model = build(
        [
            {"name": "stem", "type": "dense", "units": 3, "activation": "tanh"},
            {"name": "res", "type": "block", "block": "residual", "repeat": 2},
            {"name": "out", "type": "dense", "units": 2},
        ],
        blocks={"residual": {"layers": [
            {"name": "conv_a", "type": "dense", "units": 3, "activation": "tanh"},
            {"name": "conv_b", "type": "dense", "units": 3},
            {"name": "sum", "type": "add", "inputs": ["block_input", "conv_b"]},
        ]}},
    )  # fmt: skip
    names = [f"res/{i}/{layer}/kernel" for i in (1, 2) for layer in ("conv_a", "conv_b")]
    assert set(names) <= set(model.params)
    assert not np.array_equal(model.params[names[0]], model.params[names[2]])  # own weights
    check(model)


def two_outputs(weights: dict[str, float] | None) -> mnn.Model:
    return build(
        [
            {"name": "trunk", "type": "dense", "units": 4, "activation": "tanh", "inputs": ["a"]},
            {"name": "reg", "type": "dense", "units": 2},
            {"name": "cls", "type": "dense", "units": 3, "activation": "softmax",
             "inputs": ["trunk"]},
        ],
        outputs=["reg", "cls"],
        loss={"reg": "mse", "cls": "categorical_crossentropy"},
        loss_weights=weights,
    )  # fmt: skip


def two_output_data(rows: int = 6) -> tuple[dict[str, Any], dict[str, Any]]:
    rng = np.random.default_rng(2)
    x = {"a": rng.standard_normal((rows, 3))}
    y = {"reg": rng.standard_normal((rows, 2)), "cls": np.eye(3)[rng.integers(0, 3, rows)]}
    return x, y


def test_two_outputs_with_loss_weights() -> None:
    model = two_outputs({"reg": 0.3, "cls": 2.5})
    x, y = two_output_data()
    results = check_model_gradients(model, x, y)
    assert set(results) == set(model.params)
    assert_gradients_close(results, TOL)


def test_the_total_loss_is_the_weighted_sum() -> None:
    weighted = two_outputs({"reg": 0.3, "cls": 2.5})
    x, y = two_output_data()
    logs = weighted.evaluate(x, y)
    assert logs["loss"] == pytest.approx(0.3 * logs["reg_loss"] + 2.5 * logs["cls_loss"])
    plain = two_outputs(None)  # the same seed: the same weights, weights 1
    plain_logs = plain.evaluate(x, y)
    assert plain_logs["reg_loss"] == pytest.approx(logs["reg_loss"])
    assert plain_logs["loss"] == pytest.approx(logs["reg_loss"] + logs["cls_loss"])
    xs, ys = weighted._prepare_xy(x, y)
    total, _ = weighted._loss_and_grad(weighted.forward(xs, False), ys)
    assert total == pytest.approx(logs["loss"])


# ----- gradients of the inputs ------------------------------------------------------------
@pytest.mark.parametrize(
    ("merge", "expected"), [("add", lambda a, g: 2 * g), ("multiply", lambda a, g: 2 * a * g)]
)
def test_one_value_given_twice_to_a_merge(merge: str, expected: Any) -> None:
    model = build([{"name": "m", "type": merge, "inputs": ["a", "a"]}])
    a = np.random.default_rng(0).standard_normal((4, 3))
    g = np.random.default_rng(1).standard_normal((4, 3))
    model.forward([a], True)
    (grad,) = model.backward([g], input_grad=True)
    np.testing.assert_allclose(grad, expected(a, g), rtol=1e-14)


# ----- shared buffers ----------------------------------------------------------------------
def test_batch_norm_applied_twice_updates_one_set_of_moving_statistics() -> None:
    model = build(
        [
            {"name": "bn", "type": "batch_norm", "momentum": 0.2, "inputs": ["a"]},
            {"name": "bn_b", "shares": "bn", "inputs": ["b"]},
            {"name": "sum", "type": "add", "inputs": ["bn", "bn_b"]},
        ],
        inputs={"a": [3], "b": [3]},
    )
    assert sorted(model.buffers) == ["bn/moving_mean", "bn/moving_variance"]
    owner = model.get_layer("bn")
    clone = next(step.layer for step in model.engine.steps if step.name == "bn_b")
    assert clone is not owner and model.get_layer("bn_b") is owner
    for key in owner.buffers:
        assert clone.buffers[key] is owner.buffers[key]
    rng = np.random.default_rng(3)
    a, b = rng.normal(1.0, 2.0, (8, 3)), rng.normal(-3.0, 0.5, (8, 3))
    model.forward([a, b], True)
    mean, var = np.zeros(3), np.ones(3)
    for x in (a, b):  # the uses run in order, each updating the same statistics
        mean = 0.8 * mean + 0.2 * x.mean(axis=0)
        var = 0.8 * var + 0.2 * x.var(axis=0)
    np.testing.assert_allclose(model.buffers["bn/moving_mean"], mean, rtol=1e-12)
    np.testing.assert_allclose(model.buffers["bn/moving_variance"], var, rtol=1e-12)
    np.testing.assert_allclose(model.get_weights()["bn/moving_mean"], mean, rtol=1e-12)


# ----- memory: values freed after their last use --------------------------------------------
def held_at_once(engine: GraphEngine) -> int:
    """The most values alive at once when the engine runs, from its release lists."""
    alive = set(range(len(engine.input_names)))
    most = len(alive)
    for step in engine.steps:
        assert set(step.inputs) <= alive, f"{step.name} reads a value already freed"
        alive.add(step.output)
        most = max(most, len(alive))
        alive -= set(step.release)
    assert alive == set(engine.output_slots)
    return most


def test_a_chain_holds_at_most_two_values() -> None:
    model = build([{"type": "dense", "units": 3, "activation": "relu"} for _ in range(8)],
                  inputs=None, input_shape=[3])  # fmt: skip
    assert model.graph.is_chain
    assert held_at_once(model.engine) == 2


def test_a_graph_frees_every_value_after_its_last_consumer() -> None:
    model = build(
        [
            {"name": "d1", "type": "dense", "units": 3, "inputs": ["a"]},
            {"name": "d2", "type": "dense", "units": 3},
            {"name": "d3", "type": "dense", "units": 3},
            {"name": "skip", "type": "add", "inputs": ["d1", "d3"]},
            {"name": "d4", "type": "dense", "units": 3},
            {"name": "out", "type": "add", "inputs": ["d4", "a"]},
        ]
    )
    last_use = {}
    for node in model.graph.nodes:
        for value in node.inputs:
            last_use[value] = node.name
    released = {
        value: step.name
        for step in model.engine.steps
        for value in (model.engine.input_names + [s.name for s in model.engine.steps])
        if model.engine._slot[value] in step.release
    }
    assert released == last_use
    assert released["a"] == "out" and released["d1"] == "skip"
    # a, d1 and the values of the d2 -> d3 chain: never more than four at once
    assert held_at_once(model.engine) == 4


def test_forward_drops_freed_values(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the engine and look at what it still holds when each layer runs."""
    model = build([{"type": "dense", "units": 3} for _ in range(5)],
                  inputs=None, input_shape=[3])  # fmt: skip
    seen: list[int] = []
    refs: list[weakref.ref[np.ndarray]] = []
    for step in model.engine.steps:
        original = step.layer.forward

        def forward(
            x: np.ndarray, training: bool = False, original: Any = original, step: Any = step
        ) -> Any:
            seen.append(sum(ref() is not None for ref in refs))
            out = original(x, training)
            del step.layer.x  # what dense keeps for backward: not the engine's business
            refs.append(weakref.ref(out))
            return out

        monkeypatch.setattr(step.layer, "forward", forward)
    gc.collect()
    model.predict(np.ones((2, 3)))
    # when each layer runs, only its own input (of the values the layers made) is alive
    assert seen == [0, 1, 1, 1, 1]
