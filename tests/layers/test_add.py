"""Add: the sum of the inputs; every input receives the incoming gradient."""

import numpy as np

from modular_nn.layers.add import Add


def test_sum_of_every_input_and_the_same_gradient_for_each() -> None:
    layer = Add()
    assert layer.build([(3,)] * 3, np.random.default_rng(0), np.float64) == (3,)
    a, b, c = np.ones((2, 3)), np.full((2, 3), 2.0), np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(layer.forward([a, b, c]), a + b + c)
    grad_out = np.arange(6.0).reshape(2, 3) - 2
    grads = layer.backward(grad_out)
    assert len(grads) == 3
    for grad in grads:
        np.testing.assert_array_equal(grad, grad_out)
    assert grads[1] is not grads[0] and grads[2] is not grads[1]
