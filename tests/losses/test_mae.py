"""Mean absolute error: value, gradient, PyTorch's L1Loss."""

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.testing import assert_gradients_close, check_loss_gradient

rng = np.random.default_rng(0)
Y_PRED, Y_TRUE = rng.standard_normal((6, 3)), rng.standard_normal((6, 3))


def test_gradient_and_value() -> None:
    loss = mnn.get_registry().create("losses", "mae")
    assert_gradients_close(check_loss_gradient(loss, Y_PRED, Y_TRUE))
    assert loss.forward(Y_PRED, Y_TRUE) == pytest.approx(np.abs(Y_PRED - Y_TRUE).mean())
    torch = pytest.importorskip("torch")
    expected = torch.nn.functional.l1_loss(torch.tensor(Y_PRED), torch.tensor(Y_TRUE))
    assert loss.forward(Y_PRED, Y_TRUE) == pytest.approx(expected.item(), abs=1e-12)


def test_keeps_float32() -> None:
    loss = mnn.get_registry().create("losses", "mae")
    loss.forward(Y_PRED.astype(np.float32), Y_TRUE.astype(np.float32))
    assert loss.backward().dtype == np.float32
