"""What global_avg_pool1d and global_max_pool1d share: gradients with and without a mask,
the mask checked against the input and followed in a model from an embedding with
mask_zero, shapes, options in a spec."""

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.layers.global_avg_pool1d import GlobalAvgPool1D
from modular_nn.layers.global_max_pool1d import GlobalMaxPool1D
from modular_nn.layers.global_pooling import step_mask
from modular_nn.testing import assert_gradients_close, check_layer_gradients, check_model_gradients

POOLS_1D = [GlobalAvgPool1D, GlobalMaxPool1D]
#: real steps of 4 sequences of 6 steps: full, right-padded, holes, all padding
MASK = np.array([[1] * 6, [1, 1, 1, 0, 0, 0], [0, 1, 0, 1, 1, 0], [0] * 6], dtype=bool)


@pytest.mark.parametrize("cls", POOLS_1D)
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("keepdims", [False, True])
def test_gradients(cls, training: bool, keepdims: bool) -> None:
    layer = cls(keepdims=keepdims)
    assert_gradients_close(check_layer_gradients(layer, (6, 3), training=training))


@pytest.mark.parametrize("cls", POOLS_1D)
@pytest.mark.parametrize("keepdims", [False, True])
def test_gradients_with_a_mask(cls, keepdims: bool) -> None:
    layer = cls(keepdims=keepdims)
    layer.input_mask = MASK
    x = np.random.default_rng(3).standard_normal((4, 6, 3))
    x[~MASK] += 10.0  # padded steps would win every maximum without the mask
    results = check_layer_gradients(layer, (6, 3), batch=4, x=x)
    assert_gradients_close(results)
    assert results["input"].checked == 4 * 6 * 3


@pytest.mark.parametrize("cls", POOLS_1D)
def test_takes_a_mask_and_gives_none(cls) -> None:
    layer = cls()
    assert layer.supports_masking
    assert layer.produces_mask((6, 3), True) is False
    assert layer.compute_mask(np.zeros((4, 6, 3)), MASK) is None


@pytest.mark.parametrize("cls", POOLS_1D)
def test_shapes_and_empty_batch(cls) -> None:
    with pytest.raises(
        mnn.ShapeError, match=r"\(time, features\), received input shape \(4, 4, 3\)"
    ):
        cls().compute_output_shape((4, 4, 3))
    assert cls(keepdims=True).compute_output_shape((5, 2)) == (1, 2)
    layer = cls()
    layer.build((5, 2), np.random.default_rng(0), np.float32)
    for mask in (None, np.zeros((0, 5), bool)):
        layer.input_mask = mask
        y = layer.forward(np.zeros((0, 5, 2), np.float32), True)
        assert y.shape == (0, 2) and y.dtype == np.float32
        assert layer.backward(y).shape == (0, 5, 2)


@pytest.mark.parametrize("cls", POOLS_1D)
def test_a_mask_of_the_wrong_shape_is_a_shape_error(cls) -> None:
    layer = cls()
    layer.build((5, 2), np.random.default_rng(0), np.float64)
    layer.input_mask = np.ones((3, 4), bool)
    with pytest.raises(mnn.ShapeError, match=r"mask of shape \(batch, time\) = \(3, 5\).*\(3, 4\)"):
        layer.forward(np.zeros((3, 5, 2)), True)


def test_masks_become_boolean() -> None:
    x = np.zeros((2, 3, 1))
    assert step_mask("layer", None, x) is None
    mask = step_mask("layer", [[1, 0, 1], [0, 0, 1]], x)
    assert mask.dtype == bool
    np.testing.assert_array_equal(mask, [[True, False, True], [False, False, True]])


@pytest.mark.parametrize("type_name", ["global_avg_pool1d", "global_max_pool1d"])
def test_model_spec_validates_and_normalizes(type_name: str) -> None:
    spec = {"input_shape": [6, 3], "layers": [{"type": type_name}, {"type": "dense", "units": 2}]}
    model = mnn.build_model(spec)
    assert model.output_shape == (2,)
    layer = model.to_spec().model_dump()["layers"][0]
    assert layer["type"] == type_name and layer["keepdims"] is False
    with pytest.raises(mnn.SpecError, match="keepdim"):
        mnn.load_spec({"input_shape": [6, 3], "layers": [{"type": type_name, "keepdim": True}]})


def masked_text_spec(pool: str) -> dict:
    return {
        "input_shape": [6],
        "dtype": "float64",
        "layers": [
            {"type": "embedding", "input_dim": 9, "output_dim": 4, "mask_zero": True},
            {"type": pool},
            {"type": "dense", "units": 2, "activation": "softmax"},
        ],
        "loss": "sparse_categorical_crossentropy",
    }


@pytest.mark.parametrize("pool", ["global_avg_pool1d", "global_max_pool1d"])
def test_in_a_model_padded_steps_change_nothing_and_gradients_check(pool: str) -> None:
    model = mnn.build_model(masked_text_spec(pool))
    tokens = np.array([[3, 1, 4, 1, 5, 8], [2, 7, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]])
    out = model.predict(tokens)
    embeddings = model.params["embedding_1/embeddings"]
    reduce = np.mean if pool == "global_avg_pool1d" else np.max
    pooled = np.array([reduce(embeddings[row[row > 0]], axis=0) for row in tokens[:2]])
    kernel, bias = model.params["dense_1/kernel"], model.params["dense_1/bias"]
    z = np.vstack([pooled, np.zeros((1, 4))]) @ kernel + bias  # all padding pools to 0
    expected = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(out, expected, rtol=1e-10)
    results = check_model_gradients(model, tokens, np.array([0, 1, 1]))
    assert_gradients_close(results, tol=1e-5)


def test_a_masked_sequence_into_conv1d_is_refused_at_validation() -> None:
    spec = masked_text_spec("global_avg_pool1d")
    spec["layers"].insert(1, {"type": "conv1d", "filters": 2, "kernel_size": 2})
    with pytest.raises(mnn.SpecError, match=r"conv1d.*does not support masking"):
        mnn.load_spec(spec)
