"""ONNX export: every example (and the extras plugin's) trained briefly, exported and run
in onnxruntime on batches of 1, 7 and more than training's batch, matching ``predict``;
the file's names, metadata and dynamic batch; graphs (merges, shared layers, blocks,
several inputs and outputs); float64; atomic writing; the errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.errors import ExportError
from modular_nn.export import OPSET
from modular_nn.testing.onnx_check import (
    onnx_inputs,
    onnx_outputs_and_predictions,
    onnx_runtime_problem,
    run_onnx,
)

pytestmark = pytest.mark.skipif(
    onnx_runtime_problem() is not None, reason=str(onnx_runtime_problem())
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.json")) + sorted(
    (ROOT / "plugins" / "modular-nn-extras" / "examples").glob("*.json")
)
#: float32: onnxruntime against predict, at most
TOLERANCE = 1e-5


def random_inputs(model, rng, batch):
    """A batch for every input: ids for inputs only embeddings read, else normal floats."""
    xs = {}
    for name, shape, integer in zip(
        model.input_names, model.input_shapes.values(), model._integer_flags
    ):
        if integer:
            xs[name] = rng.integers(0, 4, size=(batch, *shape))
        else:
            xs[name] = rng.standard_normal((batch, *shape)).astype(model.dtype)
    return xs if len(xs) > 1 else next(iter(xs.values()))


def random_targets(model, rng, batch):
    """Targets that fit each output's loss: class ids, 0/1 labels or real values."""
    ys = {}
    for head, shape in zip(model.heads.heads, model.output_shapes.values()):
        loss = head.loss.type_name
        if loss.startswith("sparse"):
            ys[head.name] = rng.integers(0, shape[-1], size=(batch, *shape[:-1]))
        elif "binary" in loss or "focal" in loss:
            ys[head.name] = rng.integers(0, 2, size=(batch, *shape)).astype(np.float32)
        else:
            ys[head.name] = rng.standard_normal((batch, *shape))
    return ys if len(ys) > 1 else next(iter(ys.values()))


def assert_matches(model, x, path):
    pairs = onnx_outputs_and_predictions(model, x, path)
    assert pairs, "the model has outputs"
    for name, got, expected in pairs:
        assert got.dtype == expected.dtype == model.dtype, name
        assert got.shape == expected.shape, name
        gap = float(np.max(np.abs(got - expected))) if got.size else 0.0
        assert gap <= TOLERANCE, f"{name}: onnxruntime differs from predict by {gap:.3g}"


@pytest.mark.parametrize("spec_path", EXAMPLES, ids=lambda p: p.stem)
def test_example_trained_briefly_matches_onnxruntime(spec_path, tmp_path):
    model = mnn.build_model(spec_path)
    rng = np.random.default_rng(0)
    batch_size = model.training_config.batch_size
    x = random_inputs(model, rng, 2 * batch_size)
    model.fit(x, random_targets(model, rng, 2 * batch_size), epochs=1, verbose=0)
    path = tmp_path / f"{spec_path.stem}.onnx"
    for batch in (1, 7, batch_size + 5):
        assert_matches(model, random_inputs(model, rng, batch), path)


def test_file_names_metadata_and_dynamic_batch(tmp_path):
    import onnx

    model = mnn.build_model(ROOT / "examples" / "xor.json")
    written = model.export(tmp_path / "xor.onnx")
    assert written == tmp_path / "xor.onnx"
    proto = onnx.load(written)
    onnx.checker.check_model(proto, full_check=True)
    assert proto.producer_name == "modular_nn"
    assert proto.producer_version == mnn.__version__
    assert [op.version for op in proto.opset_import if op.domain in ("", "ai.onnx")] == [OPSET]
    assert proto.graph.name == "xor"
    props = {p.key: p.value for p in proto.metadata_props}
    assert props["name"] == "xor"
    assert mnn.load_spec(props["spec"]) == model.to_spec()
    assert json.loads(props["spec"]) == json.loads(model.to_spec().to_json())
    assert [i.name for i in proto.graph.input] == model.input_names == ["input"]
    assert [o.name for o in proto.graph.output] == model.output_names
    for value in [*proto.graph.input, *proto.graph.output]:
        dims = value.type.tensor_type.shape.dim
        assert dims[0].dim_param == "batch" and not dims[0].HasField("dim_value")
    initializers = {i.name for i in proto.graph.initializer}
    assert set(model.get_weights()) <= initializers  # named as get_weights() names them
    out = run_onnx(written, {"input": np.zeros((3, 2), np.float32)})
    assert out[model.output_names[0]].shape == (3, 1)


#: Twin towers: a block repeated twice, a second tower sharing the first one's layers and
#: blocks, merges, and two outputs (one of them also read by another layer).
TWINS = {
    "name": "twins",
    "inputs": {"left": [7, 7, 2], "right": [7, 7, 2]},
    "blocks": {
        "unit": {"layers": [
            {"name": "mix", "type": "conv2d", "filters": 3, "kernel_size": 2, "padding": "same",
             "activation": "tanh"},
            {"name": "pool", "type": "max_pool2d", "pool_size": 3, "strides": 1,
             "padding": "same"},
            {"name": "skip", "type": "average", "inputs": ["block_input", "pool"]},
        ]},
    },
    "layers": [
        {"name": "proj", "type": "conv2d", "filters": 3, "kernel_size": 1, "inputs": ["left"]},
        {"name": "tower", "type": "block", "block": "unit", "repeat": 2},
        {"name": "vec", "type": "flatten"},
        {"name": "proj_r", "shares": "proj", "inputs": ["right"]},
        {"name": "tower_r", "shares": "tower"},
        {"name": "vec_r", "shares": "vec"},
        {"name": "both", "type": "concatenate", "inputs": ["vec", "vec_r"]},
        {"name": "score", "type": "dense", "units": 2, "activation": "softmax"},
        {"name": "gap", "type": "maximum", "inputs": ["vec", "vec_r"]},
        {"name": "size", "type": "dense", "units": 1, "inputs": ["gap"]},
    ],
    "outputs": ["score", "size", "gap"],
    "loss": "mse",
    "optimizer": "adam",
}  # fmt: skip


def train_export_and_compare(spec, path, seed, epochs=1):
    """Build, train a little on random data (batches of 8), export and compare on batches
    of 1, 7 and 11; return the model."""
    model = mnn.build_model(spec)
    rng = np.random.default_rng(seed)
    x = random_inputs(model, rng, 24)
    model.fit(x, random_targets(model, rng, 24), epochs=epochs, batch_size=8, verbose=0)
    for batch in (1, 7, 11):
        assert_matches(model, random_inputs(model, rng, batch), path)
    return model


def test_graph_with_blocks_and_shared_layers_reuses_initializers(tmp_path):
    import onnx

    path = tmp_path / "twins.onnx"
    model = train_export_and_compare(TWINS, path, seed=1)
    proto = onnx.load(path)
    assert [i.name for i in proto.graph.input] == ["left", "right"]
    assert [o.name for o in proto.graph.output] == ["score", "size", "gap"]
    names = [i.name for i in proto.graph.initializer]
    weights = [n for n in names if "/" in n and n.split("/")[-1] in ("kernel", "bias")]
    assert sorted(weights) == sorted(model.params)  # one initializer per weight, shared uses too
    assert "tower/2/mix/kernel" in weights


ALL_LAYERS = {
    "name": "every_layer",
    "inputs": {"image": [6, 6, 2], "ids": [5], "vector": [4]},
    "layers": [
        {"name": "conv", "type": "conv2d", "filters": 3, "kernel_size": [3, 2], "strides": [1, 2],
         "padding": "same", "activation": "elu", "inputs": ["image"]},
        {"name": "dilated", "type": "conv2d", "filters": 3, "kernel_size": 2, "dilation_rate": 2,
         "activation": {"type": "leaky_relu", "negative_slope": 0.1}},
        {"name": "bn", "type": "batch_norm"},
        {"name": "maxp", "type": "max_pool2d", "pool_size": 2, "strides": 1, "padding": "same"},
        {"name": "avgp", "type": "avg_pool2d", "pool_size": 3, "strides": 2, "padding": "same"},
        {"name": "flat", "type": "flatten"},
        {"name": "img_dense", "type": "dense", "units": 6, "activation": "gelu"},
        {"name": "gap_src", "type": "conv2d", "filters": 6, "kernel_size": 1, "inputs": ["image"],
         "activation": "silu"},
        {"name": "gap", "type": "global_avg_pool2d"},
        {"name": "emb", "type": "embedding", "input_dim": 4, "output_dim": 3, "inputs": ["ids"]},
        {"name": "emb_flat", "type": "reshape", "target_shape": [-1]},
        {"name": "emb_dense", "type": "dense", "units": 6, "activation": "softplus"},
        {"name": "vec", "type": "dense", "units": 6, "activation": "tanh", "inputs": ["vector"]},
        {"name": "ln", "type": "layer_norm"},
        {"name": "drop", "type": "dropout", "rate": 0.3},
        {"name": "act", "type": "activation", "activation": {"type": "gelu", "approximate": True}},
        {"name": "sum", "type": "add", "inputs": ["img_dense", "gap", "act"]},
        {"name": "sub", "type": "subtract", "inputs": ["sum", "emb_dense"]},
        {"name": "mul", "type": "multiply", "inputs": ["sub", "vec", "gap"]},
        {"name": "avg", "type": "average", "inputs": ["mul", "sum"]},
        {"name": "max", "type": "maximum", "inputs": ["avg", "vec", "sub"]},
        {"name": "min", "type": "minimum", "inputs": ["max", "emb_dense"]},
        {"name": "cat", "type": "concatenate", "inputs": ["min", "max"], "axis": 1},
        {"name": "grid", "type": "reshape", "target_shape": [3, 4]},
        {"name": "probs", "type": "dense", "units": 5,
         "activation": {"type": "softmax", "axis": 1}},
        {"name": "head", "type": "dense", "units": 2, "activation": "sigmoid", "inputs": ["cat"]},
        {"name": "relu_out", "type": "activation", "activation": "relu", "inputs": ["cat"]},
        {"name": "lin", "type": "activation", "activation": "linear", "inputs": ["cat"]},
    ],
    "outputs": ["probs", "head", "relu_out", "lin"],
    "loss": "mse",
    "optimizer": {"type": "adam", "learning_rate": 0.01},
}  # fmt: skip


def test_every_builtin_layer_and_activation_in_one_graph(tmp_path):
    model = train_export_and_compare(ALL_LAYERS, tmp_path / "every.onnx", seed=2, epochs=2)
    assert np.any(model.get_weights()["bn/moving_mean"] != 0)  # stored statistics were used


def test_float64_model_exports_as_float64(tmp_path):
    import onnx

    spec = {"name": "double", "dtype": "float64", "loss": "mse", "optimizer": "adam"}
    spec["layers"] = [  # what onnxruntime runs in float64: no Conv, AveragePool or Erf
        {"name": "vec", "type": "dense", "units": 6, "activation": "elu", "inputs": ["vector"]},
        {"name": "bn", "type": "batch_norm"},
        {"name": "ln", "type": "layer_norm"},
        {"name": "sp", "type": "activation", "activation": "softplus"},
        {"name": "emb", "type": "embedding", "input_dim": 4, "output_dim": 6, "inputs": ["ids"]},
        {"name": "flat", "type": "flatten"},
        {"name": "d", "type": "dense", "units": 6, "activation": "softmax"},
        {"name": "mix", "type": "multiply", "inputs": ["sp", "d"]},
        {"name": "head", "type": "dense", "units": 2, "activation": "sigmoid"},
    ]
    spec["inputs"] = {"ids": [1], "vector": [4]}
    spec["outputs"] = ["head", "mix"]
    model = mnn.build_model(spec)
    rng = np.random.default_rng(3)
    model.fit(random_inputs(model, rng, 16), random_targets(model, rng, 16), epochs=1, verbose=0)
    path = tmp_path / "double.onnx"
    x = random_inputs(model, rng, 9)
    model.export(path)
    proto = onnx.load(path)
    assert {o.type.tensor_type.elem_type for o in proto.graph.output} == {onnx.TensorProto.DOUBLE}
    got = run_onnx(path, onnx_inputs(model, x))
    for name, expected in model.predict(x).items():
        assert got[name].dtype == np.float64
        np.testing.assert_allclose(got[name], expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("layer", "op"),
    [
        ({"type": "conv2d", "filters": 2, "kernel_size": 2}, "Conv"),
        ({"type": "avg_pool2d"}, "AveragePool"),
        ({"type": "activation", "activation": "gelu"}, "Erf"),
    ],
)
def test_float64_refused_with_the_reason_where_onnxruntime_has_no_kernel(layer, op, tmp_path):
    model = mnn.build_model({"input_shape": [4, 4, 1], "dtype": "float64", "layers": [layer]})
    path = tmp_path / "double.onnx"
    with pytest.raises(ExportError, match=f"{op} has no float64 kernel") as caught:
        model.export(path)
    assert "_1" in str(caught.value) and "float32" in str(caught.value)
    assert not path.exists() and os.listdir(tmp_path) == []


def test_integer_ids_input_is_int64(tmp_path):
    import onnx

    model = mnn.build_model(
        {"input_shape": [3], "layers": [{"type": "embedding", "input_dim": 5, "output_dim": 2}]}
    )
    model.export(tmp_path / "emb.onnx")
    proto = onnx.load(tmp_path / "emb.onnx")
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.INT64
    ids = np.array([[0, 4, 2], [1, 1, 3]])
    got = run_onnx(tmp_path / "emb.onnx", {"input": ids})[model.output_names[0]]
    np.testing.assert_array_equal(got, model.predict(ids))


# ----- atomic writing ---------------------------------------------------------------------


def test_failure_while_writing_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"the old file")
    model = mnn.build_model(ROOT / "examples" / "xor.json")

    def broken_replace(src, dst):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(ExportError, match="disk full"):
        model.export(path)
    assert path.read_bytes() == b"the old file"
    assert os.listdir(tmp_path) == ["model.onnx"]


def test_interrupted_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"the old file")
    model = mnn.build_model(ROOT / "examples" / "xor.json")
    real_fsync = os.fsync

    def interrupted(fd):
        real_fsync(fd)
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        model.export(path)
    assert path.read_bytes() == b"the old file"
    assert os.listdir(tmp_path) == ["model.onnx"]


def test_replacing_keeps_nothing_of_the_old_file(tmp_path):
    import onnx

    path = tmp_path / "model.onnx"
    path.write_bytes(b"x" * 100_000)
    mnn.build_model(ROOT / "examples" / "xor.json").export(path)
    assert onnx.load(path).graph.name == "xor"
    assert os.listdir(tmp_path) == ["model.onnx"]


def test_missing_directory_and_unknown_format(tmp_path):
    model = mnn.build_model(ROOT / "examples" / "xor.json")
    with pytest.raises(ExportError, match="does not exist"):
        model.export(tmp_path / "nowhere" / "m.onnx")
    with pytest.raises(ExportError, match="expected format 'onnx', received: 'tflite'"):
        model.export(tmp_path / "m.tflite", format="tflite")
    assert os.listdir(tmp_path) == []


# ----- errors -------------------------------------------------------------------------------


def test_missing_onnx_says_which_extra_to_install(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_onnx(name, *args, **kwargs):
        if name == "onnx" or name.startswith("onnx."):
            raise ImportError("No module named 'onnx'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_onnx)
    model = mnn.build_model(ROOT / "examples" / "xor.json")
    with pytest.raises(ExportError, match=r"pip install 'modular-nn\[onnx\]'"):
        model.export(tmp_path / "m.onnx")
    assert os.listdir(tmp_path) == []


class Doubler(mnn.Layer):
    """y = 2 x, without an export method."""

    type_name = "exporttest.doubler"

    def forward(self, x, training=False):
        return 2 * x

    def backward(self, grad_out):
        return 2 * grad_out


class Cube(mnn.Activation):
    """f(x) = x^3, without an export method."""

    type_name = "exporttest.cube"

    def forward(self, x):
        self.x = x
        return x**3

    def backward(self, grad_out):
        return grad_out * 3 * self.x**2


class ExportsBadly(mnn.Layer):
    """An export that raises."""

    type_name = "exporttest.bad"

    def forward(self, x, training=False):
        return x

    def backward(self, grad_out):
        return grad_out

    def export_onnx(self, builder, inputs):
        return builder.node("NoSuchOp", inputs)


class ThirdParty:
    @staticmethod
    @mnn.hookimpl
    def register_layers(register):
        register(Doubler)
        register(ExportsBadly)

    @staticmethod
    @mnn.hookimpl
    def register_activations(register):
        register(Cube)


@pytest.fixture
def third_party():
    registry = mnn.get_registry()
    registry.register_plugin(ThirdParty, provider="exporttest")
    try:
        yield
    finally:
        registry.unregister_plugin("exporttest")


def test_component_without_export_is_named_with_its_plugin(third_party, tmp_path):
    path = tmp_path / "m.onnx"
    path.write_bytes(b"old")
    model = mnn.build_model(
        {
            "input_shape": [3],
            "layers": [
                {"type": "dense", "units": 2, "activation": "exporttest.cube"},
                {"type": "exporttest.doubler", "name": "twice"},
            ],
        }
    )
    with pytest.raises(ExportError) as caught:
        model.export(path)
    message = str(caught.value)
    assert "layer 'twice' (type 'exporttest.doubler', from plugin 'exporttest')" in message
    assert "activation 'exporttest.cube' (from plugin 'exporttest')" in message
    assert "layer 'dense_1'" in message
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["m.onnx"]


def test_export_that_fails_names_the_layer_and_writes_nothing(third_party, tmp_path):
    model = mnn.build_model(
        {"input_shape": [3], "layers": [{"type": "exporttest.bad", "name": "odd"}]}
    )
    with pytest.raises(ExportError, match="'odd'.*exporttest.bad.*plugin 'exporttest'"):
        model.export(tmp_path / "m.onnx")
    assert os.listdir(tmp_path) == []


def test_an_inherited_export_of_another_forward_does_not_count():
    from modular_nn.export import exports_onnx
    from modular_nn.layers.dense import Dense

    class Squared(Dense):
        def forward(self, x, training=False):
            return super().forward(x, training) ** 2

    class Renamed(Dense):
        pass

    assert exports_onnx(Dense) and exports_onnx(Renamed)
    assert not exports_onnx(Squared)
