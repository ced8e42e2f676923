"""``Model`` built from a graph spec: named inputs and outputs, dicts or lists in and out,
per-output losses, weights and metrics in the history, shared layers and blocks by name,
and outputs whose activation must not be fused with the loss."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.testing.gradcheck import assert_gradients_close, check_model_gradients

SPEC: dict[str, Any] = {
    "name": "multi",
    "inputs": {"image": [4], "meta": [2]},
    "seed": 6,
    "blocks": {
        "residual": {
            "layers": [
                {"name": "conv_a", "type": "dense", "units": 5, "activation": "relu"},
                {"name": "sum", "type": "add", "inputs": ["block_input", "conv_a"]},
            ]
        }
    },
    "layers": [
        {"name": "stem", "type": "dense", "units": 5, "activation": "tanh", "inputs": ["image"]},
        {"name": "res", "type": "block", "block": "residual", "repeat": 2},
        {"name": "side", "type": "dense", "units": 5, "inputs": ["meta"]},
        {"name": "joined", "type": "concatenate", "inputs": ["res", "side"]},
        {"name": "digit", "type": "dense", "units": 3, "activation": "softmax"},
        {
            "name": "even",
            "type": "dense",
            "units": 1,
            "activation": "sigmoid",
            "inputs": ["joined"],
        },
    ],  # fmt: skip
    "outputs": ["digit", "even"],
    "loss": {"digit": "sparse_categorical_crossentropy", "even": "binary_crossentropy"},
    "loss_weights": {"digit": 1.0, "even": 0.5},
    "optimizer": {"type": "adam", "learning_rate": 0.02},
    "training": {"batch_size": 8, "metrics": {"digit": ["accuracy"], "even": ["accuracy"]}},
}


def make_data(rows: int = 24) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    rng = np.random.default_rng(4)
    x = {"image": rng.standard_normal((rows, 4)), "meta": rng.standard_normal((rows, 2))}
    digit = rng.integers(0, 3, rows)
    return x, {"digit": digit, "even": (digit % 2 == 0).astype(float)[:, None]}


def test_names_and_shapes() -> None:
    model = mnn.build_model(SPEC)
    assert model.input_names == ["image", "meta"]
    assert model.output_names == ["digit", "even"]
    assert model.input_shape == [(4,), (2,)]
    assert model.output_shape == [(3,), (1,)]
    assert sorted(model.params) == sorted(
        [f"{n}/{p}" for n in ("stem", "side", "digit", "even", "res/1/conv_a", "res/2/conv_a")
         for p in ("kernel", "bias")]
    )  # fmt: skip
    assert model.get_layer("res/2/conv_a").name == "res/2/conv_a"
    assert model.get_layer("res").name == "res/2/sum"  # a placement stands for its output


def test_predict_gives_a_dict_by_output_name() -> None:
    model = mnn.build_model(SPEC)
    x, _ = make_data()
    out = model.predict(x)
    assert list(out) == ["digit", "even"]
    assert out["digit"].shape == (24, 3) and out["even"].shape == (24, 1)
    np.testing.assert_allclose(out["digit"].sum(axis=1), 1.0, rtol=1e-6)
    listed = model.predict([x["image"], x["meta"]])  # a list in declaration order
    for key in out:
        np.testing.assert_array_equal(listed[key], out[key])
    batched = model.predict(x, batch_size=5)
    for key in out:
        np.testing.assert_allclose(batched[key], out[key], rtol=1e-6, atol=1e-7)


def test_one_output_of_a_graph_predicts_an_array() -> None:
    spec = {**SPEC, "outputs": ["digit"], "loss": "sparse_categorical_crossentropy"}
    spec["layers"] = SPEC["layers"][:-1]
    del spec["loss_weights"], spec["training"]
    model = mnn.build_model(spec)
    out = model.predict(make_data()[0])
    assert isinstance(out, np.ndarray) and out.shape == (24, 3)


def test_fit_takes_dicts_or_lists_alike() -> None:
    x, y = make_data()
    by_name = mnn.build_model(SPEC)
    by_name.fit(x, y, epochs=2, verbose=0)
    by_order = mnn.build_model(SPEC)
    by_order.fit([x["image"], x["meta"]], [y["digit"], y["even"]], epochs=2, verbose=0)
    for key, value in by_name.get_weights().items():
        np.testing.assert_array_equal(by_order.get_weights()[key], value, err_msg=key)
    assert by_name.evaluate(x, y) == by_order.evaluate([x["image"], x["meta"]], y)


def test_history_holds_each_outputs_loss_and_metrics() -> None:
    x, y = make_data()
    model = mnn.build_model(SPEC)
    history = model.fit(x, y, epochs=2, validation_data=(x, y), verbose=0)
    expected = {"loss", "digit_loss", "even_loss", "digit_accuracy", "even_accuracy"}
    assert set(history.history) == expected | {f"val_{key}" for key in expected}
    for key in history.history:
        assert len(history.history[key]) == 2
    logs = model.evaluate(x, y)
    assert set(logs) == expected
    assert logs["loss"] == pytest.approx(logs["digit_loss"] + 0.5 * logs["even_loss"])
    assert history.history["val_loss"][-1] == pytest.approx(logs["loss"])
    assert 0 <= logs["digit_accuracy"] <= 1


def test_metrics_keyed_by_output_only_go_to_those_outputs() -> None:
    spec = {**SPEC, "training": {"metrics": {"even": ["mae"]}}}
    logs = mnn.build_model(spec).evaluate(*make_data())
    assert set(logs) == {"loss", "digit_loss", "even_loss", "even_mae"}


def test_one_loss_for_every_output() -> None:
    spec = {**SPEC, "loss": "mse", "training": {"metrics": ["mae"]}}
    del spec["loss_weights"]
    model = mnn.build_model(spec)
    assert isinstance(model.loss, dict) and set(model.loss) == {"digit", "even"}
    assert model.loss["digit"] is not model.loss["even"]  # each output keeps its own state
    x, y = make_data()
    y = {"digit": np.eye(3)[y["digit"]], "even": y["even"]}
    logs = model.evaluate(x, y)
    assert set(logs) == {"loss", "digit_loss", "even_loss", "digit_mae", "even_mae"}
    assert logs["loss"] == pytest.approx(logs["digit_loss"] + logs["even_loss"])
    assert model.to_spec().loss.type == "mse"


@pytest.mark.parametrize(
    ("x", "message"),
    [
        ({"image": np.ones((3, 4))}, "missing 'meta'"),
        ({"image": np.ones((3, 4)), "meta": np.ones((3, 2)), "extra": 1}, "unknown 'extra'"),
        ([np.ones((3, 4))], "received a list of 1"),
        (np.ones((3, 4)), "give a dict keyed by those names"),
    ],
)
def test_wrong_inputs_say_what_is_expected(x: Any, message: str) -> None:
    model = mnn.build_model(SPEC)
    with pytest.raises(mnn.DataError, match=message):
        model.predict(x)


def test_targets_of_different_lengths_are_refused() -> None:
    model = mnn.build_model(SPEC)
    x, y = make_data()
    y["even"] = y["even"][:-1]
    with pytest.raises(mnn.DataError, match="differ in length"):
        model.fit(x, y, epochs=1, verbose=0)


def test_a_shared_layer_is_one_layer() -> None:
    spec = {
        "inputs": {"left": [3], "right": [3]},
        "layers": [
            {"name": "enc", "type": "dense", "units": 2, "inputs": ["left"]},
            {"name": "enc_r", "shares": "enc", "inputs": ["right"]},
            {"name": "diff", "type": "subtract", "inputs": ["enc", "enc_r"]},
        ],
    }
    model = mnn.build_model(spec)
    assert model.get_layer("enc_r") is model.get_layer("enc")
    assert sorted(model.get_weights()) == ["enc/bias", "enc/kernel"]
    x = np.random.default_rng(0).standard_normal((4, 3))
    np.testing.assert_allclose(model.predict({"left": x, "right": x}), 0.0, atol=1e-6)


# ----- output activations and the loss ------------------------------------------------------
def test_a_softmax_output_that_feeds_another_layer_is_not_fused() -> None:
    spec = {
        "inputs": {"a": [3]},
        "dtype": "float64",
        "layers": [
            {"name": "probs", "type": "dense", "units": 3, "activation": "softmax"},
            {"name": "reg", "type": "dense", "units": 2},
        ],
        "outputs": ["probs", "reg"],
        "loss": {"probs": "categorical_crossentropy", "reg": "mse"},
        "optimizer": "sgd",
    }
    model = mnn.build_model(spec)
    assert model.heads.heads[0].fused is None
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 3))
    y = {"probs": np.eye(3)[[0, 1, 2, 1, 0]], "reg": rng.standard_normal((5, 2))}
    assert_gradients_close(check_model_gradients(model, x, y))
    np.testing.assert_allclose(model.predict(x)["probs"].sum(axis=1), 1.0)


def test_a_shared_softmax_output_layer() -> None:
    spec = {
        "inputs": {"a": [3], "b": [3]},
        "dtype": "float64",
        "layers": [
            {"name": "o1", "type": "dense", "units": 3, "activation": "softmax", "inputs": ["a"]},
            {"name": "o2", "shares": "o1", "inputs": ["b"]},
        ],
        "outputs": ["o1", "o2"],
        "loss": "categorical_crossentropy",
        "loss_weights": {"o1": 2.0, "o2": 0.5},
        "optimizer": "sgd",
    }
    model = mnn.build_model(spec)
    rng = np.random.default_rng(1)
    x = {"a": rng.standard_normal((5, 3)), "b": rng.standard_normal((5, 3))}
    y = [np.eye(3)[[0, 1, 2, 1, 0]], np.eye(3)[[2, 2, 1, 0, 0]]]
    assert_gradients_close(check_model_gradients(model, x, y))


def test_a_block_as_the_output_fuses_its_softmax() -> None:
    spec = {
        "input_shape": [3],
        "dtype": "float64",
        "blocks": {"b": {"layers": [{"name": "d", "type": "dense", "units": 3,
                                     "activation": "softmax"}]}},
        "layers": [{"name": "blk", "type": "block", "block": "b", "repeat": 2}],
        "loss": "categorical_crossentropy",
        "optimizer": "sgd",
    }  # fmt: skip
    model = mnn.build_model(spec)
    assert model.output_names == ["blk"]
    assert model.heads.heads[0].fused is not None
    x = np.random.default_rng(2).standard_normal((5, 3))
    assert_gradients_close(check_model_gradients(model, x, np.eye(3)[[0, 1, 2, 1, 0]]))


def test_a_list_of_layers_may_start_with_self_attention() -> None:
    """A chain spec (no graph keys) whose layer takes several inputs runs as a graph."""
    spec = {
        "input_shape": [5, 4],
        "layers": [
            {"type": "multi_head_attention", "num_heads": 2, "key_dim": 2},
            {"type": "flatten"},
            {"type": "dense", "units": 1},
        ],
        "loss": "mse",
        "optimizer": "adam",
    }
    model = mnn.build_model(spec)
    x = np.random.default_rng(0).random((3, 5, 4))
    assert model.predict(x).shape == (3, 1)
    assert mnn.load_spec(model.to_spec()) == mnn.load_spec(spec)


def test_calling_a_graph_takes_and_gives_dicts_by_name() -> None:
    model = mnn.build_model(SPEC)
    x, _ = make_data(6)
    out = model(x)
    assert set(out) == {"digit", "even"} and out["digit"].shape == (6, 3)
    for name, value in model.predict(x).items():
        np.testing.assert_array_equal(out[name], value, err_msg=name)
    listed = model([x["image"], x["meta"]])  # a list in input order, as in Keras
    np.testing.assert_array_equal(listed["even"], out["even"])


def test_compile_metrics_per_output() -> None:
    model = mnn.build_model(SPEC)
    model.compile(metrics={"even": ["accuracy", "f1"]})
    x, y = make_data()
    logs = model.evaluate(x, y)
    assert {"even_accuracy", "even_f1"} <= set(logs) and "digit_accuracy" not in logs
    assert model.to_spec().training.metrics == {"even": ["accuracy", "f1"]}
