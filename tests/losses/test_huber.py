"""Huber: both regimes, gradient, PyTorch's HuberLoss."""

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.testing import assert_gradients_close, check_loss_gradient

rng = np.random.default_rng(0)
Y_TRUE = rng.standard_normal((8, 3))
Y_PRED = Y_TRUE + rng.standard_normal((8, 3)) * 2  # errors on both sides of delta


def make(**options: object) -> mnn.Loss:
    return mnn.get_registry().create("losses", {"type": "huber", **options})


@pytest.mark.parametrize("delta", [1.0, 0.3, 2.5])
def test_gradient_and_pytorch_value(delta: float) -> None:
    loss = make(delta=delta)
    assert_gradients_close(check_loss_gradient(loss, Y_PRED, Y_TRUE))
    torch = pytest.importorskip("torch")
    pred = torch.tensor(Y_PRED, requires_grad=True)
    expected = torch.nn.functional.huber_loss(pred, torch.tensor(Y_TRUE), delta=delta)
    expected.backward()
    assert loss.forward(Y_PRED, Y_TRUE) == pytest.approx(expected.item(), abs=1e-12)
    np.testing.assert_allclose(loss.backward(), pred.grad.numpy(), atol=1e-12)


def test_regimes() -> None:
    loss = make()
    assert make().get_config() == {"delta": 1.0}
    assert loss.forward(np.array([[0.5]]), np.array([[0.0]])) == pytest.approx(0.125)
    assert loss.forward(np.array([[3.0]]), np.array([[0.0]])) == pytest.approx(2.5)
    np.testing.assert_allclose(loss.backward(), [[1.0]])
    with pytest.raises(mnn.SpecError, match="delta"):
        make(delta=0)
