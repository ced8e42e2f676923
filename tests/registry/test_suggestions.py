"""Did-you-mean: a typo suggests the name meant, not names that merely share letters."""

from __future__ import annotations

import difflib

import pytest

import modular_nn as mnn
from modular_nn.registry import SUGGESTION_CUTOFF, UnknownComponentError, _suggestions


def test_dnese_suggests_dense_only() -> None:
    layers = mnn.available("layers")
    # reshape shares letters with dnese, but far less than dense does
    assert difflib.SequenceMatcher(None, "dnese", "dense").ratio() == pytest.approx(0.8)
    assert difflib.SequenceMatcher(None, "dnese", "reshape").ratio() < SUGGESTION_CUTOFF
    assert _suggestions("dnese", layers) == ["dense"]
    with pytest.raises(UnknownComponentError, match=r"did you mean 'dense'\? available"):
        mnn.get_registry().get("layers", "dnese")


@pytest.mark.parametrize(
    ("kind", "typo", "meant"),
    [
        ("metrics", "acuracy", ["accuracy"]),
        ("losses", "msee", ["mse"]),
        ("optimizers", "adm", ["adam"]),
        ("layers", "conv", ["conv1d", "conv2d"]),  # equally close: both
        ("metrics", "top_k", []),  # nothing close enough
    ],
)
def test_suggestions_keep_only_the_closest_names(kind, typo, meant) -> None:
    assert _suggestions(typo, mnn.available(kind)) == meant


def test_every_unknown_metric_in_a_spec_is_reported_at_once_with_its_path() -> None:
    spec = {
        "input_shape": [2],
        "layers": [{"type": "dense", "units": 3, "activation": "softmax"}],
        "loss": "sparse_categorical_crossentropy",
        "training": {"metrics": ["accuracy", "acuracy", {"type": "top_k_acuracy", "k": 2}]},
    }
    with pytest.raises(mnn.SpecError) as caught:
        mnn.load_spec(spec)
    by_path = {issue.path: issue.message for issue in caught.value.issues}
    assert set(by_path) == {"training.metrics[1]", "training.metrics[2]"}
    assert (
        "unknown metric type 'acuracy'; did you mean 'accuracy'?" in by_path["training.metrics[1]"]
    )
    assert "did you mean 'top_k_accuracy'?" in by_path["training.metrics[2]"]
