"""Positional embedding: learned rows added per step, gradients, max_length, masks."""

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.errors import ShapeError
from modular_nn.layers.positional_embedding import PositionalEmbedding
from modular_nn.testing import assert_gradients_close, check_layer_gradients


@pytest.mark.parametrize("steps", [3, 6])
def test_gradients_of_the_input_and_the_rows_used(steps: int) -> None:
    layer = PositionalEmbedding(max_length=6)
    results = check_layer_gradients(layer, (steps, 4))
    assert set(results) == {"input", "embeddings"}
    assert_gradients_close(results)
    assert not layer.grads["embeddings"][steps:].any()  # rows past the sequence: no gradient


def test_adds_the_first_rows_and_keeps_float32() -> None:
    layer = PositionalEmbedding(max_length=5)
    assert layer.get_config() == {
        "max_length": 5,
        "embeddings_initializer": {"type": "glorot_uniform"},
    }
    assert layer.build((3, 2), np.random.default_rng(0), np.float32) == (3, 2)
    assert layer.params["embeddings"].shape == (5, 2)
    x = np.arange(12, dtype=np.float32).reshape(2, 3, 2)
    y = layer.forward(x, True)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, x + layer.params["embeddings"][:3])
    g = np.ones_like(y)
    np.testing.assert_array_equal(layer.backward(g), g)
    np.testing.assert_array_equal(layer.grads["embeddings"], [[2, 2]] * 3 + [[0, 0]] * 2)


def test_longer_than_max_length_is_a_shape_error() -> None:
    layer = PositionalEmbedding(max_length=4)
    assert layer.compute_output_shape((4, 3)) == (4, 3)
    with pytest.raises(
        ShapeError, match=r"at most max_length=4 steps, received input shape \(5, 3\)"
    ):
        layer.compute_output_shape((5, 3))
    with pytest.raises(ShapeError, match=r"per-sample rank 2.*\(5,\)"):
        layer.compute_output_shape((5,))
    spec = {
        "input_shape": [5, 3],
        "layers": [{"type": "positional_embedding", "max_length": 4}],
    }
    with pytest.raises(mnn.SpecError, match="max_length=4"):
        mnn.load_spec(spec)


def test_max_length_is_required_and_positive() -> None:
    for options in ({}, {"max_length": 0}):
        spec = {"input_shape": [5, 3], "layers": [{"type": "positional_embedding", **options}]}
        with pytest.raises(mnn.SpecError, match="max_length"):
            mnn.load_spec(spec)


def test_the_mask_passes_through() -> None:
    layer = PositionalEmbedding(max_length=4)
    assert layer.supports_masking
    assert layer.produces_mask((3, 2), True) and not layer.produces_mask((3, 2), False)
    mask = np.array([[True, False, False]])
    assert layer.compute_mask(np.zeros((1, 3, 2)), mask) is mask
