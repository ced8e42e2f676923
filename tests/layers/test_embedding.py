"""Embedding: table gradient (repeated ids), integer inputs through a model, errors."""

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.layers.embedding import Embedding
from modular_nn.testing import assert_gradients_close, check_layer_gradients


@pytest.mark.parametrize("training", [True, False])
def test_gradients_with_repeated_ids(training: bool) -> None:
    ids = np.array([[0, 3, 3, 1], [3, 0, 5, 5]])  # id 2 and 4 unused: zero gradient rows
    layer = Embedding(input_dim=6, output_dim=3)
    results = check_layer_gradients(layer, (4,), x=ids, training=training)
    assert set(results) == {"embeddings"}
    assert_gradients_close(results)
    assert not layer.grads["embeddings"][[2, 4]].any()


def test_gradient_sums_rows_per_id() -> None:
    layer = Embedding(input_dim=4, output_dim=2)
    layer.build((3,), np.random.default_rng(0), np.float32)
    ids = np.array([[1, 1, 2], [1, 0, 2]])
    y = layer.forward(ids, True)
    assert y.shape == (2, 3, 2) and y.dtype == np.float32
    np.testing.assert_array_equal(y, layer.params["embeddings"][ids])
    g = np.arange(12, dtype=np.float32).reshape(2, 3, 2)
    assert layer.backward(g) is None  # integer inputs have no gradient
    expected = np.zeros((4, 2), np.float32)
    np.add.at(expected, ids, g)
    np.testing.assert_array_equal(layer.grads["embeddings"], expected)


def test_model_keeps_integer_ids_and_trains() -> None:
    spec = {
        "input_shape": [5],
        "seed": 3,
        "layers": [
            {"type": "embedding", "input_dim": 10, "output_dim": 4},
            {"type": "flatten"},
            {"type": "dense", "units": 2, "activation": "softmax"},
        ],
        "loss": "sparse_categorical_crossentropy",
        "optimizer": {"type": "adam", "learning_rate": 0.05},
    }
    model = mnn.build_model(spec)
    assert model.get_layer("embedding_1").params["embeddings"].shape == (10, 4)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 10, (64, 5))
    y = (x[:, 0] >= 5).astype(int)  # the label is in the first id
    history = model.fit(x, y, epochs=30, batch_size=16, verbose=0)
    assert history.history["accuracy"][-1] > 0.95


def test_out_of_range_and_fractional_ids_are_data_errors() -> None:
    layer = Embedding(input_dim=3, output_dim=2)
    layer.build((2,), np.random.default_rng(0), np.float32)
    with pytest.raises(mnn.DataError, match=r"ids must be in \[0, 3\)"):
        layer.forward(np.array([[0, 3]]))
    with pytest.raises(mnn.DataError, match=r"ids must be in \[0, 3\)"):
        layer.forward(np.array([[-1, 0]]))
    with pytest.raises(mnn.DataError, match="whole numbers"):
        layer.forward(np.array([[0.5, 1.0]]))
    np.testing.assert_array_equal(layer.forward(np.array([[2.0, 1.0]])), layer.forward([[2, 1]]))


def test_mask_zero_marks_the_padding_id() -> None:
    layer = Embedding(input_dim=5, output_dim=2, mask_zero=True)
    assert layer.produces_mask((4,), False)
    layer.build((4,), np.random.default_rng(0), np.float32)
    ids = np.array([[3, 1, 0, 0], [2, 4, 4, 0]])
    out = layer.forward(ids)
    np.testing.assert_array_equal(out, layer.params["embeddings"][ids])  # ids work as before
    mask = layer.compute_mask(ids, None)
    assert mask.dtype == bool and mask.shape == (2, 4)
    np.testing.assert_array_equal(mask, [[True, True, False, False], [True, True, True, False]])
    np.testing.assert_array_equal(layer.compute_mask(ids.astype(np.float32), None), mask)


def test_without_mask_zero_there_is_no_mask() -> None:
    layer = Embedding(input_dim=5, output_dim=2)
    assert layer.get_config()["mask_zero"] is False
    assert not layer.produces_mask((4,), False)
    assert layer.compute_mask(np.array([[0, 1]]), None) is None


def test_mask_zero_keeps_the_gradient_of_every_id() -> None:
    ids = np.array([[0, 3, 3, 1], [3, 0, 0, 2]])
    layer = Embedding(input_dim=4, output_dim=3, mask_zero=True)
    results = check_layer_gradients(layer, (4,), x=ids)
    assert set(results) == {"embeddings"}
    assert_gradients_close(results)
    assert layer.grads["embeddings"][0].any()  # the mask is for the layers after: lookups unchanged
