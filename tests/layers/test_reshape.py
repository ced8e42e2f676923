"""Reshape: gradients, -1 inference, element counts checked when the spec is validated."""

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.layers.reshape import Reshape
from modular_nn.testing import assert_gradients_close, check_layer_gradients


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("target", [[3, 4], [-1, 2], [2, 3, 2], [12]])
def test_gradients(training: bool, target: list[int]) -> None:
    layer = Reshape(target_shape=target)
    assert_gradients_close(check_layer_gradients(layer, (4, 3), training=training))


@pytest.mark.parametrize(
    "input_shape,target,expected",
    [((12,), [3, 4], (3, 4)), ((12,), [-1, 6], (2, 6)), ((2, 3, 4), [4, -1], (4, 6))],
)
def test_inferred_shape_is_the_forward_shape(input_shape, target, expected) -> None:
    layer = Reshape(target_shape=target)
    assert layer.compute_output_shape(input_shape) == expected
    layer.build(input_shape, np.random.default_rng(0), np.float32)
    x = np.arange(2 * np.prod(input_shape), dtype=np.float32).reshape(2, *input_shape)
    y = layer.forward(x, True)
    np.testing.assert_array_equal(y, x.reshape(2, *expected))
    assert layer.backward(y).shape == x.shape


@pytest.mark.parametrize("target", [[5], [5, -1], [4, 4]])
def test_element_count_mismatch_fails_at_validation(target: list[int]) -> None:
    spec = {"input_shape": [12], "layers": [{"type": "reshape", "target_shape": target}]}
    with pytest.raises(mnn.SpecError, match=r"layers\[0\].*reshape"):
        mnn.load_spec(spec)


@pytest.mark.parametrize("target", [[-1, -1], [0, 12], [3, -2], []])
def test_bad_target_shapes_are_spec_errors(target: list[int]) -> None:
    with pytest.raises(mnn.SpecError, match="target_shape"):
        Reshape(target_shape=target)
