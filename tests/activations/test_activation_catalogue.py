"""The catalogue's activations together: gradients, stability, dtypes, PyTorch parity."""

import warnings

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.testing import assert_gradients_close, check_activation_gradient

# (options, the same function in torch.nn.functional given as (name, kwargs))
CASES = {
    "leaky_relu": ({}, ("leaky_relu", {"negative_slope": 0.2})),
    "leaky_relu-0.01": ({"negative_slope": 0.01}, ("leaky_relu", {"negative_slope": 0.01})),
    "elu": ({}, ("elu", {"alpha": 1.0})),
    "elu-0.5": ({"alpha": 0.5}, ("elu", {"alpha": 0.5})),
    "gelu": ({}, ("gelu", {"approximate": "none"})),
    "gelu-tanh": ({"approximate": True}, ("gelu", {"approximate": "tanh"})),
    "silu": ({}, ("silu", {})),
    "softplus": ({}, ("softplus", {})),
}


# every activation, the seed notebook's included, must be stable for huge inputs
STABILITY_CASES = [*CASES, "linear", "sigmoid", "relu", "tanh", "softmax"]


def make(case: str) -> mnn.Activation:
    options = CASES[case][0] if case in CASES else {}
    return mnn.get_registry().create("activations", {"type": case.split("-")[0], **options})


@pytest.mark.parametrize("case", CASES)
def test_gradient_matches_finite_differences(case: str) -> None:
    assert_gradients_close(check_activation_gradient(make(case), (6, 9)))


@pytest.mark.parametrize("case", STABILITY_CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stable_for_huge_inputs_and_keeps_dtype(case: str, dtype: type) -> None:
    x = np.array([[-1e4, -50.0, -1e-3, 0.0, 1e-3, 50.0, 1e4]], dtype=dtype)
    act = make(case)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = act.forward(x)
        g = act.backward(np.ones_like(x))
    assert y.dtype == dtype and g.dtype == dtype
    assert np.isfinite(y).all() and np.isfinite(g).all()


@pytest.mark.parametrize("case", CASES)
def test_matches_pytorch(case: str) -> None:
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((4, 50)) * 4
    g = np.random.default_rng(1).standard_normal(x.shape)
    act = make(case)
    y = act.forward(x)
    dx = act.backward(g)
    name, kwargs = CASES[case][1]
    xt = torch.tensor(x, requires_grad=True)
    yt = getattr(torch.nn.functional, name)(xt, **kwargs)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(y, yt.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), atol=1e-12)
