"""The conformance kit over every component the plugin registers (found by distribution)."""

from __future__ import annotations

import pytest

from modular_nn.testing import assert_conforms, conformance_cases
from modular_nn.testing.checks.layers import NO_GRAPH_MODELS
from modular_nn.testing.onnx_check import NO_ONNX_RUNTIME

CASES = conformance_cases(distribution="modular-nn-extras")


def test_every_component_is_checked():
    assert {str(c) for c in CASES} == {
        "layers:extras.gated_sum",
        "layers:extras.glu",
        "layers:extras.highway",
        "activations:extras.swish",
        "losses:extras.focal",
        "losses:extras.log_cosh",
        "optimizers:extras.lion",
        "metrics:extras.balanced_accuracy",
    }


def allowed_skip(result) -> bool:
    """Losses fusing with no activation; a layer with several inputs in a model while
    this modular_nn builds no model from a graph spec; the ONNX export without onnxruntime
    (every layer and activation here exports)."""
    return result.property == "fused gradients" or result.detail.startswith(
        (NO_GRAPH_MODELS, NO_ONNX_RUNTIME)
    )


@pytest.mark.parametrize("case", CASES, ids=str)
def test_conforms(case):
    report = assert_conforms(case)
    assert all(allowed_skip(r) for r in report.skipped), str(report)


@pytest.mark.parametrize("beta", [0.5, 3.0])
def test_swish_conforms_with_other_betas(beta):
    assert_conforms("activations", "extras.swish", options={"beta": beta})


def test_highway_conforms_on_images_and_glu_on_sequences():
    assert_conforms("layers", "extras.highway", input_shape=(3, 3, 2), options={"gate_bias": 0.5})
    assert_conforms("layers", "extras.glu", input_shape=(4, 5), options={"units": 2})


def test_lion_with_weight_decay_and_focal_without_focusing_conform():
    assert_conforms(
        "optimizers", "extras.lion", options={"learning_rate": 0.01, "weight_decay": 0.1}
    )
    assert_conforms("losses", "extras.focal", options={"gamma": 0.0, "alpha": 0.7})


def test_gated_sum_conforms_on_sequences_with_both_inputs_checked():
    report = assert_conforms("layers", "extras.gated_sum", input_shape=[(3, 4), (3, 4)])
    gradients = report.result("gradients").detail
    assert "input[0] (training)" in gradients and "input[1] (training)" in gradients
    assert report.result("input gradients separate").status == "pass"


def test_balanced_accuracy_streams_and_merges_and_equals_scikit_learn():
    import numpy as np
    from sklearn.metrics import balanced_accuracy_score

    from modular_nn.metrics import make_metrics

    report = assert_conforms("metrics", "extras.balanced_accuracy")
    assert {"streaming", "merge"} <= {r.property for r in report.results if r.status == "pass"}
    rng = np.random.default_rng(3)
    scores = rng.uniform(size=(97, 3))
    labels = np.where(rng.uniform(size=97) < 0.7, 0, rng.integers(0, 3, 97))  # imbalanced
    (metric,) = make_metrics(["extras.balanced_accuracy"], "sparse_categorical", False, (3,))
    for lo in range(0, 97, 20):
        metric.update(scores[lo : lo + 20], labels[lo : lo + 20])
    expected = balanced_accuracy_score(labels, scores.argmax(1))
    assert metric.result() == pytest.approx(expected, rel=1e-12)
