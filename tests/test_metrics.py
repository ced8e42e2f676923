"""Metrics: accuracy (binary, sparse and one-hot), precision/recall/F1 for binary outputs and
MAE/MSE for regression, exact when accumulated over batches; reported by fit and evaluate."""

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.metrics import make_metrics

P = np.array([[0.9], [0.2], [0.7], [0.4], [0.6], [0.1]], dtype=np.float32)
T = np.array([[1], [0], [0], [1], [1], [0]], dtype=np.float32)


def results(names: list[str], task: str, pred: np.ndarray, true: np.ndarray, logits=False):
    metrics = make_metrics(names, task, logits)
    for lo in range(0, len(pred), 4):  # in two uneven batches
        for metric in metrics:
            metric.update(pred[lo : lo + 4], true[lo : lo + 4])
    return {m.name: m.result() for m in metrics}


def test_binary_accuracy_precision_recall_f1() -> None:
    got = results(["accuracy", "precision", "recall", "f1"], "binary", P, T)
    # predicted positive: rows 0, 2, 4; true positive: rows 0, 3, 4 -> tp 2, fp 1, fn 1
    assert got == pytest.approx(
        {"accuracy": 4 / 6, "precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3}
    )
    from_logits = results(["accuracy"], "binary", np.log(P / (1 - P)), T, logits=True)
    assert from_logits["accuracy"] == pytest.approx(4 / 6)


def test_categorical_accuracy_sparse_and_one_hot() -> None:
    pred = np.array([[0.1, 0.8, 0.1], [0.6, 0.3, 0.1], [0.2, 0.2, 0.6], [0.5, 0.4, 0.1]])
    labels = np.array([1, 1, 2, 0])
    assert results(["accuracy"], "sparse_categorical", pred, labels)["accuracy"] == 0.75
    one_hot = np.eye(3)[labels]
    assert results(["accuracy"], "categorical", pred, one_hot)["accuracy"] == 0.75


def test_regression_mae_and_mse() -> None:
    pred, true = np.array([[1.0], [2.0], [4.0]]), np.array([[1.5], [2.0], [1.0]])
    assert results(["mae", "mse"], "regression", pred, true) == pytest.approx(
        {"mae": 3.5 / 3, "mse": 9.25 / 3}
    )


def test_metrics_that_do_not_fit_the_loss_are_refused() -> None:
    with pytest.raises(mnn.TrainingError, match="binary outputs"):
        make_metrics(["f1"], "sparse_categorical", False)
    with pytest.raises(mnn.TrainingError, match="classification loss"):
        make_metrics(["accuracy"], "regression", False)


def test_fit_and_evaluate_report_the_spec_metrics() -> None:
    spec = {
        "input_shape": [1],
        "layers": [{"type": "dense", "units": 1}],
        "loss": "mse",
        "optimizer": "sgd",
        "training": {"metrics": ["mae"], "epochs": 2, "batch_size": 2},
    }
    model = mnn.build_model(spec)
    x, y = np.arange(6.0).reshape(6, 1), np.arange(6.0)
    history = model.fit(x, y, validation_split=0.5, verbose=0)
    assert set(history.history) == {"loss", "mae", "val_loss", "val_mae"}
    got = model.evaluate(x, y)
    assert got["mae"] == pytest.approx(np.abs(model.predict(x)[:, 0] - y).mean(), rel=1e-5)


def test_mae_and_mse_are_refused_for_class_labels_before_training() -> None:
    import modular_nn as mnn

    model = mnn.build_model(
        {
            "input_shape": [2],
            "layers": [{"type": "dense", "units": 3, "activation": "softmax"}],
            "loss": "sparse_categorical_crossentropy",
            "optimizer": "sgd",
            "training": {"metrics": ["accuracy", "mae"]},
        }
    )
    before = model.get_weights()
    with pytest.raises(mnn.TrainingError, match="metric 'mae' compares outputs with targets"):
        model.fit(np.ones((5, 2)), np.array([0, 1, 2, 1, 0]), epochs=1, verbose=0)
    assert all(np.array_equal(before[k], v) for k, v in model.get_weights().items())
