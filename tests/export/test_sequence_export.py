"""ONNX export of the sequence layers: simple_rnn, lstm, gru and bidirectional as ONNX's
RNN/LSTM/GRU operators (gate blocks and layouts converted), multi_head_attention as
MatMul/Softmax (causal mask, heads as contiguous slices), positional_embedding as a Slice
by the input's time length; each trained briefly and matched with onnxruntime on batches
of 1, 7 and more than training's batch, within 1e-5 in float32. With an embedding's
mask_zero mask, recurrent layers are unrolled (states carried over padded steps, left-
and right-padded ids), the 1-D global pools pool the real steps and attention ignores
padded keys; a mask reaching a layer whose export ignores it is refused by name; float64
is refused where onnxruntime has no kernel."""

from __future__ import annotations

import os

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.errors import ExportError
from modular_nn.testing.onnx_check import onnx_runtime_problem, run_onnx
from tests.export.test_onnx_export import onnx_inputs, train_export_and_compare

pytestmark = pytest.mark.skipif(
    onnx_runtime_problem() is not None, reason=str(onnx_runtime_problem())
)

RECURRENT = [
    {"type": "simple_rnn", "units": 5},
    {"type": "simple_rnn", "units": 5, "return_sequences": True, "activation": "relu"},
    {"type": "simple_rnn", "units": 5, "return_sequences": True, "go_backwards": True},
    {"type": "lstm", "units": 5},
    {"type": "lstm", "units": 5, "return_sequences": True},
    {"type": "lstm", "units": 5, "go_backwards": True},
    {"type": "lstm", "units": 5, "return_sequences": True, "go_backwards": True, "use_bias": False},
    {"type": "lstm", "units": 4, "activation": {"type": "elu", "alpha": 0.5},
     "recurrent_activation": "sigmoid"},
    {"type": "lstm", "units": 4, "activation": {"type": "leaky_relu", "negative_slope": 0.2}},
    {"type": "gru", "units": 5},
    {"type": "gru", "units": 5, "return_sequences": True},
    {"type": "gru", "units": 5, "return_sequences": True, "go_backwards": True},
    {"type": "gru", "units": 5, "use_bias": False, "activation": "softplus"},
    {"type": "bidirectional", "layer": {"type": "lstm", "units": 4, "return_sequences": True}},
    {"type": "bidirectional", "layer": {"type": "lstm", "units": 4}},
    {"type": "bidirectional", "layer": {"type": "gru", "units": 4}, "merge_mode": "ave"},
    {"type": "bidirectional", "merge_mode": "sum",
     "layer": {"type": "gru", "units": 4, "return_sequences": True}},
    {"type": "bidirectional", "merge_mode": "mul",
     "layer": {"type": "simple_rnn", "units": 4, "return_sequences": True, "go_backwards": True}},
]  # fmt: skip


def sequence_model(layer, dtype="float32"):
    """(time 6, features 3) -> the layer -> dense; a sequence output is flattened first."""
    inner = layer.get("layer", layer)
    tail = [{"type": "flatten"}] if inner.get("return_sequences") else []
    return {
        "input_shape": [6, 3],
        "dtype": dtype,
        "layers": [layer, *tail, {"type": "dense", "units": 2}],
        "loss": "mse",
        "optimizer": {"type": "adam", "learning_rate": 0.05},
        "seed": 4,
    }


def label(layer):
    inner = layer.get("layer", {})
    flags = [k for k in ("return_sequences", "go_backwards") if layer.get(k) or inner.get(k)]
    return "-".join([layer["type"], inner.get("type", ""), *flags, layer.get("merge_mode", "")])


@pytest.mark.parametrize("layer", RECURRENT, ids=label)
def test_recurrent_layer_matches_onnxruntime(layer, tmp_path):
    # trained on batches of 8 (3 epochs, so the weights move), compared on 1, 7 and 11
    model = train_export_and_compare(sequence_model(layer), tmp_path / "m.onnx", seed=1, epochs=3)
    assert model.get_weights(), "the model has weights"


@pytest.mark.parametrize(
    ("layer", "op", "attributes"),
    [
        ({"type": "simple_rnn", "units": 3}, "RNN", {"activations": [b"Tanh"]}),
        (
            {"type": "lstm", "units": 3},
            "LSTM",
            {"activations": [b"Sigmoid", b"Tanh", b"Tanh"]},
        ),
        (
            {"type": "gru", "units": 3, "recurrent_activation": "relu"},
            "GRU",
            {"activations": [b"Relu", b"Tanh"], "linear_before_reset": 1},
        ),
    ],
)
def test_recurrent_layers_are_onnx_recurrent_operators(layer, op, attributes, tmp_path):
    import onnx

    path = tmp_path / "op.onnx"
    mnn.build_model(sequence_model(layer)).export(path)
    proto = onnx.load(path)
    (node,) = [n for n in proto.graph.node if n.op_type == op]
    found = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    assert found["hidden_size"] == 3
    for name, value in attributes.items():
        assert found[name] == value, name
    # the weights stay as get_weights() names them (converted in the graph)
    names = {i.name for i in proto.graph.initializer}
    assert {f"{layer['type']}_1/kernel", f"{layer['type']}_1/recurrent_kernel"} <= names


def test_lstm_gate_order_is_converted_not_ignored(tmp_path):
    # a forget-gate bias of -30 against an input-gate bias of +30: in the wrong order the
    # two swap, and the outputs differ far beyond the tolerance
    model = mnn.build_model(sequence_model({"type": "lstm", "units": 3}))
    units = 3
    weights = model.get_weights()
    bias = weights["lstm_1/bias"]
    bias[:units], bias[units : 2 * units] = 30.0, -30.0
    bias[2 * units : 3 * units], bias[3 * units :] = 0.5, -0.5
    model.set_weights(weights)
    x = np.random.default_rng(0).standard_normal((5, 6, 3)).astype(np.float32)
    path = tmp_path / "gates.onnx"
    model.export(path)
    got = run_onnx(path, onnx_inputs(model, x))[model.output_names[0]]
    np.testing.assert_allclose(got, model.predict(x), atol=1e-5)


ATTENTION = {
    "self": {
        "inputs": {"x": [6, 3]},
        "layers": [
            {"name": "proj", "type": "dense", "units": 8, "inputs": ["x"]},
            {"name": "pos", "type": "positional_embedding", "max_length": 10},
            {"name": "att", "type": "multi_head_attention", "num_heads": 2, "key_dim": 4,
             "inputs": ["pos"]},
            {"name": "res", "type": "add", "inputs": ["att", "pos"]},
            {"name": "norm", "type": "layer_norm"},
            {"name": "seq", "type": "lstm", "units": 4},
        ],
    },
    "causal_no_bias_value_dim": {
        "inputs": {"x": [5, 4]},
        "layers": [
            {"name": "att", "type": "multi_head_attention", "num_heads": 3, "key_dim": 2,
             "value_dim": 5, "use_causal_mask": True, "use_bias": False, "inputs": ["x"]},
            {"name": "flat", "type": "flatten"},
        ],
    },
    "cross_query_value_key": {
        "inputs": {"q": [5, 6], "v": [7, 4], "k": [7, 3]},
        "layers": [
            {"name": "att", "type": "multi_head_attention", "num_heads": 2, "key_dim": 3,
             "inputs": ["q", "v", "k"]},
            {"name": "flat", "type": "flatten"},
        ],
    },
    "cross_causal": {
        "inputs": {"q": [4, 6], "v": [7, 4]},
        "layers": [
            {"name": "att", "type": "multi_head_attention", "num_heads": 2, "key_dim": 3,
             "use_causal_mask": True, "dropout": 0.2, "inputs": ["q", "v"]},
            {"name": "flat", "type": "flatten"},
        ],
    },
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(ATTENTION))
def test_attention_and_positional_embedding_match_onnxruntime(name, tmp_path):
    spec = {**ATTENTION[name], "loss": "mse", "optimizer": {"type": "adam", "learning_rate": 0.05}}
    model = train_export_and_compare(spec, tmp_path / f"{name}.onnx", seed=2, epochs=3)
    assert model.get_weights()


def test_positional_embedding_reads_rows_by_the_time_length(tmp_path):
    import onnx

    spec = {"input_shape": [4, 3], "layers": [{"type": "positional_embedding", "max_length": 9}]}
    model = mnn.build_model(spec)
    path = tmp_path / "pos.onnx"
    model.export(path)
    ops = [n.op_type for n in onnx.load(path).graph.node]
    assert {"Shape", "Slice", "Add"} <= set(ops)
    x = np.random.default_rng(1).standard_normal((3, 4, 3)).astype(np.float32)
    got = run_onnx(path, onnx_inputs(model, x))[model.output_names[0]]
    np.testing.assert_allclose(
        got, x + model.get_weights()["positional_embedding_1/embeddings"][:4]
    )


def test_attention_and_positional_embedding_in_float64(tmp_path):
    spec = {**ATTENTION["causal_no_bias_value_dim"], "dtype": "float64"}
    spec["layers"] = [
        {"name": "pos", "type": "positional_embedding", "max_length": 5, "inputs": ["x"]},
        *[{**entry, "inputs": ["pos"]} if entry["name"] == "att" else entry
          for entry in spec["layers"]],
    ]  # fmt: skip
    model = mnn.build_model(spec)
    x = np.random.default_rng(2).standard_normal((3, 5, 4))
    path = tmp_path / "double.onnx"
    model.export(path)
    got = run_onnx(path, onnx_inputs(model, x))[model.output_names[0]]
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, model.predict(x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("kind", "op"), [("simple_rnn", "RNN"), ("lstm", "LSTM"), ("gru", "GRU")])
def test_float64_recurrent_refused_with_the_reason(kind, op, tmp_path):
    model = mnn.build_model(sequence_model({"type": kind, "units": 3}, dtype="float64"))
    path = tmp_path / "double.onnx"
    with pytest.raises(ExportError, match=f"{op} has no float64 kernel") as caught:
        model.export(path)
    assert f"{kind}_1" in str(caught.value) and "float32" in str(caught.value)
    assert os.listdir(tmp_path) == []


def test_activation_without_onnx_recurrent_equivalent_is_refused(tmp_path):
    model = mnn.build_model(sequence_model({"type": "lstm", "units": 3, "activation": "gelu"}))
    path = tmp_path / "m.onnx"
    with pytest.raises(ExportError, match="received activation 'gelu'") as caught:
        model.export(path)
    message = str(caught.value)
    assert "'lstm_1'" in message and "'tanh'" in message and "LSTM" in message
    assert not path.exists()


# ----- masks (an embedding's mask_zero) ---------------------------------------------------

MASKED_RECURRENT = [
    {"type": "lstm", "units": 4},
    {"type": "lstm", "units": 4, "return_sequences": True},
    {"type": "lstm", "units": 4, "go_backwards": True},
    {"type": "lstm", "units": 4, "return_sequences": True, "go_backwards": True, "use_bias": False},
    {"type": "lstm", "units": 3, "activation": "gelu"},  # unrolled: any exported activation
    {"type": "gru", "units": 4},
    {"type": "gru", "units": 4, "return_sequences": True},
    {"type": "gru", "units": 4, "go_backwards": True, "use_bias": False},
    {"type": "gru", "units": 4, "return_sequences": True, "go_backwards": True},
    {"type": "simple_rnn", "units": 4},
    {"type": "simple_rnn", "units": 4, "return_sequences": True, "activation": "relu"},
    {"type": "simple_rnn", "units": 4, "go_backwards": True},
    {"type": "bidirectional", "layer": {"type": "lstm", "units": 3, "return_sequences": True}},
    {"type": "bidirectional", "layer": {"type": "lstm", "units": 3}},
    {"type": "bidirectional", "layer": {"type": "gru", "units": 3}, "merge_mode": "ave"},
    {"type": "bidirectional", "merge_mode": "mul",
     "layer": {"type": "simple_rnn", "units": 3, "return_sequences": True, "go_backwards": True}},
]  # fmt: skip


def masked_model(layers, dtype="float32"):
    """ids (time 6) -> embedding with mask_zero -> the layers -> dense; a sequence output
    stays a sequence (dense passes its mask on), so padded steps are compared too."""
    return {
        "input_shape": [6],
        "dtype": dtype,
        "layers": [
            {"type": "embedding", "input_dim": 9, "output_dim": 3, "mask_zero": True},
            *layers,
            {"type": "dense", "units": 2},
        ],
        "loss": "mse",
        "optimizer": {"type": "adam", "learning_rate": 0.05},
        "seed": 4,
    }


def padded_ids(rng, batch, time=6):
    """Ids 1..8 with padding 0: rows left-padded, right-padded, with a padded step in
    the middle and unpadded in turn (row 0 left-padded); the last row of a batch of more
    than 7 is all padding."""
    ids = rng.integers(1, 9, size=(batch, time))
    for row in range(batch):
        kind, count = row % 4, int(rng.integers(1, time))
        if kind == 0:
            ids[row, :count] = 0
        elif kind == 1:
            ids[row, time - count :] = 0
        elif kind == 2:
            ids[row, int(rng.integers(1, time - 1))] = 0
    if batch > 7:
        ids[-1] = 0
    return ids


def train_masked_and_compare(spec, path, tolerance=1e-5):
    """Train briefly on padded ids (batches of 8), export, and compare onnxruntime with
    predict on left- and right-padded batches of 1, 7 and 13; return the model."""
    model = mnn.build_model(spec)
    rng = np.random.default_rng(2)
    x = padded_ids(rng, 24)
    y = rng.standard_normal((24, *model.output_shapes[model.output_names[0]]))
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    model.export(path)
    for batch in (1, 7, 13):
        ids = padded_ids(rng, batch)
        got = run_onnx(path, onnx_inputs(model, ids))[model.output_names[0]]
        expected = model.predict(ids)
        assert got.dtype == expected.dtype and got.shape == expected.shape
        gap = float(np.max(np.abs(got - expected)))
        assert gap <= tolerance, f"batch {batch}: onnxruntime differs from predict by {gap:.3g}"
    return model


@pytest.mark.parametrize("layer", MASKED_RECURRENT, ids=label)
def test_masked_recurrent_layer_is_unrolled_and_matches_predict(layer, tmp_path):
    import onnx

    path = tmp_path / "masked.onnx"
    train_masked_and_compare(masked_model([layer]), path)
    ops = {node.op_type for node in onnx.load(path).graph.node}
    assert not ops & {"RNN", "LSTM", "GRU"}, "a masked recurrent layer is unrolled"
    assert {"Where", "MatMul"} <= ops


def test_masks_pass_through_stacked_recurrent_layers_and_merges(tmp_path):
    # the go_backwards lstm's sequence and its mask stay reversed; the gru reads both so
    model = masked_model(
        [
            {"type": "lstm", "units": 4, "return_sequences": True, "go_backwards": True},
            {"type": "dropout", "rate": 0.1},
            {"type": "gru", "units": 3, "return_sequences": True},
            {"type": "simple_rnn", "units": 3},
        ]
    )
    train_masked_and_compare(model, tmp_path / "stacked.onnx")


@pytest.mark.parametrize(
    "pool",
    [
        {"type": "global_avg_pool1d"},
        {"type": "global_max_pool1d"},
        {"type": "global_avg_pool1d", "keepdims": True},
        {"type": "global_max_pool1d", "keepdims": True},
    ],
    ids=lambda p: p["type"] + ("-keepdims" if p.get("keepdims") else ""),
)
def test_masked_global_pools_pool_the_real_steps(pool, tmp_path):
    # an all-padded sequence gives 0 (the last row of the batch of 13)
    layers = [{"type": "dense", "units": 4, "activation": "tanh"}, pool]
    if pool.get("keepdims"):
        layers.append({"type": "flatten"})
    train_masked_and_compare(masked_model(layers), tmp_path / "pool.onnx")


@pytest.mark.parametrize("causal", [False, True], ids=["keys", "keys-causal"])
def test_masked_attention_ignores_padded_keys(causal, tmp_path):
    # key padding mask: padded keys get weight 0; a row with no key left gives weights 0
    spec = {
        "inputs": {"ids": [6]},
        "layers": [
            {"name": "emb", "type": "embedding", "input_dim": 9, "output_dim": 4,
             "mask_zero": True, "inputs": ["ids"]},
            {"type": "positional_embedding", "max_length": 6},
            {"name": "att", "type": "multi_head_attention", "num_heads": 2, "key_dim": 2,
             "use_causal_mask": causal},
            {"type": "dense", "units": 2},
        ],
        "loss": "mse",
        "optimizer": {"type": "adam", "learning_rate": 0.05},
        "seed": 4,
    }  # fmt: skip
    train_masked_and_compare(spec, tmp_path / "attention.onnx")


def test_masked_recurrent_exports_in_float64(tmp_path):
    # unrolled, it uses no RNN/LSTM/GRU operator, which onnxruntime lacks in float64
    spec = masked_model([{"type": "lstm", "units": 3, "return_sequences": True}], "float64")
    train_masked_and_compare(spec, tmp_path / "double.onnx", tolerance=1e-12)


class MaskedSum(mnn.Layer):
    """Sums the real steps (reads the mask) and has an export that ignores the mask."""

    type_name = "masktest.masked_sum"
    supports_masking = True

    def compute_output_shape(self, input_shape):
        return input_shape[1:]

    def produces_mask(self, input_shape, input_masked):
        return False

    def forward(self, x, training=False):
        return (x * self.input_mask[:, :, None]).sum(axis=1)

    def backward(self, grad_out):
        raise NotImplementedError

    def export_onnx(self, builder, inputs):
        return builder.node("ReduceSum", [inputs[0], builder.int64s([1])], keepdims=0)


class MaskPlugin:
    @staticmethod
    @mnn.hookimpl
    def register_layers(register):
        register(MaskedSum)


def test_a_mask_reaching_a_layer_whose_export_ignores_it_is_refused_by_name(tmp_path):
    registry = mnn.get_registry()
    registry.register_plugin(MaskPlugin, provider="masktest")
    try:
        layers = [
            {"name": "emb", "type": "embedding", "input_dim": 9, "output_dim": 4,
             "mask_zero": True},
            {"name": "pos", "type": "positional_embedding", "max_length": 6},  # passes it on
            {"name": "total", "type": "masktest.masked_sum"},
        ]  # fmt: skip
        model = mnn.build_model({"input_shape": [6], "layers": layers})
        path = tmp_path / "masked.onnx"
        with pytest.raises(ExportError, match="reads a mask") as caught:
            model.export(path)
    finally:
        registry.unregister_plugin("masktest")
    message = str(caught.value)
    assert "layer 'total' (type 'masktest.masked_sum')" in message and "mask_zero" in message
    assert "'pos'" not in message and "'emb'" not in message
    assert os.listdir(tmp_path) == []


def test_a_model_without_mask_zero_exports_the_same_layers(tmp_path):
    layers = [
        {"type": "embedding", "input_dim": 9, "output_dim": 4},
        {"type": "positional_embedding", "max_length": 6},
        {"type": "gru", "units": 3},
    ]
    model = mnn.build_model({"input_shape": [6], "layers": layers})
    ids = np.random.default_rng(3).integers(0, 9, size=(7, 6))
    path = tmp_path / "ids.onnx"
    model.export(path)
    got = run_onnx(path, onnx_inputs(model, ids))[model.output_names[0]]
    np.testing.assert_allclose(got, model.predict(ids), atol=1e-5)
