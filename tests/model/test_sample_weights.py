"""fit/evaluate with sample_weight and class_weight (Keras semantics)."""

from __future__ import annotations

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.model.sample_weights import class_weight_table

SPEC = {
    "input_shape": [4],
    "dtype": "float64",
    "seed": 2,
    "layers": [{"type": "dense", "units": 3, "activation": "softmax"}],
    "loss": "sparse_categorical_crossentropy",
    "optimizer": {"type": "sgd", "learning_rate": 0.1},
}


def data(rows: int = 12) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    return rng.standard_normal((rows, 4)), rng.integers(0, 3, rows), rng.random(rows)


def weighted_ce(model: mnn.Model, x: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    p = model.predict(x)
    return float(np.sum(w * -np.log(p[np.arange(len(y)), y])) / len(y))


def test_weighted_loss_is_the_sum_of_weighted_losses_over_the_batch_size() -> None:
    x, y, w = data()
    model = mnn.build_model(SPEC)
    assert model.evaluate(x, y, sample_weight=w)["loss"] == pytest.approx(
        weighted_ce(model, x, y, w), rel=1e-12
    )
    assert model.evaluate(x, y, sample_weight=np.ones(12))["loss"] == pytest.approx(
        model.evaluate(x, y)["loss"], rel=1e-12
    )


def test_weighted_gradient_matches_finite_differences() -> None:
    x, y, w = data()
    model = mnn.build_model(SPEC)
    xs, ys = model._prepare_xy(x, y)
    outs = model.engine.forward(xs, True)
    _, grads, _ = model.heads.loss_and_grads(outs, [*ys, w])
    model.engine.backward(grads)
    analytic = model.grads["dense_1/kernel"].copy()
    kernel = model.params["dense_1/kernel"]
    numeric = np.zeros_like(kernel)
    for index in np.ndindex(kernel.shape):
        old = kernel[index]
        kernel[index] = old + 1e-6
        plus = weighted_ce(model, x, y, w)
        kernel[index] = old - 1e-6
        minus = weighted_ce(model, x, y, w)
        kernel[index] = old
        numeric[index] = (plus - minus) / 2e-6
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)


def test_a_step_with_weights_differs_and_zero_weights_ignore_samples() -> None:
    x, y, w = data()
    plain, weighted, half = (mnn.build_model(SPEC) for _ in range(3))
    plain.fit(x, y, epochs=1, batch_size=12, verbose=0, shuffle=False)
    weighted.fit(x, y, epochs=1, batch_size=12, verbose=0, shuffle=False, sample_weight=w)
    assert not np.allclose(
        plain.get_weights()["dense_1/kernel"], weighted.get_weights()["dense_1/kernel"]
    )
    # weight 0 for the second half = training on the first half with the loss halved
    zeros = np.r_[np.ones(6), np.zeros(6)]
    half.fit(x, y, epochs=1, batch_size=12, verbose=0, shuffle=False, sample_weight=zeros)
    first = mnn.build_model({**SPEC, "optimizer": {"type": "sgd", "learning_rate": 0.05}})
    first.fit(x[:6], y[:6], epochs=1, batch_size=6, verbose=0, shuffle=False)
    np.testing.assert_allclose(
        half.get_weights()["dense_1/kernel"], first.get_weights()["dense_1/kernel"], rtol=1e-12
    )


def test_class_weight_equals_the_sample_weights_it_stands_for() -> None:
    x, y, _ = data()
    table = {0: 2.0, 2: 0.5}
    by_class = mnn.build_model(SPEC)
    by_sample = mnn.build_model(SPEC)
    by_class.fit(x, y, epochs=2, batch_size=5, verbose=0, class_weight=table)
    w = np.array([table.get(int(c), 1.0) for c in y])
    by_sample.fit(x, y, epochs=2, batch_size=5, verbose=0, sample_weight=w)
    for key, value in by_class.get_weights().items():
        np.testing.assert_array_equal(value, by_sample.get_weights()[key])


def test_balanced_class_weight_and_the_spec_setting() -> None:
    labels = np.array([0, 0, 0, 1])
    assert class_weight_table("balanced", labels) == {0: 4 / 6, 1: 2.0}
    x, y, _ = data()
    spec = {**SPEC, "training": {"class_weight": "balanced"}}
    from_spec, explicit = mnn.build_model(spec), mnn.build_model(SPEC)
    from_spec.fit(x, y, epochs=1, batch_size=4, verbose=0)
    explicit.fit(x, y, epochs=1, batch_size=4, verbose=0, class_weight="balanced")
    np.testing.assert_array_equal(
        from_spec.get_weights()["dense_1/kernel"], explicit.get_weights()["dense_1/kernel"]
    )
    assert mnn.build_model(spec).to_spec().training.class_weight == "balanced"
    assert "class_weight" not in mnn.load_spec(SPEC).model_dump()["training"]


def test_validation_data_may_carry_weights() -> None:
    x, y, w = data()
    model = mnn.build_model(SPEC)
    history = model.fit(x, y, epochs=1, batch_size=4, verbose=0, validation_data=(x, y, w))
    assert history.history["val_loss"][0] == pytest.approx(
        model.evaluate(x, y, sample_weight=w)["loss"], rel=1e-12
    )


def test_bad_weights_are_refused_with_what_was_expected() -> None:
    x, y, w = data()
    model = mnn.build_model(SPEC)
    with pytest.raises(mnn.DataError, match=r"shape \(12,\)"):
        model.fit(x, y, epochs=1, verbose=0, sample_weight=w[:5])
    with pytest.raises(mnn.DataError, match="non-negative"):
        model.fit(x, y, epochs=1, verbose=0, sample_weight=-w)
    with pytest.raises(mnn.DataError, match="class indices"):
        model.fit(x, y, epochs=1, verbose=0, class_weight={"a": 1})
    regression = mnn.build_model({**SPEC, "loss": "mse"})
    with pytest.raises(mnn.DataError, match="give sample_weight instead"):
        regression.fit(x, np.zeros((12, 3)), epochs=1, verbose=0, class_weight={0: 2})
    with pytest.raises(mnn.SpecError):
        mnn.load_spec({**SPEC, "training": {"class_weight": "even"}})
