"""The Optimizer base: gradient clipping by global norm before the update."""

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.registry import get_registry


def bound_sgd(**options: object) -> tuple:
    opt = get_registry().create("optimizers", {"type": "sgd", "learning_rate": 1.0, **options})
    params = {"a": np.zeros(2, np.float32), "b": np.zeros((1, 2), np.float32)}
    grads = {"a": np.array([3.0, 0.0], np.float32), "b": np.array([[0.0, 4.0]], np.float32)}
    opt.bind(params, grads)
    return opt, params, grads


def test_global_clipnorm_rescales_all_gradients_to_the_norm() -> None:
    opt, params, grads = bound_sgd(global_clipnorm=1.0)  # global norm 5
    opt.step()
    np.testing.assert_allclose(params["a"], [-0.6, 0.0], rtol=1e-6)
    np.testing.assert_allclose(params["b"], [[0.0, -0.8]], rtol=1e-6)
    assert params["a"].dtype == np.float32
    norm = np.sqrt(sum(float((g**2).sum()) for g in grads.values()))
    assert norm == pytest.approx(1.0, rel=1e-6)


def test_gradients_within_the_norm_are_untouched() -> None:
    opt, params, _ = bound_sgd(global_clipnorm=10.0)
    opt.step()
    np.testing.assert_allclose(params["a"], [-3.0, 0.0])
    unclipped, params, _ = bound_sgd()
    unclipped.step()
    np.testing.assert_allclose(params["b"], [[0.0, -4.0]])


def test_clipping_keeps_a_large_learning_rate_finite() -> None:
    spec = {
        "input_shape": [2],
        "seed": 0,
        "layers": [
            {"type": "dense", "units": 5, "activation": "tanh"},
            {"type": "dense", "units": 1},
        ],
        "loss": "mse",
    }
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]]) * 10
    y = np.array([[0], [1], [1], [0]]) * 100
    clipped = mnn.build_model(
        {**spec, "optimizer": {"type": "sgd", "learning_rate": 10, "global_clipnorm": 0.1}}
    )
    clipped.fit(x, y, epochs=50, verbose=0)
    assert all(np.isfinite(p).all() for p in clipped.params.values())
    with pytest.raises(mnn.SpecError, match="global_clipnorm"):
        mnn.load_spec({**spec, "optimizer": {"type": "adam", "global_clipnorm": 0}})
