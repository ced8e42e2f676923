"""What max_pool2d and avg_pool2d share: gradients in both modes and shape inference."""

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.layers.avg_pool2d import AvgPool2D
from modular_nn.layers.max_pool2d import MaxPool2D
from modular_nn.testing import assert_gradients_close, check_layer_gradients

POOLS = [
    # pool_size, strides, padding: tiled (strides = pool size) and overlapping windows
    (2, None, "valid"),
    (2, None, "same"),
    (3, None, "valid"),
    ((2, 3), None, "same"),
    (3, 1, "same"),
    (3, 2, "valid"),
    (2, 1, "valid"),
    ((3, 2), (2, 1), "same"),
    (2, 3, "valid"),
]
LAYERS = [MaxPool2D, AvgPool2D]


@pytest.mark.parametrize("cls", LAYERS)
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("pool_size,strides,padding", POOLS)
def test_gradients(cls, training, pool_size, strides, padding) -> None:
    layer = cls(pool_size=pool_size, strides=strides, padding=padding)
    assert_gradients_close(check_layer_gradients(layer, (7, 8, 2), batch=2, training=training))


@pytest.mark.parametrize("cls", LAYERS)
@pytest.mark.parametrize("pool_size,strides,padding", POOLS)
@pytest.mark.parametrize("hw", [(8, 8), (7, 9), (3, 5)])
def test_inferred_shape_is_the_forward_shape(cls, pool_size, strides, padding, hw) -> None:
    layer = cls(pool_size=pool_size, strides=strides, padding=padding)
    try:
        inferred = layer.compute_output_shape((*hw, 3))
    except mnn.ShapeError as exc:
        assert padding == "valid" and "at least as large as the window" in str(exc)
        return
    assert layer.build((*hw, 3), np.random.default_rng(0), np.float32) == inferred
    x = np.random.default_rng(1).standard_normal((2, *hw, 3)).astype(np.float32)
    y = layer.forward(x, True)
    assert y.shape == (2, *inferred) and y.dtype == np.float32
    assert layer.forward(x, False).shape == (2, *inferred)
    assert layer.backward(np.ones_like(y)).shape == x.shape


@pytest.mark.parametrize("cls", LAYERS)
def test_defaults_and_validation(cls) -> None:
    assert cls().get_config() == {"pool_size": [2, 2], "strides": None, "padding": "valid"}
    with pytest.raises(mnn.SpecError, match="pool_size"):
        cls(pool_size=0)
    spec = {"input_shape": [3, 8, 1], "layers": [{"type": cls.type_name, "pool_size": 4}]}
    with pytest.raises(mnn.SpecError, match=r"layers\[0\]"):
        mnn.load_spec(spec)
