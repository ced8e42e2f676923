"""rescaling: y = x * scale + offset (Keras's Rescaling)."""

from typing import Any

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.layers.rescaling import Rescaling
from modular_nn.testing import assert_gradients_close, check_layer_gradients


@pytest.mark.parametrize(
    "options",
    [{"scale": 1 / 255}, {"scale": 0.5, "offset": -1.0}, {"scale": [2.0, -3.0], "offset": [1, 0]}],
)
def test_gradients(options: dict[str, Any]) -> None:
    assert_gradients_close(check_layer_gradients(Rescaling(**options), (3, 2), batch=4))


def test_forward_and_backward() -> None:
    layer = Rescaling(scale=[2.0, -1.0], offset=0.5)
    layer.build((2,), np.random.default_rng(0), np.float64)
    x = np.array([[1.0, 2.0], [-1.0, 0.0]])
    np.testing.assert_array_equal(layer.forward(x), [[2.5, -1.5], [-1.5, 0.5]])
    np.testing.assert_array_equal(layer.backward(np.ones((2, 2))), [[2.0, -1.0], [2.0, -1.0]])


def test_pixels_to_unit_range_keep_float32() -> None:
    model = mnn.build_model(
        {"input_shape": [2, 2, 1], "layers": [{"type": "rescaling", "scale": 1 / 255}]}
    )
    y = model.predict(np.array([[[[0], [255]], [[51], [102]]]], dtype=np.uint8))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y[0, :, :, 0], [[0.0, 1.0], [0.2, 0.4]], rtol=1e-6)
    assert model.count_params() == 0 and not model.get_layer("rescaling_1").buffers


def test_passes_a_mask_on() -> None:
    assert Rescaling(scale=2.0).produces_mask((5, 3), True)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "scale: required field is missing"),
        ({"scale": [1.0, 2.0, 3.0]}, "scale has 3 values; expected 1 or 2"),
        ({"scale": 1.0, "offset": [1.0, 2.0, 3.0]}, "offset has 3 values"),
        ({"scale": "big"}, "scale"),
    ],
)
def test_spec_errors(options: dict[str, Any], message: str) -> None:
    spec = {"input_shape": [4, 2], "layers": [{"type": "rescaling", **options}]}
    with pytest.raises(mnn.SpecError, match=message):
        mnn.build_model(spec)
