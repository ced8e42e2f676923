"""The sequential Model: the seed notebook's examples, determinism, inputs, fit semantics."""

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.data import builtin
from modular_nn.layers.dense import Dense

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
XOR_Y = np.array([[0], [1], [1], [0]])


def xor_spec(**changes: object) -> dict:
    spec = {
        "name": "xor",
        "input_shape": [2],
        "seed": 42,
        "layers": [
            {"type": "dense", "units": 5, "activation": "relu"},
            {"type": "dense", "units": 1, "activation": "sigmoid"},
        ],
        "loss": "binary_crossentropy",
        "optimizer": {"type": "sgd", "learning_rate": 0.5},
        "training": {"epochs": 2000, "batch_size": 4},
    }
    spec.update(changes)
    return spec


def test_seed_xor_reaches_full_accuracy() -> None:
    model = mnn.build_model(xor_spec())
    history = model.fit(XOR_X, XOR_Y, verbose=0)
    assert len(history.history["loss"]) == 2000
    assert history.history["loss"][-1] < 0.05
    assert model.evaluate(XOR_X, XOR_Y)["accuracy"] == 1.0
    np.testing.assert_array_equal(model.predict(XOR_X) > 0.5, XOR_Y == 1)


def test_moons_with_batch_norm_and_dropout_exceed_95_percent() -> None:
    moons = builtin.moons(n=1200, noise=0.1, seed=0)
    spec = {
        "input_shape": [2],
        "seed": 1,
        "layers": [
            {"type": "dense", "units": 32, "activation": "relu"},
            {"type": "batch_norm"},
            {"type": "dropout", "rate": 0.1},
            {"type": "dense", "units": 32, "activation": "relu"},
            {"type": "dense", "units": 1, "activation": "sigmoid"},
        ],
        "loss": "binary_crossentropy",
        "optimizer": {"type": "adam", "learning_rate": 0.01},
    }
    model = mnn.build_model(spec)
    model.fit(moons.x_train, moons.y_train, epochs=30, batch_size=32, verbose=0)
    assert model.evaluate(moons.x_test, moons.y_test)["accuracy"] > 0.95


def test_same_seed_gives_identical_weights_and_different_seed_does_not() -> None:
    spec = xor_spec(
        layers=[
            {"type": "dense", "units": 8, "activation": "tanh"},
            {"type": "dropout", "rate": 0.2},
            {"type": "dense", "units": 1, "activation": "sigmoid"},
        ]
    )

    def train(seed: int) -> dict[str, np.ndarray]:
        model = mnn.build_model({**spec, "seed": seed})
        model.fit(XOR_X, XOR_Y, epochs=30, verbose=0)
        return model.get_weights()

    a, b, c = train(3), train(3), train(4)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    assert any(not np.array_equal(a[key], c[key]) for key in a)


def test_seed_backprop_walkthrough() -> None:
    """Section 4 of the seed: set W1, W2 (no biases), one forward and backward pass."""
    model = mnn.Model(
        [
            Dense(units=3, activation="relu", use_bias=False),
            Dense(units=1, activation="sigmoid", use_bias=False),
        ],
        input_shape=(2,),
        loss="binary_crossentropy",
        dtype="float64",
    )
    model.set_weights(
        {
            "dense_1/kernel": np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]),
            "dense_2/kernel": np.array([[0.7], [0.8], [0.9]]),
        }
    )
    x, y = np.array([[1.0, 2.0]]), np.array([[1.0]])
    a2 = model.forward(x, training=True)
    _, grad = model._loss_and_grad(a2, y)
    model.backward(grad)
    a1 = np.maximum(0, x @ model.params["dense_1/kernel"])
    expected_a2 = 1 / (1 + np.exp(-(a1 @ model.params["dense_2/kernel"])))
    np.testing.assert_allclose(a2, expected_a2)
    np.testing.assert_allclose(a2, [[0.94978]], atol=1e-5)
    np.testing.assert_allclose(model.grads["dense_2/kernel"], a1.T @ (a2 - y))
    np.testing.assert_allclose(
        model.grads["dense_2/kernel"], [[-0.0452], [-0.0603], [-0.0753]], atol=1e-4
    )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dtype_is_kept_end_to_end(dtype: str) -> None:
    model = mnn.build_model(xor_spec(dtype=dtype))
    model.fit(XOR_X, XOR_Y, epochs=3, verbose=0)
    assert all(p.dtype == dtype for p in model.params.values())
    assert all(g.dtype == dtype for g in model.grads.values())
    assert model.predict(XOR_X).dtype == dtype


def test_wrong_inputs_name_expected_and_received_shapes() -> None:
    model = mnn.build_model(xor_spec())
    with pytest.raises(
        mnn.DataError, match=r"expected inputs of shape \(n, 2\), received \(4, 3\)"
    ):
        model.fit(np.zeros((4, 3)), XOR_Y, verbose=0)
    with pytest.raises(mnn.DataError, match="x has 4 samples, y has 3"):
        model.fit(XOR_X, XOR_Y[:3], verbose=0)
    bad = XOR_X.astype(float)
    bad[1, 1] = np.nan
    with pytest.raises(mnn.DataError, match="NaN"):
        model.fit(bad, XOR_Y, verbose=0)
    with pytest.raises(mnn.DataError, match="single sample"):
        model.predict(np.zeros(2))


def test_fit_needs_loss_and_optimizer() -> None:
    model = mnn.build_model(xor_spec(loss=None, optimizer=None))
    with pytest.raises(mnn.TrainingError, match="no loss"):
        model.fit(XOR_X, XOR_Y)
    model.compile(loss="binary_crossentropy")
    with pytest.raises(mnn.TrainingError, match="no optimizer"):
        model.fit(XOR_X, XOR_Y)
    model.compile(optimizer="adam")
    model.fit(XOR_X, XOR_Y, epochs=1, verbose=0)


def test_epochs_continue_and_initial_epoch_follows_keras() -> None:
    model = mnn.build_model(xor_spec())
    first = model.fit(XOR_X, XOR_Y, epochs=2, verbose=0)
    second = model.fit(XOR_X, XOR_Y, epochs=3, verbose=0)
    assert first.epoch == [1, 2] and second.epoch == [3, 4, 5]
    third = model.fit(XOR_X, XOR_Y, epochs=8, initial_epoch=5, verbose=0)
    assert third.epoch == [6, 7, 8]
    assert model.history.epoch == [1, 2, 3, 4, 5, 6, 7, 8]
    assert model.epochs_done == 8


def test_continuing_fit_equals_one_long_fit() -> None:
    a = mnn.build_model(xor_spec())
    a.fit(XOR_X, XOR_Y, epochs=5, verbose=0)
    a.fit(XOR_X, XOR_Y, epochs=5, verbose=0)
    b = mnn.build_model(xor_spec())
    b.fit(XOR_X, XOR_Y, epochs=10, verbose=0)
    for key, value in a.get_weights().items():
        np.testing.assert_array_equal(value, b.get_weights()[key])


def test_validation_data_and_split_report_val_metrics() -> None:
    model = mnn.build_model(xor_spec())
    h = model.fit(XOR_X, XOR_Y, epochs=2, validation_data=(XOR_X, XOR_Y), verbose=0)
    assert set(h.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    x = np.tile(XOR_X, (5, 1))
    y = np.tile(XOR_Y, (5, 1))
    h = model.fit(x, y, epochs=1, validation_split=0.25, verbose=0)
    assert "val_loss" in h.history


def test_evaluate_reports_accuracy_only_for_classification() -> None:
    model = mnn.build_model(xor_spec(loss="mse"))
    assert set(model.evaluate(XOR_X, XOR_Y)) == {"loss"}
    model = mnn.build_model(xor_spec())
    assert set(model.evaluate(XOR_X, XOR_Y)) == {"loss", "accuracy"}


def test_verbose_modes(capsys: pytest.CaptureFixture[str]) -> None:
    model = mnn.build_model(xor_spec())
    model.fit(XOR_X, XOR_Y, epochs=2, verbose=2)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out and "loss:" in out
    model.fit(XOR_X, XOR_Y, epochs=1, verbose=0)
    assert capsys.readouterr().out == ""
    with pytest.raises(mnn.TrainingError, match="verbose"):
        model.fit(XOR_X, XOR_Y, epochs=1, verbose=5)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_non_finite_loss_stops_with_epoch_and_step() -> None:
    layers = [{"type": "dense", "units": 5, "activation": "tanh"}, {"type": "dense", "units": 1}]
    optimizer = {"type": "sgd", "learning_rate": 10}
    model = mnn.build_model(xor_spec(loss="mse", optimizer=optimizer, layers=layers))
    with pytest.raises(mnn.TrainingError, match=r"epoch \d+, step \d+") as info:
        model.fit(XOR_X * 10, XOR_Y * 100, epochs=200, verbose=0)
    assert "last finite" in str(info.value)
    assert all(np.isfinite(p).all() for p in model.params.values())


def test_python_assembly_summary_and_names() -> None:
    model = mnn.Model(
        [Dense(units=4, activation="relu"), Dense(units=4, name="hidden"), Dense(units=2)],
        input_shape=(3,),
    )
    assert [layer.name for layer in model.layers] == ["dense_1", "hidden", "dense_2"]
    assert set(model.params) == {
        "dense_1/kernel",
        "dense_1/bias",
        "hidden/kernel",
        "hidden/bias",
        "dense_2/kernel",
        "dense_2/bias",
    }
    text = model.summary()
    assert "hidden" in text and "(None, 2)" in text and "Total params: 46" in text


def test_train_on_batch_returns_the_loss() -> None:
    model = mnn.build_model(xor_spec())
    before = model.evaluate(XOR_X, XOR_Y)["loss"]
    loss = model.train_on_batch(XOR_X, XOR_Y)
    assert loss == pytest.approx(before, rel=1e-5)
    assert model.evaluate(XOR_X, XOR_Y)["loss"] < before


def test_backward_can_return_the_input_gradient() -> None:
    model = mnn.build_model(xor_spec(dtype="float64", loss="mse"))
    x = np.array([[0.3, -0.7], [1.2, 0.4]])
    out = model.forward(x, training=True)
    grad_x = model.backward(np.ones_like(out), input_grad=True)

    def total(inputs: np.ndarray) -> float:
        return float(model.forward(inputs, training=True).sum())

    eps = 1e-6
    numeric = np.zeros_like(x)
    for index in np.ndindex(*x.shape):
        step = np.zeros_like(x)
        step[index] = eps
        numeric[index] = (total(x + step) - total(x - step)) / (2 * eps)
    np.testing.assert_allclose(grad_x, numeric, rtol=1e-6, atol=1e-9)
    # training's shortcut is back: the first layer skips its input gradient again
    assert model.layers[0].needs_input_grad is False
    model.forward(x, training=True)
    assert model.backward(np.ones_like(out)) is None


@pytest.mark.parametrize(
    ("settings", "path", "message"),
    [
        ({"input_shape": (0,)}, "input_shape[0]", "greater than 0"),
        ({"input_shape": 2}, "input_shape", "a valid list"),
        ({"seed": -1}, "seed", "greater than or equal to 0"),
        ({"dtype": "floot"}, "dtype", "'float32' or 'float64'"),
        ({"training": {"epochs": 0}}, "training.epochs", "greater than 0"),
        ({"name": ""}, "name", "at least 1 character"),
    ],
)
def test_layer_objects_get_the_checks_a_spec_gets(settings: dict, path: str, message: str) -> None:
    with pytest.raises(mnn.SpecError, match="invalid spec") as caught:
        mnn.Model([Dense(units=1)], **{"input_shape": (2,), **settings})
    assert [issue.path for issue in caught.value.issues] == [path]
    assert message in str(caught.value)


def test_layer_objects_need_one_layer_and_valid_names() -> None:
    with pytest.raises(mnn.SpecError, match="layers: List should have at least 1 item"):
        mnn.Model([], input_shape=(2,))
    with pytest.raises(mnn.SpecError, match=r"layers\[0\].name: expected a layer name"):
        mnn.Model([Dense(units=1, name="a/b")], input_shape=(2,))
    assert mnn.Model([Dense(units=1)], input_shape=(2,), dtype=np.float64).dtype == np.float64


def test_a_layer_object_belongs_to_one_model() -> None:
    dense = Dense(units=3)
    first = mnn.Model([dense], input_shape=(2,), loss="mse", optimizer="sgd")
    kernel = dense.params["kernel"].copy()
    with pytest.raises(mnn.SpecError, match="already belongs to a model"):
        mnn.Model([dense], input_shape=(2,), seed=7)
    np.testing.assert_array_equal(dense.params["kernel"], kernel)  # the first model's weights
    first.fit(np.ones((4, 2)), np.ones((4, 3)), epochs=1, verbose=0)


def test_no_samples_to_score_is_an_error_not_a_score() -> None:
    model = mnn.Model([Dense(units=1)], input_shape=(2,), loss="mse", optimizer="sgd")
    empty_x, empty_y = np.zeros((0, 2)), np.zeros((0, 1))
    with pytest.raises(mnn.DataError, match="no samples to evaluate"):
        model.evaluate(empty_x, empty_y)
    weights = model.get_weights()
    with pytest.raises(mnn.DataError, match="validation_data has no samples"):
        model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=1, validation_data=(empty_x, empty_y))
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights()))  # untrained


@pytest.mark.parametrize("call", ["predict", "evaluate"])
def test_batch_size_zero_is_refused_everywhere(call: str) -> None:
    model = mnn.Model([Dense(units=1)], input_shape=(2,), loss="mse", optimizer="sgd")
    args = (np.ones((4, 2)),) if call == "predict" else (np.ones((4, 2)), np.ones((4, 1)))
    with pytest.raises(mnn.TrainingError, match="positive integer for batch_size, received: 0"):
        getattr(model, call)(*args, batch_size=0)


def test_fit_without_targets_says_they_are_missing() -> None:
    model = mnn.Model([Dense(units=1)], input_shape=(2,), loss="mse", optimizer="sgd")
    with pytest.raises(mnn.DataError, match="targets are missing: give y as well as x"):
        model.fit(np.ones((3, 2)))


def test_epochs_and_batch_size_are_keywords() -> None:
    # Keras's positional order is (x, y, batch_size, epochs): fit(x, y, 32, 10) must not
    # silently run 32 epochs of batches of 10
    model = mnn.Model([Dense(units=1)], input_shape=(2,), loss="mse", optimizer="sgd")
    with pytest.raises(TypeError):
        model.fit(np.ones((4, 2)), np.ones((4, 1)), 32, 10)  # type: ignore[misc]
    assert model.epochs_done == 0


def test_model_methods_refuse_bad_arguments_with_our_errors() -> None:
    model = mnn.Model([Dense(units=1)], input_shape=(2,), loss="mse", optimizer="sgd")
    with pytest.raises(mnn.LayerNotFoundError, match="no layer named 'nope'; layers: dense_1"):
        model.get_layer("nope")
    with pytest.raises(KeyError):  # also what a dict lookup would raise
        model.get_layer("nope")
    with pytest.raises(mnn.DataError, match="expected weights as a dict"):
        model.set_weights([1, 2])  # type: ignore[arg-type]
    kernel = model.get_weights()["dense_1/kernel"]
    with pytest.raises(mnn.DataError, match="dense_1/kernel: expected numbers"):
        model.set_weights({"dense_1/kernel": "abc", "dense_1/bias": np.ones(1)})
    np.testing.assert_array_equal(model.get_weights()["dense_1/kernel"], kernel)
    assert model.get_weights()["dense_1/bias"][0] == 0  # all or nothing
    with pytest.raises(mnn.TrainingError, match="expected callbacks to be modular_nn Callback"):
        model.fit(np.ones((2, 2)), np.ones((2, 1)), callbacks=["x"])  # type: ignore[list-item]
    with pytest.raises(mnn.SpecError, match="expected one of the losses as a name"):
        model.compile(loss=5)  # type: ignore[arg-type]


def test_training_does_not_import_h5py() -> None:
    # h5py costs about 11 MB of resident memory; only checkpoints and HDF5 data need it
    import subprocess
    import sys

    code = (
        "import sys, numpy as np, modular_nn as mnn\n"
        "from modular_nn.layers import Dense\n"
        "m = mnn.Model([Dense(units=1)], input_shape=(2,), loss='mse', optimizer='sgd')\n"
        "m.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=2, verbose=0)\n"
        "print('h5py' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_failed_model_leaves_its_layers_free_and_a_layer_cannot_appear_twice() -> None:
    dense = Dense(units=1)
    with pytest.raises(mnn.PluginError, match="adamm"):
        mnn.Model([dense], input_shape=(2,), loss="mse", optimizer="adamm")
    mnn.Model([dense], input_shape=(2,), loss="mse", optimizer="adam")  # a retry works
    twice = Dense(units=2)
    with pytest.raises(mnn.SpecError, match="the same layer object appears twice"):
        mnn.Model([twice, twice], input_shape=(2,))


@pytest.mark.parametrize("dtype", ["f4", "double", "<f8", np.float32])
def test_numpy_spellings_of_a_dtype_and_layers_from_a_generator(dtype: object) -> None:
    model = mnn.Model((Dense(units=1) for _ in range(2)), input_shape=(2,), dtype=dtype)
    assert model.dtype in (np.float32, np.float64) and len(model.layers) == 2
    with pytest.raises(mnn.SpecError, match="dtype"):
        mnn.Model([Dense(units=1)], input_shape=(2,), dtype=None)  # type: ignore[arg-type]


def test_calling_the_model_is_a_forward_pass_in_inference_mode() -> None:
    spec = xor_spec(layers=[
        {"type": "dense", "units": 8, "activation": "relu"},
        {"type": "dropout", "rate": 0.5},
        {"type": "batch_norm"},
        {"type": "dense", "units": 1, "activation": "sigmoid"},
    ])  # fmt: skip
    model = mnn.build_model(spec)
    model.fit(XOR_X, XOR_Y, epochs=3, verbose=0)
    before = model.get_weights()
    out = model(XOR_X)
    assert isinstance(out, np.ndarray) and out.shape == (4, 1)
    np.testing.assert_array_equal(out, model.predict(XOR_X))  # dropout off, moving statistics
    np.testing.assert_array_equal(model(XOR_X), out)  # the same each time
    for key, value in before.items():  # nothing changed: not a training step
        np.testing.assert_array_equal(model.get_weights()[key], value, err_msg=key)
    assert model(XOR_X[:1]).shape == (1, 1)
    with pytest.raises(mnn.DataError, match="2"):
        model(np.ones((4, 3)))  # the same checks as predict
    training = model(XOR_X, training=True)  # Keras's training=True: dropout on
    assert training.shape == (4, 1) and not np.array_equal(training, out)


def test_compile_metrics_replace_the_spec_metrics_and_reach_to_spec() -> None:
    model = mnn.build_model(xor_spec())
    assert model.evaluate(XOR_X, XOR_Y).keys() == {"loss", "accuracy"}
    model.compile(metrics=["accuracy", "precision", "recall"])
    assert model.to_spec().training.metrics == ["accuracy", "precision", "recall"]
    history = model.fit(XOR_X, XOR_Y, epochs=1, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "precision", "recall"}
    assert set(model.evaluate(XOR_X, XOR_Y)) == {"loss", "accuracy", "precision", "recall"}
    rebuilt = mnn.build_model(model.to_spec())
    assert set(rebuilt.evaluate(XOR_X, XOR_Y)) == {"loss", "accuracy", "precision", "recall"}
    model.compile(metrics=[])  # none at all
    assert model.evaluate(XOR_X, XOR_Y).keys() == {"loss"}
    # a loss and its metrics replaced together are checked together
    model.compile(loss="mse", metrics=["mae"])
    assert set(model.evaluate(XOR_X, XOR_Y)) == {"loss", "mae"}


def test_compile_refuses_wrong_metrics_and_changes_nothing() -> None:
    model = mnn.build_model(xor_spec())
    model.compile(metrics=["accuracy"])
    for metrics, error, fragment in [
        (["acuracy"], mnn.SpecError, r"training\.metrics.*'acuracy'"),
        ("accuracy", mnn.SpecError, r"metrics=\['accuracy'\]"),
        ({"nope": ["accuracy"]}, mnn.SpecError, r"unknown outputs \['nope'\]"),
        (["categorical_accuracy"], mnn.TrainingError, "categorical_accuracy"),
    ]:
        with pytest.raises(error, match=fragment):
            model.compile(metrics=metrics)
        assert model.to_spec().training.metrics == ["accuracy"], metrics
    with pytest.raises(mnn.TrainingError, match="precision"):  # mse is not a binary loss
        model.compile(loss="mse", metrics=["precision"])
    assert model.loss.type_name == "binary_crossentropy"  # the loss was not replaced either


def test_compile_metrics_take_entries_with_options() -> None:
    model = mnn.build_model(
        xor_spec(layers=[{"type": "dense", "units": 3, "activation": "softmax"}],
                 loss="sparse_categorical_crossentropy")
    )  # fmt: skip
    x, y = np.eye(3)[[0, 1, 2, 0, 1, 2], :2], np.array([0, 1, 2, 0, 1, 2])
    model.compile(metrics=[{"type": "top_k_accuracy", "k": 3}, "accuracy"])
    logs = model.evaluate(x, y)
    assert logs["top_k_accuracy"] == 1.0 and set(logs) == {"loss", "top_k_accuracy", "accuracy"}
    assert mnn.build_model(model.to_spec()).evaluate(x, y) == logs
    with pytest.raises(mnn.SpecError, match=r"training\.metrics\[0\].*k"):
        model.compile(metrics=[{"type": "top_k_accuracy", "k": 0}])
