"""Softmax along an axis other than the last: values, gradients, PyTorch parity."""

import numpy as np
import pytest

from modular_nn.activations.softmax import Softmax
from modular_nn.testing import assert_gradients_close, check_activation_gradient


@pytest.mark.parametrize("axis", [1, -2, 2])
def test_gradients_along_any_axis(axis: int) -> None:
    assert_gradients_close(check_activation_gradient(Softmax(axis=axis), (3, 4, 5)))


@pytest.mark.parametrize("axis", [1, -2])
def test_sums_to_one_along_the_axis_and_matches_pytorch(axis: int) -> None:
    x = np.random.default_rng(0).standard_normal((3, 4, 5)) * 3
    y = Softmax(axis=axis)(x)
    np.testing.assert_allclose(y.sum(axis=axis), 1.0)
    torch = pytest.importorskip("torch")
    np.testing.assert_allclose(y, torch.softmax(torch.tensor(x), dim=axis).numpy(), atol=1e-12)
