"""What every merge layer shares (``modular_nn/layers/merge.py``): float64 gradient checks of
every input, shape and count errors naming every received shape, dtypes, the empty batch,
inputs left alone and gradients that never share memory."""

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.errors import ShapeError
from modular_nn.layers.add import Add
from modular_nn.layers.average import Average
from modular_nn.layers.concatenate import Concatenate
from modular_nn.layers.maximum import Maximum
from modular_nn.layers.merge import Merge, separate_copies, shapes_text
from modular_nn.layers.minimum import Minimum
from modular_nn.layers.multiply import Multiply
from modular_nn.layers.subtract import Subtract
from modular_nn.testing import assert_gradients_close, check_layer_gradients

MERGES = [Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate]
ELEMENTWISE = [Add, Subtract, Multiply, Average, Maximum, Minimum]
ids = [cls.type_name for cls in MERGES]


def counts(cls: type[Merge]) -> list[int]:
    """Input counts to try: 2, and 3 where the layer takes more than 2."""
    return [2] if cls.input_count == (2, 2) else [2, 3]


def arrays(shapes, dtype=np.float64, batch=4, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((batch, *shape)).astype(dtype) for shape in shapes]


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(4,), (2, 3)])
@pytest.mark.parametrize("cls", MERGES, ids=ids)
def test_gradients_of_every_input(cls: type[Merge], shape, training: bool) -> None:
    for count in counts(cls):
        results = check_layer_gradients(cls(), [shape] * count, training=training)
        assert set(results) == {f"input[{i}]" for i in range(count)}
        assert_gradients_close(results)


@pytest.mark.parametrize("cls", MERGES, ids=ids)
def test_they_take_lists_of_two_or_more_inputs(cls: type[Merge]) -> None:
    assert cls.takes_several_inputs()
    assert cls.input_count == ((2, 2) if cls is Subtract else (2, None))
    assert mnn.get_registry().get("layers", cls.type_name).cls is cls


@pytest.mark.parametrize("cls", ELEMENTWISE, ids=[c.type_name for c in ELEMENTWISE])
def test_inputs_of_different_shapes_are_refused_naming_every_shape(cls: type[Merge]) -> None:
    name = cls.type_name
    with pytest.raises(ShapeError) as info:
        cls().compute_output_shape([(4,), (5,)])
    assert str(info.value) == f"{name} expects inputs of the same shape, received (4,) and (5,)"
    if cls is not Subtract:
        with pytest.raises(ShapeError, match=r"received \(2, 3\), \(2, 3\) and \(3, 2\)$"):
            cls().compute_output_shape([(2, 3), (2, 3), (3, 2)])
    with pytest.raises(ShapeError, match=r"received \(4,\) and \(1, 4\)"):  # no broadcasting
        cls().compute_output_shape([(4,), (1, 4)])


@pytest.mark.parametrize("cls", MERGES, ids=ids)
def test_too_few_inputs_or_a_single_shape_is_a_shape_error(cls: type[Merge]) -> None:
    name = cls.type_name
    wanted = "exactly 2" if cls is Subtract else "at least 2"
    with pytest.raises(ShapeError, match=rf"^{name} expects {wanted} inputs, received 1: \(4,\)$"):
        cls().compute_output_shape([(4,)])
    with pytest.raises(ShapeError, match=rf"^{name} expects a list of input shapes, one per input"):
        cls().compute_output_shape((4,))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cls", MERGES, ids=ids)
def test_dtype_is_kept(cls: type[Merge], dtype) -> None:
    shapes = [(3, 2)] * counts(cls)[-1]
    layer = cls()
    layer.build(shapes, np.random.default_rng(0), dtype)
    out = layer.forward(arrays(shapes, dtype), True)
    grads = layer.backward(np.ones_like(out))
    assert out.dtype == dtype
    assert [g.dtype for g in grads] == [np.dtype(dtype)] * len(shapes)


@pytest.mark.parametrize("cls", MERGES, ids=ids)
def test_an_empty_batch_gives_an_empty_output_and_empty_gradients(cls: type[Merge]) -> None:
    shapes = [(3, 2)] * counts(cls)[-1]
    layer = cls()
    output_shape = layer.build(shapes, np.random.default_rng(0), np.float32)
    out = layer.forward(arrays(shapes, np.float32, batch=0), False)
    assert out.shape == (0, *output_shape)
    assert [g.shape for g in layer.backward(out)] == [(0, *s) for s in shapes]


@pytest.mark.parametrize("cls", MERGES, ids=ids)
def test_inputs_are_left_alone_and_gradients_share_no_memory(cls: type[Merge]) -> None:
    shapes = [(5,)] * counts(cls)[-1]
    layer = cls()
    layer.build(shapes, np.random.default_rng(0), np.float64)
    xs = arrays(shapes)
    kept = [x.copy() for x in xs]
    out = layer.forward(xs, True)
    grad_out = np.ones_like(out)
    grads = layer.backward(grad_out)
    for x, before in zip(xs, kept):
        np.testing.assert_array_equal(x, before)
    np.testing.assert_array_equal(grad_out, 1.0)
    assert len(grads) == len(shapes)
    for i in range(len(grads)):
        for j in range(i + 1, len(grads)):
            assert not np.shares_memory(grads[i], grads[j]), (i, j)


def test_separate_copies_and_shapes_text() -> None:
    grad = np.arange(3.0)
    first, second, third = separate_copies(grad, 3)
    assert first is grad and not np.shares_memory(second, grad) and second is not third
    np.testing.assert_array_equal(third, grad)
    assert shapes_text([(4,)]) == "(4,)"
    assert shapes_text([(4,), (5,)]) == "(4,) and (5,)"
    assert shapes_text([(1, 2), (3,), (4,)]) == "(1, 2), (3,) and (4,)"
