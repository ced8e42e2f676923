"""Every built-in optimizer's updates match PyTorch's over several steps (float32, 1e-5)."""

import numpy as np
import pytest

import modular_nn as mnn

torch = pytest.importorskip("torch")

# (our options, torch optimizer class name, torch options); epsilons passed to both sides
CASES = {
    "sgd": ({"learning_rate": 0.1}, "SGD", {"lr": 0.1}),
    "sgd-momentum": ({"learning_rate": 0.1, "momentum": 0.9}, "SGD", {"lr": 0.1, "momentum": 0.9}),
    "sgd-nesterov-decay": (
        {"learning_rate": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.01},
        "SGD",
        {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.01},
    ),
    "adam": ({"learning_rate": 0.01}, "Adam", {"lr": 0.01, "eps": 1e-7}),
    "adam-decay": (
        {"learning_rate": 0.01, "beta_1": 0.8, "beta_2": 0.99, "weight_decay": 0.1},
        "Adam",
        {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-7, "weight_decay": 0.1},
    ),
    "adamw": ({"learning_rate": 0.01}, "AdamW", {"lr": 0.01, "eps": 1e-7, "weight_decay": 0.004}),
    "adamw-strong": (
        {"learning_rate": 0.02, "weight_decay": 0.5, "epsilon": 1e-8},
        "AdamW",
        {"lr": 0.02, "eps": 1e-8, "weight_decay": 0.5},
    ),
    "rmsprop": ({"learning_rate": 0.01}, "RMSprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-7}),
    "rmsprop-centered-momentum-decay": (
        {"learning_rate": 0.01, "rho": 0.8, "momentum": 0.5, "centered": True, "weight_decay": 0.1},
        "RMSprop",
        {
            "lr": 0.01,
            "alpha": 0.8,
            "eps": 1e-7,
            "momentum": 0.5,
            "centered": True,
            "weight_decay": 0.1,
        },
    ),
    "adagrad": (
        {"learning_rate": 0.1},
        "Adagrad",
        {"lr": 0.1, "initial_accumulator_value": 0.1, "eps": 1e-7},
    ),
    "adagrad-decay": (
        {"learning_rate": 0.1, "initial_accumulator_value": 0.0, "weight_decay": 0.05},
        "Adagrad",
        {"lr": 0.1, "initial_accumulator_value": 0.0, "eps": 1e-7, "weight_decay": 0.05},
    ),
}
STEPS = 6


@pytest.mark.parametrize("case", CASES)
def test_updates_match_pytorch(case: str) -> None:
    options, torch_name, torch_options = CASES[case]
    rng = np.random.default_rng(0)
    shapes = {"kernel": (4, 3), "bias": (3,)}
    start = {k: rng.standard_normal(s).astype(np.float32) for k, s in shapes.items()}
    grads = [
        {k: rng.standard_normal(s).astype(np.float32) for k, s in shapes.items()}
        for _ in range(STEPS)
    ]

    params = {k: v.copy() for k, v in start.items()}
    grad_arrays = {k: np.zeros_like(v) for k, v in start.items()}
    ours = mnn.get_registry().create("optimizers", {"type": case.split("-")[0], **options})
    ours.bind(params, grad_arrays)

    tensors = {k: torch.tensor(v, requires_grad=True) for k, v in start.items()}
    theirs = getattr(torch.optim, torch_name)(list(tensors.values()), **torch_options)

    for step in grads:
        for k in shapes:
            grad_arrays[k][...] = step[k]
            tensors[k].grad = torch.tensor(step[k])
        ours.step()
        theirs.step()
        for k in shapes:
            np.testing.assert_allclose(params[k], tensors[k].detach().numpy(), atol=1e-5)
    assert all(p.dtype == np.float32 for p in params.values())
