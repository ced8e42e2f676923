"""examples/digits_multitask.json: one trunk, outputs digit (97%) and even, loss weights."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.data import load_builtin


@pytest.fixture(scope="module")
def trained(example: Callable[[str], Path]) -> tuple[mnn.Model, Any, Any]:
    """The example trained once as its spec says, its history and its data."""
    spec = mnn.load_spec(example("digits_multitask"))
    data = load_builtin(spec.data, spec.inputs)  # {"image": NHWC} ... by input name
    model = mnn.build_model(spec)
    history = model.fit({"image": data.x_train}, data.y_train, verbose=0)
    return model, history, data


def test_digits_multitask_has_two_weighted_outputs_on_one_trunk(
    example: Callable[[str], Path],
) -> None:
    spec = mnn.load_spec(example("digits_multitask"))
    assert spec.data == "builtin:digits_multitask" and spec.outputs == ["digit", "even"]
    assert set(spec.loss_weights) == {"digit", "even"}
    model = mnn.build_model(spec)
    assert model.output_shapes == {"digit": (10,), "even": (1,)}
    data = load_builtin(spec.data, spec.inputs)
    assert set(data.y_train) == {"digit", "even"}


@pytest.mark.slow
def test_digits_multitask_reports_both_accuracies_and_the_digit_reaches_97(
    trained: tuple,
) -> None:
    model, history, data = trained
    assert {"loss", "digit_loss", "even_loss", "digit_accuracy", "even_accuracy"} <= set(
        history.history
    )
    results = model.evaluate({"image": data.x_test}, data.y_test)
    assert results["digit_accuracy"] >= 0.97
    assert results["even_accuracy"] >= 0.95
    weights = model.to_spec().loss_weights
    total = weights["digit"] * results["digit_loss"] + weights["even"] * results["even_loss"]
    assert results["loss"] == pytest.approx(total, rel=1e-4)
    predicted = model.predict({"image": data.x_test[:5]})
    assert set(predicted) == {"digit", "even"}
    np.testing.assert_allclose(predicted["digit"].sum(axis=1), 1.0, rtol=1e-5)
