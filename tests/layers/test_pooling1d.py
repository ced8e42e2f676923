"""What max_pool1d and avg_pool1d share: gradients in both modes, shapes, options, dtype."""

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.layers.avg_pool1d import AvgPool1D
from modular_nn.layers.max_pool1d import MaxPool1D
from modular_nn.testing import assert_gradients_close, check_layer_gradients

POOLS = [
    # pool_size, strides, padding: tiled (strides = pool size) and overlapping windows
    (2, None, "valid"),
    (2, None, "same"),
    (3, None, "valid"),
    (3, None, "same"),
    (3, 1, "same"),
    (3, 2, "valid"),
    (2, 1, "valid"),
    (4, 3, "same"),
    (2, 3, "valid"),
]
LAYERS = [MaxPool1D, AvgPool1D]


@pytest.mark.parametrize("cls", LAYERS)
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("pool_size,strides,padding", POOLS)
def test_gradients(cls, training, pool_size, strides, padding) -> None:
    layer = cls(pool_size=pool_size, strides=strides, padding=padding)
    assert_gradients_close(check_layer_gradients(layer, (10, 3), batch=2, training=training))


@pytest.mark.parametrize("cls", LAYERS)
@pytest.mark.parametrize("pool_size,strides,padding", POOLS)
@pytest.mark.parametrize("steps", [8, 9, 3])
def test_inferred_shape_is_the_forward_shape(cls, pool_size, strides, padding, steps) -> None:
    layer = cls(pool_size=pool_size, strides=strides, padding=padding)
    try:
        inferred = layer.compute_output_shape((steps, 3))
    except mnn.ShapeError as exc:
        assert padding == "valid" and pool_size > steps
        assert "along the time" in str(exc) and "at least as large as the window" in str(exc)
        return
    assert layer.build((steps, 3), np.random.default_rng(0), np.float32) == inferred
    x = np.random.default_rng(1).standard_normal((2, steps, 3)).astype(np.float32)
    y = layer.forward(x, True)
    assert y.shape == (2, *inferred) and y.dtype == np.float32
    assert layer.forward(x, False).shape == (2, *inferred)
    dx = layer.backward(np.ones_like(y))
    assert dx.shape == x.shape and dx.dtype == np.float32
    s = pool_size if strides is None else strides
    expected = (steps - pool_size) // s + 1 if padding == "valid" else -(-steps // s)
    assert inferred == (expected, 3)


@pytest.mark.parametrize("cls", LAYERS)
def test_defaults_and_validation(cls) -> None:
    assert cls().get_config() == {"pool_size": 2, "strides": None, "padding": "valid"}
    assert cls(pool_size=[3], strides=[2]).get_config()["pool_size"] == 3
    with pytest.raises(mnn.SpecError, match="pool_size"):
        cls(pool_size=0)
    with pytest.raises(mnn.SpecError, match="padding"):
        cls(padding="causal")
    spec = {"input_shape": [3, 8], "layers": [{"type": cls.type_name, "pool_size": 4}]}
    with pytest.raises(mnn.SpecError, match=r"layers\[0\].*spans 4 along the time"):
        mnn.load_spec(spec)
    spec = {"input_shape": [3, 8, 1], "layers": [{"type": cls.type_name}]}
    with pytest.raises(mnn.SpecError, match=r"\(time, features\), received input shape"):
        mnn.load_spec(spec)


@pytest.mark.parametrize("cls", LAYERS)
def test_empty_batch(cls) -> None:
    layer = cls(pool_size=3, strides=1, padding="same")
    layer.build((5, 2), np.random.default_rng(0), np.float32)
    y = layer.forward(np.zeros((0, 5, 2), np.float32), True)
    assert y.shape == (0, 5, 2) and y.dtype == np.float32
    assert layer.backward(y).shape == (0, 5, 2)
