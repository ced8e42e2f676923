"""A graph with a skip connection, a concatenation and a shared layer trains as its PyTorch
equivalent does: the same losses and weights over 3 SGD steps, in float64."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import modular_nn as mnn

torch = pytest.importorskip("torch", reason="the PyTorch reference needs torch installed")

LR = 0.1
SPEC: dict[str, Any] = {
    "name": "reference",
    "input_shape": [4],
    "dtype": "float64",
    "seed": 3,
    "layers": [
        {"name": "d1", "type": "dense", "units": 4, "activation": "tanh"},
        {"name": "d2", "type": "dense", "units": 4},
        {"name": "skip", "type": "add", "inputs": ["input", "d2"]},
        {"name": "enc", "type": "dense", "units": 3, "activation": "tanh", "inputs": ["skip"]},
        {"name": "enc_h", "shares": "enc", "inputs": ["d1"]},
        {"name": "cat", "type": "concatenate", "inputs": ["enc", "enc_h"]},
        {"name": "out", "type": "dense", "units": 2},
    ],
    "loss": "mse",
    "optimizer": {"type": "sgd", "learning_rate": LR},
    "training": {"batch_size": 4, "shuffle": False},
}
DENSE = ("d1", "d2", "enc", "out")


class Reference(torch.nn.Module):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.d1 = torch.nn.Linear(4, 4)
        self.d2 = torch.nn.Linear(4, 4)
        self.enc = torch.nn.Linear(4, 3)
        self.out = torch.nn.Linear(6, 2)

    def forward(self, x: Any) -> Any:
        h = torch.tanh(self.d1(x))
        skip = x + self.d2(h)
        cat = torch.cat([torch.tanh(self.enc(skip)), torch.tanh(self.enc(h))], dim=-1)
        return self.out(cat)


def copy_weights(model: mnn.Model, reference: Any) -> None:
    """Dense kernels are (in, out): a torch Linear's weight transposed."""
    weights = model.get_weights()
    with torch.no_grad():
        for name in DENSE:
            layer = getattr(reference, name)
            layer.weight.copy_(torch.from_numpy(weights[f"{name}/kernel"].T.copy()))
            layer.bias.copy_(torch.from_numpy(weights[f"{name}/bias"]))


def assert_same_weights(model: mnn.Model, reference: Any, step: int) -> None:
    weights = model.get_weights()
    assert sorted(weights) == sorted(f"{n}/{p}" for n in DENSE for p in ("bias", "kernel"))
    for name in DENSE:
        layer = getattr(reference, name)
        np.testing.assert_allclose(
            weights[f"{name}/kernel"], layer.weight.detach().numpy().T, rtol=0, atol=1e-10,
            err_msg=f"{name}/kernel after step {step}",
        )  # fmt: skip
        np.testing.assert_allclose(
            weights[f"{name}/bias"], layer.bias.detach().numpy(), rtol=0, atol=1e-10,
            err_msg=f"{name}/bias after step {step}",
        )  # fmt: skip


def batches() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(8)
    return rng.standard_normal((12, 4)), rng.standard_normal((12, 2))


def test_three_sgd_steps_match_pytorch() -> None:
    torch.manual_seed(0)
    model = mnn.build_model(SPEC)
    reference = Reference().double()
    copy_weights(model, reference)
    assert_same_weights(model, reference, 0)
    optimizer = torch.optim.SGD(reference.parameters(), lr=LR)
    x, y = batches()
    losses = []
    for step in range(3):
        xb, yb = x[4 * step : 4 * step + 4], y[4 * step : 4 * step + 4]
        np.testing.assert_allclose(
            model.predict(xb), reference(torch.from_numpy(xb)).detach().numpy(), atol=1e-12
        )
        ours = model.train_on_batch(xb, yb)
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(reference(torch.from_numpy(xb)), torch.from_numpy(yb))
        loss.backward()
        optimizer.step()
        assert ours == pytest.approx(loss.item(), rel=1e-12, abs=1e-14)
        losses.append(ours)
        assert_same_weights(model, reference, step + 1)
    assert losses[0] != losses[1]  # the weights really moved

    # fit with shuffling off runs the very same batches in the same order
    fitted = mnn.build_model(SPEC)
    history = fitted.fit(x, y, epochs=1, verbose=0)
    for key, value in model.get_weights().items():
        np.testing.assert_allclose(fitted.get_weights()[key], value, rtol=0, atol=1e-12)
    assert history.history["loss"][0] == pytest.approx(np.mean(losses), rel=1e-12)
