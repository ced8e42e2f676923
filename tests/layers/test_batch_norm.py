"""BatchNorm: full backward, running statistics, evaluation mode, NHWC."""

import numpy as np
import pytest

from modular_nn.layers.batch_norm import BatchNorm
from modular_nn.testing import assert_gradients_close, check_layer_gradients


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(5,), (3, 3, 2)])
def test_gradients(training: bool, shape: tuple[int, ...]) -> None:
    assert_gradients_close(check_layer_gradients(BatchNorm(), shape, training=training, batch=6))


def test_training_normalizes_and_updates_running_statistics_like_the_seed() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, (64, 4))
    layer = BatchNorm()
    layer.build((4,), rng, np.float64)
    y = layer.forward(x, training=True)
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=0), 1, rtol=1e-4)
    # seed: running = (1 - momentum) * running + momentum * batch, momentum 0.1
    np.testing.assert_allclose(layer.buffers["moving_mean"], 0.1 * x.mean(axis=0))
    np.testing.assert_allclose(layer.buffers["moving_variance"], 0.9 + 0.1 * x.var(axis=0))


def test_evaluation_uses_running_statistics() -> None:
    layer = BatchNorm(epsilon=1e-5)
    layer.build((2,), np.random.default_rng(0), np.float64)
    layer.buffers["moving_mean"][...] = [1.0, -1.0]
    layer.buffers["moving_variance"][...] = [4.0, 9.0]
    y = layer.forward(np.array([[3.0, 2.0]]), training=False)
    np.testing.assert_allclose(y, [[2 / np.sqrt(4 + 1e-5), 3 / np.sqrt(9 + 1e-5)]])
    np.testing.assert_array_equal(layer.buffers["moving_mean"], [1.0, -1.0])


def test_per_channel_statistics_on_images() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (8, 5, 5, 3)) * np.array([1.0, 5.0, 10.0]) + np.array([0.0, 2.0, -4.0])
    layer = BatchNorm()
    layer.build((5, 5, 3), rng, np.float64)
    y = layer.forward(x, training=True)
    np.testing.assert_allclose(y.mean(axis=(0, 1, 2)), 0, atol=1e-12)
    assert layer.params["gamma"].shape == (3,)


def test_keeps_float32() -> None:
    layer = BatchNorm()
    layer.build((3,), np.random.default_rng(0), np.float32)
    x = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    y = layer.forward(x, True)
    assert y.dtype == np.float32 and layer.backward(y).dtype == np.float32
    assert layer.buffers["moving_mean"].dtype == np.float32
