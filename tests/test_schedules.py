"""Learning-rate schedules: each one's rates match its formula, step by step, and a resumed
optimizer continues the schedule from its iteration count."""

import math

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.registry import get_registry

LR = 0.1


def rates(schedule: dict, steps: int, optimizer: str = "sgd") -> list[float]:
    opt = get_registry().create(
        "optimizers", {"type": optimizer, "learning_rate": LR, "schedule": schedule}
    )
    return [opt.learning_rate_at(s) for s in range(1, steps + 1)]


def test_constant() -> None:
    assert rates({"type": "constant"}, 5) == [LR] * 5
    assert rates({"type": "constant", "warmup_steps": 4}, 6) == pytest.approx(
        [LR * s / 4 for s in range(1, 5)] + [LR, LR]
    )


def test_step_decay() -> None:
    got = rates({"type": "step_decay", "decay_steps": 3, "decay_rate": 0.5}, 10)
    expected = [LR * 0.5 ** ((s - 1) // 3) for s in range(1, 11)]
    assert got == pytest.approx(expected)
    assert got[:4] == pytest.approx([0.1, 0.1, 0.1, 0.05])


@pytest.mark.parametrize("staircase", [False, True])
def test_exponential(staircase: bool) -> None:
    schedule = {"type": "exponential", "decay_steps": 4, "decay_rate": 0.9, "staircase": staircase}
    got = rates(schedule, 12)
    expected = [LR * 0.9 ** ((s - 1) // 4 if staircase else (s - 1) / 4) for s in range(1, 13)]
    assert got == pytest.approx(expected)


def test_cosine_with_warmup() -> None:
    schedule = {"type": "cosine", "decay_steps": 10, "warmup_steps": 5, "alpha": 0.1}
    got = rates(schedule, 20, optimizer="adam")

    def formula(s: int) -> float:
        if s <= 5:
            return LR * s / 5
        t = min(s - 6, 10)
        return LR * (0.9 * 0.5 * (1 + math.cos(math.pi * t / 10)) + 0.1)

    assert got == pytest.approx([formula(s) for s in range(1, 21)])
    assert got[5] == pytest.approx(LR) and got[-1] == pytest.approx(0.1 * LR)


def test_the_optimizer_steps_with_the_scheduled_rate_and_resumes_from_iterations() -> None:
    schedule = {"type": "step_decay", "decay_steps": 2, "decay_rate": 0.5}
    opt = get_registry().create(
        "optimizers", {"type": "sgd", "learning_rate": 1.0, "schedule": schedule}
    )
    param, grad = np.zeros(1), np.ones(1)
    opt.bind({"p": param}, {"p": grad})
    for _ in range(5):
        opt.step()
    np.testing.assert_allclose(param, [-(1 + 1 + 0.5 + 0.5 + 0.25)])
    fresh = get_registry().create("optimizers", opt.get_config() | {"type": "sgd"})
    fresh.load_state_dict(opt.state_dict())
    assert fresh.learning_rate == opt.learning_rate == 0.25


def test_schedules_are_declared_in_the_spec_and_round_trip() -> None:
    spec = {
        "input_shape": [2],
        "layers": [{"type": "dense", "units": 1}],
        "loss": "mse",
        "optimizer": {
            "type": "adam",
            "schedule": {"type": "cosine", "decay_steps": 100, "warmup_steps": 10},
        },
    }
    model = mnn.build_model(spec)
    dumped = model.to_spec().model_dump()["optimizer"]["schedule"]
    assert dumped == {"type": "cosine", "warmup_steps": 10, "decay_steps": 100, "alpha": 0.0}
    assert mnn.build_model(model.to_spec()).to_spec() == model.to_spec()


@pytest.mark.parametrize(
    "schedule",
    [
        {"type": "cosine"},
        {"type": "cosine", "decay_steps": 0},
        {"type": "linear", "decay_steps": 5},
        {"type": "exponential", "decay_steps": 5, "decay_rate": 1.5},
        {"type": "constant", "warmup_steps": -1},
    ],
)
def test_invalid_schedules_are_spec_errors(schedule: dict) -> None:
    spec = {"input_shape": [2], "layers": [{"type": "dense", "units": 1}]}
    with pytest.raises(mnn.SpecError, match="schedule"):
        mnn.load_spec({**spec, "optimizer": {"type": "sgd", "schedule": schedule}})
