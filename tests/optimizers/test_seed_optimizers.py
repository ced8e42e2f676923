"""SGD and Adam: the update rules, state keyed by parameter name, validation."""

import numpy as np
import pytest

import modular_nn as mnn


def make(name: str, **options: object) -> mnn.Optimizer:
    return mnn.get_registry().create("optimizers", {"type": name, **options})


def run(optimizer: mnn.Optimizer, grads: list[np.ndarray], p0: np.ndarray) -> np.ndarray:
    param, grad = p0.copy(), np.zeros_like(p0)
    optimizer.bind({"w": param}, {"w": grad})
    for g in grads:
        grad[...] = g
        optimizer.step()
    return param


rng = np.random.default_rng(0)
P0 = rng.standard_normal(5)
GRADS = [rng.standard_normal(5) for _ in range(4)]


def test_plain_sgd() -> None:
    expected = P0 - 0.1 * sum(GRADS)
    np.testing.assert_allclose(run(make("sgd", learning_rate=0.1), GRADS, P0), expected)


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_momentum_and_weight_decay(nesterov: bool) -> None:
    p, v = P0.copy(), np.zeros(5)
    for g in GRADS:
        g = g + 0.01 * p
        v = 0.9 * v + g
        p = p - 0.1 * (g + 0.9 * v if nesterov else v)
    opt = make("sgd", learning_rate=0.1, momentum=0.9, nesterov=nesterov, weight_decay=0.01)
    np.testing.assert_allclose(run(opt, GRADS, P0), p)
    assert set(opt.state_dict()["slots"]["w"]) == {"velocity"}


def test_adam() -> None:
    p, m, v = P0.copy(), np.zeros(5), np.zeros(5)
    for t, g in enumerate(GRADS, start=1):
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        p = p - 0.01 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-7)
    opt = make("adam", learning_rate=0.01)
    np.testing.assert_allclose(run(opt, GRADS, P0), p, rtol=1e-12)
    state = opt.state_dict()
    assert state["iterations"] == 4 and set(state["slots"]["w"]) == {"m", "v"}


def test_state_round_trip_continues_identically() -> None:
    a = make("adam")
    first = run(a, GRADS[:2], P0)
    b = make("adam")
    param, grad = first.copy(), np.zeros(5)
    b.bind({"w": param}, {"w": grad})
    b.load_state_dict(a.state_dict())
    for g in GRADS[2:]:
        grad[...] = g
        b.step()
    np.testing.assert_array_equal(param, run(make("adam"), GRADS, P0))


def test_keeps_float32() -> None:
    p0 = P0.astype(np.float32)
    out = run(make("adam"), [g.astype(np.float32) for g in GRADS], p0)
    assert out.dtype == np.float32


def test_invalid_options() -> None:
    with pytest.raises(mnn.SpecError, match="learning_rate"):
        make("sgd", learning_rate=-1)
    with pytest.raises(mnn.SpecError, match="beta_1"):
        make("adam", beta_1=1.5)
