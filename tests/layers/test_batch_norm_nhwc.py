"""BatchNorm on 4-D NHWC inputs: per-channel statistics, gradients, PyTorch parity."""

import numpy as np
import pytest

from modular_nn.layers.batch_norm import BatchNorm
from modular_nn.testing import assert_gradients_close, check_layer_gradients


@pytest.mark.parametrize("training", [True, False])
def test_gradients_on_images(training: bool) -> None:
    layer = BatchNorm()
    layer.build((4, 5, 3), np.random.default_rng(0), np.float64)
    rng = np.random.default_rng(1)
    layer.params["gamma"][...] = rng.normal(1, 0.5, 3)
    layer.buffers["moving_mean"][...] = rng.normal(0, 1, 3)
    layer.buffers["moving_variance"][...] = rng.uniform(0.5, 2, 3)
    assert_gradients_close(check_layer_gradients(layer, (4, 5, 3), batch=3, training=training))


def test_matches_pytorch_batchnorm2d_in_both_modes() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    layer = BatchNorm(momentum=0.1, epsilon=1e-5)
    layer.build((5, 6, 4), rng, np.float32)
    bn = torch.nn.BatchNorm2d(4, eps=1e-5, momentum=0.1)
    gamma, beta = rng.normal(1, 0.3, 4), rng.normal(0, 0.3, 4)
    layer.params["gamma"][...], layer.params["beta"][...] = gamma, beta
    with torch.no_grad():
        bn.weight.copy_(torch.tensor(gamma))
        bn.bias.copy_(torch.tensor(beta))

    def compare(x: np.ndarray, training: bool) -> None:
        g = rng.standard_normal(x.shape).astype(np.float32)
        y = layer.forward(x, training)
        dx = layer.backward(g)
        bn.train(training)
        bn.zero_grad()
        xt = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
        yt = bn(xt)
        yt.backward(torch.tensor(g.transpose(0, 3, 1, 2)))
        np.testing.assert_allclose(y, yt.detach().numpy().transpose(0, 2, 3, 1), atol=1e-5)
        np.testing.assert_allclose(dx, xt.grad.numpy().transpose(0, 2, 3, 1), atol=1e-5)
        for name, param in (("gamma", bn.weight), ("beta", bn.bias)):
            np.testing.assert_allclose(layer.grads[name], param.grad.numpy(), rtol=1e-5, atol=1e-5)

    for _ in range(3):  # the running statistics follow the same path
        compare((rng.normal(2, 3, (8, 5, 6, 4)) * [1, 2, 0.5, 4]).astype(np.float32), True)
    np.testing.assert_allclose(layer.buffers["moving_mean"], bn.running_mean.numpy(), atol=1e-5)
    # PyTorch's running variance uses the unbiased batch variance (n / (n - 1)), ours the
    # biased one, as the seed notebook: evaluate both with the same running statistics
    with torch.no_grad():
        bn.running_var.copy_(torch.tensor(layer.buffers["moving_variance"]))
    compare(rng.normal(1, 2, (3, 5, 6, 4)).astype(np.float32), False)
