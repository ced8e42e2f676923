"""Metrics: accuracy (binary, sparse and one-hot), precision/recall/F1 and MAE/MSE, exact when
accumulated over batches; reported by fit and evaluate. Every built-in is compared with
scikit-learn on random data streamed in uneven batches, and merging the states of two
halves gives the whole set's value."""

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
        make_metrics(["binary_accuracy"], "sparse_categorical", False)
    with pytest.raises(mnn.TrainingError, match="classification outputs"):
        make_metrics(["accuracy"], "regression", False)
    with pytest.raises(mnn.TrainingError, match="average 'binary' scores class 1"):
        make_metrics([{"type": "f1", "average": "binary"}], "categorical", False, (3,))
    with pytest.raises(mnn.TrainingError, match="metric 'r2' applies to regression outputs"):
        make_metrics(["r2"], "binary", False)


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
    with pytest.raises(mnn.TrainingError, match="metric 'mae' applies to regression outputs"):
        model.fit(np.ones((5, 2)), np.array([0, 1, 2, 1, 0]), epochs=1, verbose=0)
    assert all(np.array_equal(before[k], v) for k, v in model.get_weights().items())


# ----- every built-in against scikit-learn, streamed in uneven batches -----------------
from sklearn import metrics as skm  # noqa: E402

N, CLASSES = 203, 4
RNG = np.random.default_rng(7)
BIN_P = RNG.uniform(0.01, 0.99, size=(N, 1))
BIN_Y = (RNG.uniform(size=(N, 1)) < 0.4 + 0.3 * BIN_P).astype(np.float64)
_LOGITS = RNG.standard_normal((N, CLASSES)) * 1.5
CAT_P = np.exp(_LOGITS) / np.exp(_LOGITS).sum(axis=1, keepdims=True)
CAT_LABELS = np.where(RNG.uniform(size=N) < 0.5, CAT_P.argmax(axis=1), RNG.integers(0, CLASSES, N))
REG_Y = RNG.standard_normal((N, 3)) * [1.0, 3.0, 0.5] + [0.0, 5.0, -2.0]
REG_P = REG_Y + RNG.standard_normal((N, 3)) * [0.5, 1.0, 0.4]
CUTS = (0, 17, 64, 65, 150, N)  # uneven batches, one of a single sample


def streamed(entry, task, pred, true, shape, logits=False) -> mnn.Metric:
    (metric,) = make_metrics([entry], task, logits, shape)
    for lo, hi in zip(CUTS, CUTS[1:]):
        metric.update(pred[lo:hi], true[lo:hi])
    return metric


def value(entry, task, pred, true, shape, logits=False) -> float:
    return streamed(entry, task, pred, true, shape, logits).result()


BINARY_CASES = {
    "accuracy": lambda y, p: skm.accuracy_score(y, p > 0.5),
    "binary_accuracy": lambda y, p: skm.accuracy_score(y, p > 0.5),
    "mae": skm.mean_absolute_error,
    "mse": skm.mean_squared_error,
    "auc": skm.roc_auc_score,
    "precision": lambda y, p: skm.precision_score(y, p > 0.5),
    "recall": lambda y, p: skm.recall_score(y, p > 0.5),
    "f1": lambda y, p: skm.f1_score(y, p > 0.5),
}


@pytest.mark.parametrize("name", sorted(BINARY_CASES))
def test_binary_metrics_equal_scikit_learn(name) -> None:
    expected = BINARY_CASES[name](BIN_Y[:, 0], BIN_P[:, 0])
    assert value(name, "binary", BIN_P, BIN_Y, (1,)) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("name", ["accuracy", "auc", "precision", "binary_accuracy"])
def test_binary_metrics_from_logits_equal_those_from_probabilities(name) -> None:
    logits = np.log(BIN_P / (1 - BIN_P))
    got = value(name, "binary", logits, BIN_Y, (1,), logits=True)
    assert got == pytest.approx(value(name, "binary", BIN_P, BIN_Y, (1,)), rel=1e-12)


def test_binary_accuracy_threshold_and_auc_with_tied_scores() -> None:
    got = value({"type": "binary_accuracy", "threshold": 0.3}, "binary", BIN_P, BIN_Y, (1,))
    assert got == pytest.approx(skm.accuracy_score(BIN_Y[:, 0], BIN_P[:, 0] > 0.3))
    tied = np.round(BIN_P, 1)  # ten distinct scores: many ties, each worth one half
    expected = skm.roc_auc_score(BIN_Y[:, 0], tied[:, 0])
    assert value("auc", "binary", tied, BIN_Y, (1,)) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("average", ["binary", "macro", "micro", "weighted"])
@pytest.mark.parametrize("name", ["precision", "recall", "f1"])
def test_binary_precision_recall_f1_for_every_average(name, average) -> None:
    score = getattr(skm, f"{name}_score")
    expected = score(BIN_Y[:, 0], BIN_P[:, 0] > 0.5, average=average)
    entry = {"type": name, "average": average}
    assert value(entry, "binary", BIN_P, BIN_Y, (1,)) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("average", ["macro", "micro", "weighted"])
@pytest.mark.parametrize("name", ["precision", "recall", "f1"])
@pytest.mark.parametrize("task", ["sparse_categorical", "categorical"])
def test_multiclass_precision_recall_f1_equal_scikit_learn(name, average, task) -> None:
    true = CAT_LABELS if task == "sparse_categorical" else np.eye(CLASSES)[CAT_LABELS]
    expected = getattr(skm, f"{name}_score")(CAT_LABELS, CAT_P.argmax(1), average=average)
    got = value({"type": name, "average": average}, task, CAT_P, true, (CLASSES,))
    assert got == pytest.approx(expected, rel=1e-12)


def test_macro_average_leaves_out_classes_never_seen_as_scikit_learn_does() -> None:
    probs = np.concatenate([CAT_P, np.zeros((N, 1))], axis=1)  # class 4: never true nor chosen
    expected = skm.f1_score(CAT_LABELS, probs.argmax(1), average="macro")
    got = value("f1", "sparse_categorical", probs, CAT_LABELS, (CLASSES + 1,))
    assert got == pytest.approx(expected, rel=1e-12)


def test_multiclass_accuracy_auc_and_top_k_equal_scikit_learn() -> None:
    labels, shape = CAT_LABELS, (CLASSES,)
    expected_acc = skm.accuracy_score(labels, CAT_P.argmax(1))
    for name in ("accuracy", "categorical_accuracy"):
        assert value(name, "sparse_categorical", CAT_P, labels, shape) == expected_acc
        assert value(name, "categorical", CAT_P, np.eye(CLASSES)[labels], shape) == expected_acc
    expected_auc = skm.roc_auc_score(labels, CAT_P, multi_class="ovr", average="macro")
    assert value("auc", "sparse_categorical", CAT_P, labels, shape) == pytest.approx(expected_auc)
    from_logits = value("auc", "sparse_categorical", _LOGITS, labels, shape, logits=True)
    assert from_logits == pytest.approx(expected_auc, rel=1e-12)
    for k in (1, 2, 3):
        expected = skm.top_k_accuracy_score(labels, CAT_P, k=k, labels=range(CLASSES))
        got = value({"type": "top_k_accuracy", "k": k}, "sparse_categorical", CAT_P, labels, shape)
        assert got == pytest.approx(expected, rel=1e-12)
    assert value("top_k_accuracy", "sparse_categorical", CAT_P, labels, shape) == 1.0  # k=5


@pytest.mark.parametrize("columns", [1, 3])
def test_regression_metrics_equal_scikit_learn(columns) -> None:
    y, p = REG_Y[:, :columns], REG_P[:, :columns]
    for name, expected in (
        ("mae", skm.mean_absolute_error(y, p)),
        ("mse", skm.mean_squared_error(y, p)),
        ("r2", skm.r2_score(y, p)),
    ):
        assert value(name, "regression", p, y, (columns,)) == pytest.approx(expected, rel=1e-12)


def test_r2_of_constant_targets_follows_scikit_learn() -> None:
    y = np.full((10, 1), 3.0)
    assert value("r2", "regression", y.copy(), y, (1,)) == skm.r2_score(y, y) == 1.0
    p = y + np.linspace(-1, 1, 10)[:, None]
    assert value("r2", "regression", p, y, (1,)) == skm.r2_score(y, p) == 0.0


MERGE_CASES = [
    ("accuracy", "binary", BIN_P, BIN_Y, (1,)),
    ({"type": "f1", "average": "weighted"}, "sparse_categorical", CAT_P, CAT_LABELS, (CLASSES,)),
    ("auc", "binary", BIN_P, BIN_Y, (1,)),
    ("auc", "sparse_categorical", CAT_P, CAT_LABELS, (CLASSES,)),
    ({"type": "top_k_accuracy", "k": 2}, "sparse_categorical", CAT_P, CAT_LABELS, (CLASSES,)),
    ("r2", "regression", REG_P, REG_Y, (3,)),
    ("mse", "regression", REG_P, REG_Y, (3,)),
]


@pytest.mark.parametrize("case", MERGE_CASES, ids=lambda c: str(c[0]))
def test_merging_the_states_of_two_halves_gives_the_whole(case) -> None:
    entry, task, pred, true, shape = case
    (whole,) = make_metrics([entry], task, False, shape)
    whole.update(pred, true)
    first, second = (
        make_metrics([entry], task, False, shape)[0],
        make_metrics([entry], task, False, shape)[0],
    )
    first.update(pred[:90], true[:90])
    second.update(pred[90:], true[90:])
    state = second.state()
    assert state.dtype == np.float64 and state.ndim == 1
    first.merge(state)
    assert first.result() == pytest.approx(whole.result(), rel=1e-12)
    assert first.additive == (len(first.state()) == len(whole.state()) == len(state))


# ----- metrics in specs --------------------------------------------------------------
def test_spec_metrics_take_names_and_objects_and_logs_use_their_names() -> None:
    spec = {
        "input_shape": [2],
        "layers": [{"type": "dense", "units": 3, "activation": "softmax"}],
        "loss": "sparse_categorical_crossentropy",
        "training": {
            "metrics": [
                "accuracy",
                {"type": "top_k_accuracy", "k": 2},
                {"type": "precision", "average": "weighted", "name": "weighted_precision"},
            ]
        },
    }
    loaded = mnn.load_spec(spec)
    assert loaded.training.metrics == [
        "accuracy",
        {"type": "top_k_accuracy", "k": 2},
        {"type": "precision", "name": "weighted_precision", "average": "weighted"},
    ]
    assert mnn.load_spec(loaded.to_json()) == loaded  # normalizing twice changes nothing
    model = mnn.build_model(loaded)
    x, y = RNG.standard_normal((30, 2)), RNG.integers(0, 3, 30)
    logs = model.evaluate(x, y)
    assert set(logs) == {"loss", "accuracy", "top_k_accuracy", "weighted_precision"}
    predicted = model.predict(x).argmax(1)
    expected = skm.precision_score(y, predicted, average="weighted", zero_division=0)
    assert logs["weighted_precision"] == pytest.approx(expected)


def test_two_metrics_with_one_log_name_are_a_spec_error() -> None:
    spec = {
        "input_shape": [2],
        "layers": [{"type": "dense", "units": 1, "activation": "sigmoid"}],
        "training": {"metrics": ["precision", {"type": "precision", "average": "macro"}]},
    }
    with pytest.raises(mnn.SpecError, match="metric 'precision' is listed twice") as caught:
        mnn.load_spec(spec)
    assert [issue.path for issue in caught.value.issues] == ["training.metrics"]


def test_available_metrics_list_every_builtin() -> None:
    assert {
        "accuracy", "binary_accuracy", "categorical_accuracy", "mae", "mse", "precision",
        "recall", "f1", "auc", "top_k_accuracy", "r2",
    } <= set(mnn.available("metrics"))  # fmt: skip


def test_load_data_at_the_top_level_gives_a_datasets_arrays() -> None:
    data = mnn.load_data("builtin:xor")
    assert isinstance(data.x_train, np.ndarray) and len(data.x_train) == len(data.y_train)
    from modular_nn.data import load_data

    assert mnn.load_data is load_data
