"""LayerNorm: gradients, per-sample normalization, options, PyTorch parity."""

import numpy as np
import pytest

from modular_nn.layers.layer_norm import LayerNorm
from modular_nn.testing import assert_gradients_close, check_layer_gradients


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(6,), (3, 5), (2, 3, 4)])
def test_gradients(training: bool, shape: tuple[int, ...]) -> None:
    layer = LayerNorm()
    layer.build(shape, np.random.default_rng(5), np.float64)
    rng = np.random.default_rng(6)  # gamma and beta away from 1 and 0
    layer.params["gamma"][...] = rng.normal(1, 0.5, shape[-1])
    layer.params["beta"][...] = rng.normal(0, 0.5, shape[-1])
    assert_gradients_close(check_layer_gradients(layer, shape, training=training))


@pytest.mark.parametrize("center,scale", [(False, True), (True, False), (False, False)])
def test_gradients_without_gamma_or_beta(center: bool, scale: bool) -> None:
    layer = LayerNorm(center=center, scale=scale)
    results = check_layer_gradients(layer, (5,))
    assert set(results) == {"input"} | ({"beta"} if center else set()) | (
        {"gamma"} if scale else set()
    )
    assert_gradients_close(results)


def test_normalizes_each_sample_the_same_in_both_modes() -> None:
    layer = LayerNorm()
    layer.build((8,), np.random.default_rng(0), np.float32)
    x = np.random.default_rng(1).normal(3, 4, (5, 8)).astype(np.float32)
    y = layer.forward(x, True)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.mean(axis=-1), 0, atol=1e-5)
    np.testing.assert_allclose(y.var(axis=-1), 1, rtol=1e-3)
    np.testing.assert_array_equal(layer.forward(x, False), y)
    assert layer.get_config() == {"epsilon": 1e-5, "center": True, "scale": True}


def test_matches_pytorch() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    layer = LayerNorm()
    layer.build((4, 6), rng, np.float32)
    layer.params["gamma"][...] = rng.normal(1, 0.3, 6)
    layer.params["beta"][...] = rng.normal(0, 0.3, 6)
    x = rng.normal(1, 2, (3, 4, 6)).astype(np.float32)
    g = rng.standard_normal((3, 4, 6)).astype(np.float32)
    y = layer.forward(x, True)
    dx = layer.backward(g)
    ln = torch.nn.LayerNorm(6, eps=1e-5)
    with torch.no_grad():
        ln.weight.copy_(torch.tensor(layer.params["gamma"]))
        ln.bias.copy_(torch.tensor(layer.params["beta"]))
    xt = torch.tensor(x, requires_grad=True)
    yt = ln(xt)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(y, yt.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(dx, xt.grad.numpy(), atol=1e-5)
    np.testing.assert_allclose(layer.grads["gamma"], ln.weight.grad.numpy(), atol=1e-5)
    np.testing.assert_allclose(layer.grads["beta"], ln.bias.grad.numpy(), atol=1e-5)
