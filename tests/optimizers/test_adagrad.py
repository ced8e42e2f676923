"""Adagrad: defaults, the accumulator starts at initial_accumulator_value."""

import numpy as np
import pytest

import modular_nn as mnn


def test_accumulator_and_steps() -> None:
    opt = mnn.get_registry().create("optimizers", "adagrad")
    assert opt.get_config()["initial_accumulator_value"] == 0.1
    param, grad = np.zeros(2), np.array([1.0, -3.0])
    opt.bind({"w": param}, {"w": grad})
    opt.step()
    opt.step()
    acc = 0.1 + 2 * grad**2
    np.testing.assert_allclose(opt.state_dict()["slots"]["w"]["accumulator"], acc)
    first = grad / (np.sqrt(0.1 + grad**2) + 1e-7)
    np.testing.assert_allclose(param, -0.001 * (first + grad / (np.sqrt(acc) + 1e-7)))


def test_invalid_options() -> None:
    with pytest.raises(mnn.SpecError, match="initial_accumulator_value"):
        mnn.get_registry().create(
            "optimizers", {"type": "adagrad", "initial_accumulator_value": -1}
        )
