"""Average: the mean of the inputs; each input receives 1/n of the incoming gradient."""

import numpy as np

from modular_nn.layers.average import Average


def test_mean_and_its_gradients() -> None:
    layer = Average()
    layer.build([(2,)] * 4, np.random.default_rng(0), np.float32)
    xs = [np.full((1, 2), value, dtype=np.float32) for value in (1.0, 2.0, 3.0, 6.0)]
    out = layer.forward(xs)
    np.testing.assert_array_equal(out, [[3.0, 3.0]])
    assert out.dtype == np.float32
    grads = layer.backward(np.array([[4.0, -8.0]], dtype=np.float32))
    assert len(grads) == 4
    for grad in grads:
        np.testing.assert_array_equal(grad, [[1.0, -2.0]])
        assert grad.dtype == np.float32
