"""Concatenate: inputs joined along an axis counted as Keras does (the batch axis is 0)."""

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.errors import ShapeError
from modular_nn.layers.concatenate import Concatenate
from modular_nn.testing import assert_gradients_close, check_layer_gradients

IMAGES = [(4, 5, 2), (4, 5, 3)]


def test_last_axis_by_default() -> None:
    layer = Concatenate()
    assert layer.get_config() == {"axis": -1}
    assert layer.build([(2,), (3,)], np.random.default_rng(0), np.float32) == (5,)
    a = np.ones((2, 2), dtype=np.float32)
    b = np.zeros((2, 3), dtype=np.float32)
    out = layer.forward([a, b])
    np.testing.assert_array_equal(out, [[1, 1, 0, 0, 0]] * 2)
    grad_a, grad_b = layer.backward(np.arange(10, dtype=np.float32).reshape(2, 5))
    np.testing.assert_array_equal(grad_a, [[0, 1], [5, 6]])
    np.testing.assert_array_equal(grad_b, [[2, 3, 4], [7, 8, 9]])
    assert grad_a.dtype == np.float32 and grad_a.flags.c_contiguous


@pytest.mark.parametrize(
    ("axis", "shapes", "expected"),
    [
        (-1, IMAGES, (4, 5, 5)),
        (3, IMAGES, (4, 5, 5)),
        (1, [(4, 5, 2), (1, 5, 2)], (5, 5, 2)),  # image rows
        (2, [(4, 5, 2), (4, 2, 2), (4, 1, 2)], (4, 8, 2)),  # image columns
        (-2, [(4, 5, 2), (4, 2, 2)], (4, 7, 2)),
        (-3, [(4, 5, 2), (3, 5, 2)], (7, 5, 2)),
    ],
)
def test_gradients_on_the_last_and_on_inner_axes_of_images(axis, shapes, expected) -> None:
    layer = Concatenate(axis=axis)
    assert layer.compute_output_shape(shapes) == expected
    results = check_layer_gradients(layer, shapes)
    assert set(results) == {f"input[{i}]" for i in range(len(shapes))}
    assert_gradients_close(results)


def test_an_inner_axis_places_each_input_where_it_belongs() -> None:
    layer = Concatenate(axis=2)
    layer.build([(2, 1, 1), (2, 2, 1)], np.random.default_rng(0), np.float64)
    a = np.zeros((1, 2, 1, 1))
    b = np.ones((1, 2, 2, 1))
    out = layer.forward([a, b])
    np.testing.assert_array_equal(out[0, :, :, 0], [[0, 1, 1], [0, 1, 1]])
    grad_a, grad_b = layer.backward(out + 1)
    np.testing.assert_array_equal(grad_a, a + 1)
    np.testing.assert_array_equal(grad_b, b + 1)


def test_the_batch_axis_is_refused() -> None:
    with pytest.raises(mnn.SpecError, match="axis: expected an axis other than 0, the batch"):
        Concatenate(axis=0)
    with pytest.raises(ShapeError, match=r"axis -4 is the batch axis for inputs of shape"):
        Concatenate(axis=-4).compute_output_shape(IMAGES)
    with pytest.raises(ShapeError, match=r"axis 4 is out of range .* from 1 to 3 or from -3 to -1"):
        Concatenate(axis=4).compute_output_shape(IMAGES)


def test_shapes_must_agree_except_along_the_axis() -> None:
    with pytest.raises(ShapeError) as info:
        Concatenate().compute_output_shape([(4, 5, 2), (4, 6, 3), (4, 5, 1)])
    assert str(info.value) == (
        "concatenate expects inputs of the same shape except along axis -1, "
        "received (4, 5, 2), (4, 6, 3) and (4, 5, 1)"
    )
    with pytest.raises(ShapeError, match=r"received \(4, 5\) and \(4, 5, 1\)"):
        Concatenate(axis=1).compute_output_shape([(4, 5), (4, 5, 1)])
    with pytest.raises(ShapeError, match="an axis to join along"):
        Concatenate().compute_output_shape([(), ()])


def test_gradients_are_copies_not_views_of_the_incoming_gradient() -> None:
    layer = Concatenate(axis=1)
    layer.build([(2,), (2,)], np.random.default_rng(0), np.float64)
    out = layer.forward([np.ones((1, 2)), np.ones((1, 2))])
    grad_out = np.ones_like(out)
    for grad in layer.backward(grad_out):
        assert not np.shares_memory(grad, grad_out)
