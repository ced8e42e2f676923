"""Guarded training: bad numbers are refused before training, a non-finite loss or update
stops ``fit`` with the last finite state restored exactly, and clipping prevents a blow-up.

The exact state after a failure is checked against a reference model taken through the
same batches with ``train_on_batch``: weights, batch-norm statistics, optimizer state
and step counts must be equal bit for bit.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.data import H5Source
from modular_nn.model.callbacks import Callback, ModelCheckpoint

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def spec(*layers: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {
        "input_shape": [2],
        "seed": 3,
        "layers": list(layers) or [{"type": "dense", "units": 1, "activation": "sigmoid"}],
        "loss": "binary_crossentropy",
        "optimizer": {"type": "sgd", "learning_rate": 10.0},
        "training": {"batch_size": 2, "shuffle": False},
        **changes,
    }


def data() -> tuple[np.ndarray, np.ndarray]:
    """Ten samples of 2 features; only feature 1 is used."""
    rng = np.random.default_rng(0)
    x = np.zeros((10, 2), np.float32)
    x[:, 1] = rng.choice([-1.0, 1.0], 10)
    y = (x[:, 1] > 0).astype(np.float32)[:, None]
    return x, y


def with_huge_sample(model: mnn.Model, huge_at: int) -> tuple[np.ndarray, np.ndarray]:
    """``data()`` but sample ``huge_at`` is x = (±1e38, 0), y = 0: its logit stays finite (the
    kernel's first entry never moved before), and so does its loss, but its gradient times
    the learning rate overflows that entry to -inf."""
    x, y = data()
    x[huge_at] = [np.sign(model.params["dense_1/kernel"][0, 0]) * 1e38, 0.0]
    y[huge_at] = 0.0
    return x, y


def reference(model_spec: dict[str, Any], x: np.ndarray, y: np.ndarray, steps: int) -> mnn.Model:
    """A fresh model taken through the first ``steps`` batches of 2, as fit(shuffle=False) is."""
    model = mnn.build_model(model_spec)
    for step in range(steps):
        model.train_on_batch(x[2 * step : 2 * step + 2], y[2 * step : 2 * step + 2])
    return model


def stopped(model: mnn.Model, *data: Any, **options: Any) -> str:
    """The message of the ``TrainingError`` that ``model.fit(*data, **options)`` must raise."""
    with pytest.raises(mnn.TrainingError) as info:
        model.fit(*data, verbose=0, **options)
    return str(info.value)


def assert_says(message: str, *parts: str) -> None:
    missing = [part for part in parts if part not in message]
    assert not missing, f"{missing} not in: {message}"


def assert_same_state(model: mnn.Model, expected: mnn.Model) -> None:
    for name, value in expected.get_weights().items():
        assert model.get_weights()[name].tobytes() == value.tobytes(), name
    assert model.optimizer.iterations == expected.optimizer.iterations
    slots, expected_slots = model.optimizer.slots, expected.optimizer.slots
    assert slots.keys() == expected_slots.keys()
    for name, values in expected_slots.items():
        for slot, value in values.items():
            assert np.asarray(slots[name][slot]).tobytes() == np.asarray(value).tobytes(), slot
    assert model.global_step == expected.global_step
    assert model.rng.bit_generator.state == expected.rng.bit_generator.state
    assert all(np.isfinite(v).all() for v in model.get_weights().values())


# ----- refused before training --------------------------------------------------------------
def bad(value: float, where: tuple[int, ...]) -> Any:
    def make(array: np.ndarray) -> np.ndarray:
        array = array.astype(np.float32)
        array[where] = value
        return array

    return make


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize(
    ("part", "expected"),
    [("x", "inputs contain 1 NaN or infinite"), ("y", "targets contain NaN or infinite"),
     ("x_val", "inputs contain 1 NaN or infinite"), ("y_val", "targets contain NaN or infinite")],
)  # fmt: skip
def test_nan_and_inf_in_any_data_are_refused_before_any_step(
    part: str, expected: str, value: float
) -> None:
    model = mnn.build_model(spec())
    before = model.get_weights()
    arrays = dict(zip(["x", "y", "x_val", "y_val"], [*data(), *data()]))
    arrays[part] = bad(value, (3, 0))(arrays[part])
    with pytest.raises(mnn.DataError, match=expected):
        model.fit(
            arrays["x"], arrays["y"], epochs=2, validation_data=(arrays["x_val"], arrays["y_val"])
        )
    assert model.optimizer.iterations == 0
    assert all(before[k].tobytes() == v.tobytes() for k, v in model.get_weights().items())


# ----- stopped, and rolled back to the last finite state --------------------------------------
def test_an_overflowing_update_is_rolled_back_to_the_last_finite_weights() -> None:
    model = mnn.build_model(spec())
    x, y = with_huge_sample(model, huge_at=6)  # in step 4 of 5 (1-based)
    assert_says(
        stopped(model, x, y, epochs=3),
        "the loss became nan at epoch 1, step 5",
        "step 4 made dense_1/kernel non-finite",
        "and gradients were finite (its update overflowed)",
        "rolled back to its state before step 4 of epoch 1",
        "the last finite weights, which gave the last finite loss",
    )
    assert_same_state(model, reference(spec(), x, y, steps=3))
    assert model.epochs_done == 0 and model.history.epoch == []


class StopAfter(Callback):
    """Interrupt fit once ``steps`` steps of epoch ``epoch`` (1-based) have been applied."""

    def __init__(self, epoch: int, steps: int) -> None:
        self.epoch, self.steps = epoch, steps

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        if (epoch + 1, self.steps) == (self.epoch, 0):
            raise InterruptedError

    def on_train_batch_end(self, step: int, logs: Any = None) -> None:
        if (self.model.epochs_done + 1, step + 1) == (self.epoch, self.steps):
            raise InterruptedError


def test_the_replay_reproduces_shuffling_dropout_and_streamed_data(tmp_path: Path) -> None:
    """Shuffled blocks of an HDF5 source and dropout masks both come from the model's
    generator: the rolled-back state equals a run interrupted after the same steps."""
    model_spec = spec(
        {"type": "dropout", "rate": 0.1},
        {"type": "dense", "units": 1, "activation": "sigmoid"},
        training={"batch_size": 2, "shuffle": True},
    )
    model = mnn.build_model(model_spec)
    with h5py.File(tmp_path / "data.h5", "w") as file:
        file["X"], file["y"] = with_huge_sample(model, huge_at=7)
    source = H5Source(tmp_path / "data.h5", block_rows=4)
    message = stopped(model, source, epochs=30)
    found = re.search(r"state before step (\d+) of epoch (\d+)", message)
    assert found, message
    steps, epoch = int(found.group(1)) - 1, int(found.group(2))
    interrupted = mnn.build_model(model_spec)
    with pytest.raises(InterruptedError):
        interrupted.fit(source, epochs=30, verbose=0, callbacks=[StopAfter(epoch, steps)])
    assert_same_state(model, interrupted)


def test_a_non_finite_loss_with_finite_weights_keeps_them() -> None:
    layers = ({"type": "dense", "units": 3, "name": "hidden"}, {"type": "dense", "units": 1})
    model_spec = spec(*layers, loss="mse", optimizer={"type": "adam", "learning_rate": 0.01})
    model = mnn.build_model(model_spec)
    x, y = data()
    x[6] = [1e30, 1e30]  # finite, but step 4's squared error overflows
    assert_says(
        stopped(model, x, y, epochs=2),
        "the loss became inf at epoch 1, step 4",
        "every layer's output is finite but the loss is inf",
        "the model keeps the weights that step started from, the last finite ones",
    )
    assert_same_state(model, reference(model_spec, x, y, steps=3))


def test_overflowing_batch_statistics_are_rolled_back_too() -> None:
    layers = (
        {"type": "dense", "units": 3, "name": "hidden"},
        {"type": "batch_norm"},
        {"type": "dense", "units": 1, "activation": "sigmoid"},
    )
    model_spec = spec(*layers, optimizer={"type": "adam", "learning_rate": 0.01})
    model = mnn.build_model(model_spec)
    x, y = data()
    x[6] = [1e30, 1e30]  # step 4: the batch variance overflows, the loss stays finite
    assert_says(
        stopped(model, x, y, epochs=2),
        "the weights became non-finite at the end of epoch 1",
        "step 4 made batch_norm_1/moving_variance non-finite",
        "(its statistics overflowed)",
        "rolled back to its state before step 4 of epoch 1",
    )
    assert_same_state(model, reference(model_spec, x, y, steps=3))


def test_an_epochs_last_update_overflowing_is_caught_before_callbacks_see_it(
    tmp_path: Path,
) -> None:
    model = mnn.build_model(spec())
    x, y = with_huge_sample(model, huge_at=9)  # the last step of the epoch
    saving = ModelCheckpoint(tmp_path / "run-{epoch}.h5")
    assert_says(
        stopped(model, x, y, epochs=3, callbacks=[saving]),
        "the weights became non-finite at the end of epoch 1",
        "step 5 made dense_1/kernel non-finite",
        "(its update overflowed)",
    )
    assert_same_state(model, reference(spec(), x, y, steps=4))
    assert list(tmp_path.iterdir()) == []  # no checkpoint of non-finite weights was written
    assert model.history.epoch == []


def test_train_on_batch_names_the_layers_and_applies_nothing() -> None:
    model = mnn.build_model(spec())
    model.params["dense_1/kernel"][...] = 1e30
    before = model.get_weights()
    with pytest.raises(mnn.TrainingError) as info:
        model.train_on_batch(np.full((2, 2), 1e10), np.zeros((2, 1)))
    message = str(info.value)
    assert message.startswith("the loss became nan in train_on_batch (the run's step 1)")
    assert "first non-finite output: layer 'dense_1'" in message
    assert "that step was not applied" in message
    assert model.optimizer.iterations == 0
    assert all(before[k].tobytes() == v.tobytes() for k, v in model.get_weights().items())


# ----- clipping ------------------------------------------------------------------------------
def test_gradient_clipping_prevents_a_blow_up_that_otherwise_stops_training() -> None:
    layers = (
        {"type": "dense", "units": 8, "activation": "tanh"},
        {"type": "dense", "units": 1},
    )
    x = np.random.default_rng(1).standard_normal((32, 2)) * 10
    y = (x[:, :1] * x[:, 1:]) * 100
    optimizer = {"type": "sgd", "learning_rate": 1.0}
    diverging = mnn.build_model(spec(*layers, loss="mse", optimizer=optimizer))
    with pytest.raises(mnn.TrainingError, match="global_clipnorm"):
        diverging.fit(x, y, epochs=50, batch_size=8, verbose=0)
    clipped = mnn.build_model(
        spec(*layers, loss="mse", optimizer={**optimizer, "global_clipnorm": 1.0})
    )
    history = clipped.fit(x, y, epochs=50, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert all(np.isfinite(v).all() for v in clipped.get_weights().values())
