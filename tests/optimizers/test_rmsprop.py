"""RMSprop: defaults, the first step, slots per option."""

import numpy as np
import pytest

import modular_nn as mnn


def make(**options: object) -> mnn.Optimizer:
    return mnn.get_registry().create("optimizers", {"type": "rmsprop", **options})


def test_defaults_and_first_step() -> None:
    opt = make()
    assert opt.get_config()["learning_rate"] == 0.001 and opt.get_config()["rho"] == 0.9
    param, grad = np.array([1.0, 1.0]), np.array([0.5, -2.0])
    opt.bind({"w": param}, {"w": grad})
    opt.step()
    # s = 0.1 g^2, step = lr g / (sqrt(s) + eps) = lr sign(g) / sqrt(0.1) (eps aside)
    np.testing.assert_allclose(param, 1 - 0.001 * np.sign(grad) / np.sqrt(0.1), rtol=1e-5)


@pytest.mark.parametrize(
    "options,slots",
    [
        ({}, {"square_avg"}),
        ({"centered": True}, {"square_avg", "grad_avg"}),
        ({"momentum": 0.9}, {"square_avg", "momentum_buffer"}),
    ],
)
def test_slots(options: dict, slots: set) -> None:
    opt = make(**options)
    opt.bind({"w": np.ones(3)}, {"w": np.ones(3)})
    opt.step()
    assert set(opt.state_dict()["slots"]["w"]) == slots


def test_invalid_options() -> None:
    with pytest.raises(mnn.SpecError, match="rho"):
        make(rho=1.0)
