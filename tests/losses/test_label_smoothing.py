"""Label smoothing in the categorical cross-entropies: PyTorch parity, fused gradients."""

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.testing import assert_gradients_close, check_model_gradients

rng = np.random.default_rng(0)
LOGITS = rng.standard_normal((6, 4)) * 2
LABELS = np.array([0, 1, 2, 3, 1, 0])
ONE_HOT = np.eye(4)[LABELS]


@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.3])
@pytest.mark.parametrize(
    "name,targets",
    [("categorical_crossentropy", ONE_HOT), ("sparse_categorical_crossentropy", LABELS)],
)
def test_matches_pytorch_cross_entropy(name: str, targets: np.ndarray, smoothing: float) -> None:
    torch = pytest.importorskip("torch")
    logits = torch.tensor(LOGITS, requires_grad=True)
    target = torch.tensor(targets)
    expected = torch.nn.functional.cross_entropy(logits, target, label_smoothing=smoothing)
    expected.backward()
    loss = mnn.get_registry().create(
        "losses", {"type": name, "from_logits": True, "label_smoothing": smoothing}
    )
    assert loss.forward(LOGITS, targets) == pytest.approx(expected.item(), abs=1e-12)
    np.testing.assert_allclose(loss.backward(), logits.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize(
    "name,targets",
    [("categorical_crossentropy", ONE_HOT), ("sparse_categorical_crossentropy", LABELS)],
)
def test_fused_with_softmax_gradients_and_value(name: str, targets: np.ndarray) -> None:
    model = mnn.Model(
        [
            mnn.get_registry().create(
                "layers", {"type": "dense", "units": 4, "activation": "softmax"}
            )
        ],
        input_shape=(3,),
        loss={"type": name, "label_smoothing": 0.2},
        optimizer="sgd",
        dtype="float64",
    )
    x = rng.standard_normal((6, 3))
    assert_gradients_close(check_model_gradients(model, x, targets))
    # the fused value equals the unfused one computed from the probabilities
    unfused = mnn.get_registry().create("losses", {"type": name, "label_smoothing": 0.2})
    value = model.evaluate(x, targets)["loss"]
    assert value == pytest.approx(unfused.forward(model.predict(x), targets), rel=1e-9)
