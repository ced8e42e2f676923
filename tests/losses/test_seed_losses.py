"""The core losses: values, gradients, fusion with the output activation, target checks."""

import warnings

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.testing import assert_gradients_close, check_loss_gradient

rng = np.random.default_rng(0)
PROBS = 0.8 * rng.dirichlet(np.ones(4), 6) + 0.05  # rows sum to 1, away from 0
ONE_HOT = np.eye(4)[[0, 1, 2, 3, 1, 0]]
LABELS = np.array([0, 1, 2, 3, 1, 0])


def make(name: str, **options: object) -> mnn.Loss:
    return mnn.get_registry().create("losses", {"type": name, **options})


CASES = [
    ("mse", {}, rng.standard_normal((6, 3)), rng.standard_normal((6, 3))),
    ("binary_crossentropy", {}, rng.uniform(0.1, 0.9, (6, 2)), rng.integers(0, 2, (6, 2)) * 1.0),
    (
        "binary_crossentropy",
        {"from_logits": True},
        rng.standard_normal((6, 1)),
        rng.integers(0, 2, (6, 1)) * 1.0,
    ),
    ("categorical_crossentropy", {}, PROBS, ONE_HOT),
    ("categorical_crossentropy", {"label_smoothing": 0.1}, PROBS, ONE_HOT),
    ("categorical_crossentropy", {"from_logits": True}, rng.standard_normal((6, 4)), ONE_HOT),
    ("sparse_categorical_crossentropy", {}, PROBS, LABELS),
    ("sparse_categorical_crossentropy", {"label_smoothing": 0.2}, PROBS, LABELS),
    ("sparse_categorical_crossentropy", {"from_logits": True}, rng.standard_normal((6, 4)), LABELS),
]


@pytest.mark.parametrize(("name", "options", "y_pred", "y_true"), CASES)
def test_gradient(name: str, options: dict, y_pred: np.ndarray, y_true: np.ndarray) -> None:
    assert_gradients_close(check_loss_gradient(make(name, **options), y_pred, y_true))


def test_values_match_the_formulas() -> None:
    p, y = np.array([[0.9], [0.2]]), np.array([[1.0], [0.0]])
    expected = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert make("binary_crossentropy").forward(p, y) == pytest.approx(expected)
    assert make("categorical_crossentropy").forward(PROBS, ONE_HOT) == pytest.approx(
        -np.mean(np.log(PROBS[np.arange(6), LABELS]))
    )
    assert make("sparse_categorical_crossentropy").forward(PROBS, LABELS) == pytest.approx(
        make("categorical_crossentropy").forward(PROBS, ONE_HOT)
    )
    assert make("mse").forward(np.array([[1.0, 2.0]]), np.array([[0.0, 0.0]])) == pytest.approx(2.5)


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize(
    ("name", "activation", "targets"),
    [
        ("binary_crossentropy", "sigmoid", rng.integers(0, 2, (6, 1)) * 1.0),
        ("categorical_crossentropy", "softmax", ONE_HOT),
        ("sparse_categorical_crossentropy", "softmax", LABELS),
    ],
)
def test_fused_gradient_is_p_minus_y_over_batch(
    name: str, activation: str, targets: np.ndarray
) -> None:
    loss = make(name)
    act = mnn.get_registry().create("activations", activation)
    assert loss.can_fuse(act)
    z = rng.standard_normal((6, 1 if activation == "sigmoid" else 4))
    p = act.forward(z)
    value = loss.forward_logits(z, p, targets)
    grad = loss.backward_logits()
    onehot = targets if targets.ndim == 2 else np.eye(4)[targets]
    np.testing.assert_allclose(grad, (p - onehot) / 6)
    assert value == pytest.approx(loss.forward(p, targets), rel=1e-6)


def test_fused_path_is_stable_for_saturated_logits() -> None:
    z = np.array([[1e4, -1e4, 0.0]], dtype=np.float32)
    act = mnn.get_registry().create("activations", "softmax")
    loss = make("sparse_categorical_crossentropy")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = loss.forward_logits(z, act.forward(z), np.array([1]))
        grad = loss.backward_logits()
    assert np.isfinite(value) and value == pytest.approx(2e4, rel=1e-6)
    assert np.isfinite(grad).all()


def test_loss_must_fit_the_output() -> None:
    with pytest.raises(mnn.ShapeError, match="at least 2 classes"):
        make("sparse_categorical_crossentropy").check_output_shape((1,))


def test_target_problems_are_data_errors() -> None:
    loss = make("sparse_categorical_crossentropy")
    with pytest.raises(mnn.DataError, match=r"in \[0, 4\)"):
        loss.prepare_targets(np.array([0, 4]), (4,), np.dtype(np.float32))
    with pytest.raises(mnn.DataError, match="sparse_categorical_crossentropy"):
        make("categorical_crossentropy").prepare_targets(np.array([0, 1]), (4,), np.float32)
    with pytest.raises(mnn.DataError, match="targets must have shape"):
        make("mse").prepare_targets(np.zeros((3, 2)), (3,), np.dtype(np.float32))
