"""``modular-nn evaluate --report``: per-class precision, recall, F1 and support, and the
confusion matrix, equal to scikit-learn's on the same predictions."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

import modular_nn as mnn
from modular_nn.cli.main import main
from modular_nn.metrics.report import confusion_matrices


@pytest.fixture()
def three_classes(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((90, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0.5).astype(int)  # classes 0, 1, 2
    model = mnn.build_model(
        {
            "input_shape": [4],
            "layers": [{"type": "dense", "units": 3, "activation": "softmax"}],
            "loss": "sparse_categorical_crossentropy",
            "optimizer": {"type": "adam", "learning_rate": 0.05},
        }
    )
    model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    model.save(tmp_path / "model.h5")
    np.savez(tmp_path / "data.npz", X=x, y=y)
    return model, x, y, tmp_path


def test_the_report_equals_scikit_learn(three_classes, capsys) -> None:
    model, x, y, folder = three_classes
    predicted = model.predict(x).argmax(1)
    (matrix,) = confusion_matrices(model, x, y).values()
    np.testing.assert_array_equal(matrix, confusion_matrix(y, predicted, labels=[0, 1, 2]))
    code = main(
        ["evaluate", str(folder / "model.h5"), "--data", str(folder / "data.npz"), "--report"]
    )
    assert code == 0
    out = capsys.readouterr().out
    precision, recall, f1, support = precision_recall_fscore_support(
        y, predicted, labels=[0, 1, 2], zero_division=0
    )
    for k in range(3):
        row = next(line for line in out.splitlines() if line.startswith(f"{k}  "))
        expected = f"{precision[k]:.4f} {recall[k]:.4f} {f1[k]:.4f} {support[k]}"
        assert " ".join(row.split()[1:]) == expected
    assert "confusion matrix (rows: true class, columns: predicted class)" in out
    rows = out.split("columns: predicted class)\n", 1)[1].splitlines()[1:4]
    assert [[int(v) for v in r.split()[1:]] for r in rows] == matrix.tolist()


def test_a_regression_model_has_nothing_to_report(tmp_path, capsys) -> None:
    model = mnn.build_model(
        {"input_shape": [2], "layers": [{"type": "dense", "units": 1}], "loss": "mse"}
    )
    model.save(tmp_path / "model.h5")
    np.savez(tmp_path / "data.npz", X=np.ones((4, 2)), y=np.zeros(4))
    assert main(["evaluate", str(tmp_path / "model.h5"), "--data", str(tmp_path / "data.npz"),
                 "--report"]) == 0  # fmt: skip
    assert "no classification output: --report has nothing to add" in capsys.readouterr().out
