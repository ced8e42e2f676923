"""Callbacks: the hook order and Keras's epoch indices, early stopping (patience,
best-weights restore, the spec's ``early_stopping``), checkpoints (periodic keeping the
last K, best only), ReduceLROnPlateau resuming exactly, CSVLogger, the progress output
and ``verbose="auto"``."""

import csv
import io
import sys
import types
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.model.callbacks import (
    CSVLogger,
    EarlyStopping,
    ModelCheckpoint,
    ProgressLogger,
    ReduceLROnPlateau,
)
from modular_nn.model.training import verbose_mode

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]] * 8, dtype=np.float32)
Y = np.array([0, 1, 1, 0] * 8)


def spec(**training: Any) -> dict:
    return {
        "input_shape": [2],
        "seed": 0,
        "layers": [
            {"type": "dense", "units": 8, "activation": "tanh"},
            {"type": "dense", "units": 1, "activation": "sigmoid"},
        ],
        "loss": "binary_crossentropy",
        "optimizer": {"type": "adam", "learning_rate": 0.05},
        "training": {"epochs": 40, "batch_size": 8, **training},
    }


class Recorder(mnn.Callback):
    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.weights: list[dict[str, np.ndarray]] = []
        self.end_logs: Any = None

    def on_train_begin(self, logs: Any = None) -> None:
        self.calls.append(("train_begin",))

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self.calls.append(("epoch_begin", epoch))

    def on_train_batch_end(self, step: int, logs: Any = None) -> None:
        self.calls.append(("batch_end", step))

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        self.calls.append(("epoch_end", epoch, sorted(logs)))
        self.weights.append(self.model.get_weights())

    def on_train_end(self, logs: Any = None) -> None:
        self.calls.append(("train_end",))
        self.end_logs = logs

    def epochs(self, hook: str) -> list[int]:
        return [call[1] for call in self.calls if call[0] == hook]


def test_hooks_are_called_in_order_with_epoch_logs() -> None:
    model = mnn.build_model(spec())
    recorder = Recorder()
    model.fit(X, Y, epochs=2, batch_size=16, validation_split=0.25, callbacks=[recorder], verbose=0)
    keys = ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert recorder.calls == [
        ("train_begin",),
        ("epoch_begin", 0),
        ("batch_end", 0),
        ("batch_end", 1),
        ("epoch_end", 0, keys),
        ("epoch_begin", 1),
        ("batch_end", 0),
        ("batch_end", 1),
        ("epoch_end", 1, keys),
        ("train_end",),
    ]


def test_early_stopping_stops_after_patience_and_restores_the_best_weights() -> None:
    model = mnn.build_model(spec())
    recorder = Recorder()
    stopper = EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    # Validation labels are the opposite of the training ones: learning makes val_loss worse.
    history = model.fit(X, Y, validation_data=(X, 1 - Y), callbacks=[stopper, recorder], verbose=0)
    val_loss = history.history["val_loss"]
    best = int(np.argmin(val_loss))
    assert stopper.best_epoch == best + 1 and stopper.best == pytest.approx(val_loss[best])
    assert len(val_loss) == best + 1 + 3 < 40 and stopper.stopped_epoch == len(val_loss)
    assert model.epochs_done == len(val_loss)
    for key, value in model.get_weights().items():
        np.testing.assert_array_equal(value, recorder.weights[best][key])
    assert model.evaluate(X, 1 - Y)["loss"] == pytest.approx(val_loss[best], rel=1e-5)


def test_without_restore_the_last_weights_stay_and_min_delta_counts() -> None:
    model = mnn.build_model(spec())
    recorder = Recorder()
    stopper = EarlyStopping(monitor="loss", patience=2, min_delta=10.0)
    model.fit(X, Y, callbacks=[stopper, recorder], verbose=0)
    assert model.epochs_done == 3  # no change beats min_delta after the first epoch
    for key, value in model.get_weights().items():
        np.testing.assert_array_equal(value, recorder.weights[-1][key])


def test_accuracy_is_maximized_in_auto_mode() -> None:
    stopper = EarlyStopping(monitor="val_accuracy", patience=2)
    model = mnn.build_model(spec())
    model.fit(X, Y, validation_data=(X, Y), callbacks=[stopper], verbose=0)
    assert stopper.best == 1.0 and model.epochs_done == stopper.best_epoch + 2


def test_early_stopping_declared_in_the_spec(capsys: pytest.CaptureFixture[str]) -> None:
    early = {"monitor": "val_loss", "patience": 1, "restore_best_weights": True}
    model = mnn.build_model(spec(early_stopping=early))
    model.fit(X, Y, validation_data=(X, 1 - Y), verbose=2)
    assert model.epochs_done < 40
    assert "early stopping" in capsys.readouterr().out
    assert model.to_spec().training.early_stopping.patience == 1
    with pytest.raises(mnn.SpecError, match="patience"):
        mnn.load_spec(spec(early_stopping={"patience": -1}))


def test_a_missing_monitor_is_a_clear_error() -> None:
    model = mnn.build_model(spec())
    with pytest.raises(mnn.TrainingError, match="'acuracy'.*available: loss, accuracy"):
        model.fit(X, Y, epochs=2, callbacks=[EarlyStopping(monitor="acuracy")], verbose=0)


def test_the_spec_watching_a_validation_value_without_validation_data_fails_first() -> None:
    model = mnn.build_model(spec(early_stopping={"patience": 2}))  # watches val_loss
    with pytest.raises(mnn.TrainingError, match="no validation data"):
        model.fit(X, Y, epochs=2, verbose=0)
    assert model.epochs_done == 0
    model.fit(X, Y, epochs=1, validation_data=(X, Y), verbose=0)  # with it, all is well


def test_a_callback_may_log_its_own_validation_value_for_early_stopping() -> None:
    class OwnValidation(mnn.Callback):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            assert logs is not None
            logs["val_own"] = float(self.model.evaluate(X, Y)["loss"])

    model = mnn.build_model(spec())
    stopper = EarlyStopping(monitor="val_own", patience=1, min_delta=10.0)
    model.fit(X, Y, epochs=5, callbacks=[OwnValidation(), stopper], verbose=0)
    assert model.epochs_done == 2  # no epoch improves by 10: stopped after patience 1


def test_replaying_patience_0_stops_only_after_an_epoch_that_did_not_improve() -> None:
    from modular_nn.model.history import History

    history = History()
    for epoch, loss in enumerate([1.0, 0.9, 0.8], start=1):
        history.append(epoch, {"loss": loss})
    assert not EarlyStopping(monitor="loss").replay_stops(history)  # still improving
    history.append(4, {"loss": 0.85})
    assert EarlyStopping(monitor="loss").replay_stops(history)


def test_model_checkpoint_every_n_epochs_keeps_the_last_k(tmp_path: Path) -> None:
    model = mnn.build_model(spec())
    saver = ModelCheckpoint(tmp_path / "run-{epoch:03d}.h5", every=2, keep=2)
    model.fit(X, Y, epochs=7, callbacks=[saver], verbose=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run-004.h5", "run-006.h5"]
    assert mnn.load(tmp_path / "run-006.h5").epochs_done == 6
    with pytest.raises(mnn.TrainingError, match="keep"):
        ModelCheckpoint(tmp_path / "x.h5", keep=0)


def test_progress_bar_and_plain_lines() -> None:
    bar, lines = io.StringIO(), io.StringIO()
    model = mnn.build_model(spec())
    model.fit(X, Y, epochs=2, callbacks=[ProgressLogger(1, 4, 2, stream=bar)], verbose=0)
    model.fit(X, Y, epochs=2, callbacks=[ProgressLogger(2, 4, 4, stream=lines)], verbose=0)
    text = bar.getvalue()
    assert text.startswith("Epoch 1/2\n") and "\r" in text and "4/4 [" + "=" * 30 + "]" in text
    assert "loss: " in text and "accuracy: " in text
    out = lines.getvalue().splitlines()
    assert len(out) == 2 and out[0].startswith("Epoch 3/4 - ") and "\r" not in lines.getvalue()


def test_values_callbacks_add_to_the_epoch_logs_reach_the_history() -> None:
    class LearningRate(mnn.Callback):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            assert logs is not None
            logs["learning_rate"] = 0.05 * (epoch + 1)

    model = mnn.build_model(spec())
    history = model.fit(X, Y, epochs=2, callbacks=[LearningRate()], verbose=0)
    assert history.history["learning_rate"] == [0.05, 0.1]
    assert model.history.history["learning_rate"] == [0.05, 0.1]
    assert len(history.history["loss"]) == 2


class _LogLearningRate(mnn.Callback):
    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        assert logs is not None
        logs["lr"] = float(self.model.optimizer.learning_rate)


def test_a_checkpoint_holds_what_callbacks_logged_and_resumes_the_same_history(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 3))
    run = {
        "input_shape": [3],
        "layers": [{"type": "dense", "units": 1}],
        "loss": "mse",
        "optimizer": {"type": "sgd", "learning_rate": 0.1},
        "training": {"batch_size": 8},
    }
    whole = mnn.build_model(run)
    saver = ModelCheckpoint(tmp_path / "run-{epoch}.h5")
    whole.fit(x, x[:, :1], epochs=4, verbose=0, callbacks=[saver, _LogLearningRate()])
    middle = mnn.load(tmp_path / "run-2.h5")
    assert middle.history.history["lr"] == [0.1, 0.1]  # saved after the callbacks logged
    middle.fit(x, x[:, :1], epochs=2, verbose=0, callbacks=[_LogLearningRate()])
    assert middle.history.history == whole.history.history


def test_logged_values_a_history_cannot_hold_stay_in_the_logs_only(tmp_path: Path) -> None:
    seen = []

    class Extras(mnn.Callback):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            assert logs is not None
            logs.update({"grad/norm": 1.0, "note": "constant", "per_output": np.ones(2)})
            logs["kept"] = 2.0

        def on_epoch_recorded(self, epoch: int, logs: dict | None = None) -> None:
            seen.append(sorted(logs or {}))

    model = mnn.build_model(spec())
    history = model.fit(X, Y, epochs=2, callbacks=[Extras()], verbose=0)
    assert history.history["kept"] == [2.0, 2.0]
    assert not {"grad/norm", "note", "per_output"} & set(history.history)
    assert "note" in seen[0]  # the callbacks still see them
    model.save(tmp_path / "m.h5")  # and the model still saves


@pytest.mark.parametrize("patience", [0, 2])
@pytest.mark.parametrize("restore_best_weights", [False, True])
def test_early_stopping_resumed_from_a_checkpoint_stops_where_the_whole_run_does(
    tmp_path: Path, restore_best_weights: bool, patience: int
) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(53, 6))
    y = (x[:, 0] + x[:, 1] > 0).astype(int)
    run = {
        "input_shape": [6],
        "seed": 3,
        "layers": [
            {"type": "dense", "units": 8, "activation": "relu"},
            {"type": "dense", "units": 2, "activation": "softmax"},
        ],
        "loss": "sparse_categorical_crossentropy",
        "optimizer": {"type": "sgd", "learning_rate": 0.5, "momentum": 0.9},
        "training": {"batch_size": 8, "validation_split": 0.25,
                     "early_stopping": {"monitor": "val_loss", "patience": patience,
                                        "restore_best_weights": restore_best_weights}},
    }  # fmt: skip
    whole = mnn.build_model(run)
    whole.fit(x, y, epochs=20, verbose=0)
    assert whole.epochs_done < 20  # it stopped early
    for done in range(1, whole.epochs_done):
        part = mnn.build_model(run)
        part.fit(x, y, epochs=done, verbose=0)
        part.save(tmp_path / "part.h5")
        resumed = mnn.load(tmp_path / "part.h5")
        resumed.fit(x, y, epochs=20 - done, verbose=0)
        assert resumed.epochs_done == whole.epochs_done, done
        for key, value in whole.get_weights().items():
            np.testing.assert_array_equal(resumed.get_weights()[key], value, err_msg=key)
    stopped_at = whole.epochs_done
    again = whole.fit(x, y, epochs=3, verbose=0)  # a new fit after stopping trains on
    assert again.epoch[0] == stopped_at + 1
    # ... and is resumed as exactly: stopped run, one epoch of the new fit, save, the rest
    part = mnn.build_model(run)
    part.fit(x, y, epochs=20, verbose=0)
    part.fit(x, y, epochs=1, verbose=0)
    part.save(tmp_path / "after.h5")
    resumed = mnn.load(tmp_path / "after.h5")
    resumed.fit(x, y, epochs=2, verbose=0)
    assert resumed.epochs_done == whole.epochs_done
    for key, value in whole.get_weights().items():
        np.testing.assert_array_equal(resumed.get_weights()[key], value, err_msg=key)


def test_a_checkpoint_subclass_saving_only_improved_epochs_still_does(tmp_path: Path) -> None:
    class SaveBest(ModelCheckpoint):
        best = float("inf")

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            assert logs is not None
            if logs["loss"] < self.best - 0.05:
                self.best = logs["loss"]
                super().on_epoch_end(epoch, logs)

    model = mnn.build_model(spec())
    model.fit(X, Y, epochs=6, callbacks=[SaveBest(tmp_path / "best-{epoch}.h5")], verbose=0)
    losses = model.history.history["loss"]
    improved, best = [], float("inf")
    for epoch, loss in enumerate(losses, start=1):
        if loss < best - 0.05:
            best = loss
            improved.append(f"best-{epoch}.h5")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(improved)
    assert len(improved) < 6


# ----- epoch indices, as Keras passes them -------------------------------------------------
def test_epoch_indices_are_0_based_over_the_whole_run_as_in_keras(tmp_path: Path) -> None:
    model = mnn.build_model(spec())
    first = Recorder()
    history = model.fit(X, Y, epochs=2, callbacks=[first], verbose=0)
    assert first.epochs("epoch_begin") == first.epochs("epoch_end") == [0, 1]
    assert history.epoch == [1, 2]  # the history numbers epochs from 1, as it always has
    assert first.end_logs == {k: v[-1] for k, v in model.history.history.items()}
    # initial_epoch: Keras passes the epochs' own indices, 3 and 4 for fit(6, initial_epoch=3)
    keras_style = Recorder()
    mnn.build_model(spec()).fit(X, Y, epochs=5, initial_epoch=3, callbacks=[keras_style], verbose=0)
    assert keras_style.epochs("epoch_begin") == [3, 4]
    # a model loaded from a checkpoint goes on counting
    model.save(tmp_path / "m.h5")
    resumed = Recorder()
    mnn.load(tmp_path / "m.h5").fit(X, Y, epochs=2, callbacks=[resumed], verbose=0)
    assert resumed.epochs("epoch_begin") == resumed.epochs("epoch_end") == [2, 3]
    steps = [call[1] for call in resumed.calls if call[0] == "batch_end"]
    assert steps == [0, 1, 2, 3] * 2  # batch indices start again each epoch


# ----- ModelCheckpoint ---------------------------------------------------------------------
def test_save_best_only_writes_only_epochs_that_improve(tmp_path: Path) -> None:
    model = mnn.build_model(PLATEAU_RUN)  # a large rate: val_loss goes up and down
    saver = ModelCheckpoint(tmp_path / "best-{epoch}.h5", monitor="val_loss", save_best_only=True)
    model.fit(X6, Y6, epochs=12, callbacks=[saver], verbose=0)
    values = model.history.history["val_loss"]
    improved, best = [], float("inf")
    for epoch, value in enumerate(values, start=1):
        if value < best:
            best = value
            improved.append(f"best-{epoch}.h5")
    assert len(improved) < len(values)  # some epochs did not improve
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(improved)
    assert saver.best == min(values)


def test_save_best_only_in_auto_mode_maximizes_accuracy_and_overwrites_one_file(
    tmp_path: Path,
) -> None:
    model = mnn.build_model(spec())
    saver = ModelCheckpoint(tmp_path / "best.h5", monitor="accuracy", save_best_only=True)
    saved: list[int] = []

    class Watch(mnn.Callback):
        def on_epoch_recorded(self, epoch: int, logs: dict | None = None) -> None:
            if (tmp_path / "best.h5").exists():
                saved.append(mnn.load(tmp_path / "best.h5").epochs_done)

    model.fit(X, Y, epochs=10, callbacks=[saver, Watch()], verbose=0)
    accuracy = model.history.history["accuracy"]
    best_epoch = 1 + int(np.argmax(accuracy))  # the first epoch reaching the maximum
    assert saved[-1] == best_epoch and saver.best == max(accuracy)
    with pytest.raises(mnn.TrainingError, match="'val_accuracy'.*validation"):
        mnn.build_model(spec()).fit(
            X, Y, epochs=1, verbose=0,
            callbacks=[ModelCheckpoint(tmp_path / "v.h5", monitor="val_accuracy",
                                       save_best_only=True)],
        )  # fmt: skip


def test_save_best_only_beats_initial_value_threshold_and_min_mode(tmp_path: Path) -> None:
    model = mnn.build_model(spec())
    saver = ModelCheckpoint(
        tmp_path / "b-{epoch}.h5", monitor="loss", mode="min", save_best_only=True,
        initial_value_threshold=0.0,
    )  # fmt: skip
    model.fit(X, Y, epochs=3, callbacks=[saver], verbose=0)
    assert list(tmp_path.iterdir()) == []  # no loss is below 0


@pytest.mark.parametrize("name", ["run.keras", "run.ckpt", "run-{epoch}", "weights.h5.bak"])
def test_model_checkpoint_refuses_a_name_that_is_not_hdf5(tmp_path: Path, name: str) -> None:
    with pytest.raises(mnn.CallbackError, match=r"checkpoints are HDF5 files.*\.h5 or \.hdf5"):
        ModelCheckpoint(tmp_path / name)
    ModelCheckpoint(tmp_path / "RUN.H5")  # any case of .h5 or .hdf5 is fine
    ModelCheckpoint(tmp_path / "run-{epoch}.hdf5")


# ----- ReduceLROnPlateau -------------------------------------------------------------------
RATE = 2.0
X6 = np.random.default_rng(1).normal(size=(60, 4))
Y6 = (X6[:, 0] - X6[:, 1] > 0).astype(int)
PLATEAU_RUN = {
    "input_shape": [4],
    "seed": 2,
    "layers": [
        {"type": "dense", "units": 8, "activation": "relu"},
        {"type": "dense", "units": 1, "activation": "sigmoid"},
    ],
    "loss": "binary_crossentropy",
    "optimizer": {"type": "sgd", "learning_rate": RATE, "momentum": 0.9},
    "training": {"batch_size": 16, "validation_split": 0.25},
}


def plateau(**options: Any) -> ReduceLROnPlateau:
    return ReduceLROnPlateau(**{"factor": 0.5, "patience": 1, "min_delta": 0.0, **options})


def keras_rates(values: list[float], factor: float, patience: int, cooldown: int,
                min_lr: float, min_delta: float = 0.0) -> list[float]:  # fmt: skip
    """The learning rate of each epoch by Keras's rule, replayed from the logged values."""
    rate, best, wait, cooling, rates = RATE, float("inf"), 0, 0, []
    for value in values:
        rates.append(rate)
        if cooling > 0:
            cooling, wait = cooling - 1, 0
        if value < best - min_delta:
            best, wait = value, 0
        elif cooling == 0:
            wait += 1
            if wait >= patience and rate > np.float32(min_lr):
                rate, cooling, wait = max(rate * factor, min_lr), cooldown, 0
    return rates


@pytest.mark.parametrize(("patience", "cooldown", "min_lr"), [(1, 0, 0.0), (2, 2, 0.2)])
def test_reduce_lr_follows_keras_and_logs_the_rate(
    patience: int, cooldown: int, min_lr: float
) -> None:
    model = mnn.build_model(PLATEAU_RUN)
    reducer = plateau(patience=patience, cooldown=cooldown, min_lr=min_lr)
    model.fit(X6, Y6, epochs=14, verbose=0, callbacks=[reducer])
    logged = model.history.history["learning_rate"]
    want = keras_rates(model.history.history["val_loss"], 0.5, patience, cooldown, min_lr)
    assert logged == pytest.approx(want, rel=1e-12)
    assert logged[-1] < RATE and min(logged) >= min_lr  # it did reduce, never below min_lr
    scale = model.optimizer.learning_rate_scale
    assert model.optimizer.learning_rate == pytest.approx(RATE * scale)


def test_reduce_lr_in_max_mode_watches_accuracy() -> None:
    model = mnn.build_model(spec())
    reducer = ReduceLROnPlateau(monitor="accuracy", factor=0.5, patience=2, min_delta=0.0)
    assert reducer.sign == -1.0  # auto: accuracy is maximized
    model.fit(X, Y, epochs=8, verbose=0, callbacks=[reducer])
    assert reducer.best == max(model.history.history["accuracy"])
    with pytest.raises(mnn.TrainingError, match="ReduceLROnPlateau monitors 'val_loss'"):
        model.fit(X, Y, epochs=1, verbose=0, callbacks=[ReduceLROnPlateau()])


def test_reduce_lr_scales_a_schedule_and_the_scale_is_in_the_checkpoint(tmp_path: Path) -> None:
    run = {**PLATEAU_RUN, "optimizer": {
        "type": "adam", "learning_rate": 0.05,
        "schedule": {"type": "exponential", "decay_steps": 3, "decay_rate": 0.5}}}  # fmt: skip
    model = mnn.build_model(run)
    model.fit(X6, Y6, epochs=10, verbose=0, callbacks=[plateau(monitor="loss", min_delta=10.0)])
    optimizer = model.optimizer
    assert optimizer.learning_rate_scale < 1
    step = optimizer.iterations + 1
    unscaled = optimizer.config.schedule(0.05, step)
    assert optimizer.learning_rate == unscaled * optimizer.learning_rate_scale
    model.save(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5") as f:
        assert f["optimizer/learning_rate_scale"][()] == optimizer.learning_rate_scale
        assert f["training/reduce_lr"].attrs["monitor"] == b"loss"
        assert int(f["training/reduce_lr/wait"][()]) == model.reduce_lr_state["wait"]
    loaded = mnn.load(tmp_path / "m.h5")
    assert loaded.optimizer.learning_rate == optimizer.learning_rate  # kept without the callback
    assert loaded.reduce_lr_state == model.reduce_lr_state
    fresh = mnn.build_model(run)
    fresh.save(tmp_path / "fresh.h5")  # a run without the callback writes neither
    with h5py.File(tmp_path / "fresh.h5") as f:
        assert "optimizer/learning_rate_scale" not in f and "training/reduce_lr" not in f
    assert mnn.load(tmp_path / "fresh.h5").optimizer.learning_rate_scale == 1.0


@pytest.mark.parametrize("cooldown", [0, 2])
def test_reduce_lr_resumed_from_any_checkpoint_gives_the_same_weights(
    tmp_path: Path, cooldown: int
) -> None:
    def callbacks() -> list[mnn.Callback]:
        return [plateau(patience=2, cooldown=cooldown)]

    epochs = 12
    whole = mnn.build_model(PLATEAU_RUN)
    saver = ModelCheckpoint(tmp_path / "run-{epoch}.h5")
    whole.fit(X6, Y6, epochs=epochs, verbose=0, callbacks=[*callbacks(), saver])
    rates = whole.history.history["learning_rate"]
    assert len(set(rates)) >= 3  # reduced at least twice, in the middle of the run
    for done in range(1, epochs):
        resumed = mnn.load(tmp_path / f"run-{done}.h5")
        resumed.fit(X6, Y6, epochs=epochs - done, verbose=0, callbacks=callbacks())
        assert resumed.history.history == whole.history.history, done
        for key, value in whole.get_weights().items():
            np.testing.assert_array_equal(resumed.get_weights()[key], value, err_msg=key)
    # without the saved counters the resumed run would differ: they matter
    forgetful = mnn.load(tmp_path / "run-5.h5")
    forgetful.reduce_lr_state = None
    forgetful.fit(X6, Y6, epochs=epochs - 5, verbose=0, callbacks=callbacks())
    assert forgetful.history.history["learning_rate"] != rates


def test_reduce_lr_continues_across_fit_calls_of_one_model() -> None:
    whole = mnn.build_model(PLATEAU_RUN)
    whole.fit(X6, Y6, epochs=10, verbose=0, callbacks=[plateau()])
    parts = mnn.build_model(PLATEAU_RUN)
    for _ in range(5):
        parts.fit(X6, Y6, epochs=2, verbose=0, callbacks=[plateau()])
    assert parts.history.history == whole.history.history


def test_reduce_lr_verbose_says_when_it_reduces() -> None:
    out = io.StringIO()
    model = mnn.build_model(PLATEAU_RUN)
    model.fit(X6, Y6, epochs=8, verbose=0, callbacks=[plateau(verbose=1, stream=out)])
    lines = out.getvalue().splitlines()
    reductions = sum(a > b for a, b in zip(model.history.history["learning_rate"][:-1],
                                           model.history.history["learning_rate"][1:]))  # fmt: skip
    assert len(lines) >= reductions >= 1
    assert "ReduceLROnPlateau reducing the learning rate to" in lines[0]


# ----- CSVLogger ---------------------------------------------------------------------------
def test_csv_logger_writes_a_header_and_one_row_per_epoch(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "train.csv"
    model = mnn.build_model(PLATEAU_RUN)
    model.fit(X6, Y6, epochs=3, verbose=0, callbacks=[CSVLogger(path), plateau()])
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    keys = sorted(model.history.history)
    assert "learning_rate" in keys  # what other callbacks log is in the file too
    assert rows[0] == ["epoch", *keys]
    assert [row[0] for row in rows[1:]] == ["0", "1", "2"]  # 0-based, as Keras writes
    for row, epoch in zip(rows[1:], range(3)):
        values = dict(zip(keys, map(float, row[1:])))
        assert values == {k: model.history.history[k][epoch] for k in keys}  # exact


def test_csv_logger_appends_under_the_files_header_or_starts_afresh(tmp_path: Path) -> None:
    path = tmp_path / "train.csv"
    model = mnn.build_model(spec())
    model.fit(X, Y, epochs=2, verbose=0, callbacks=[CSVLogger(path, separator=";")])
    model.fit(X, Y, epochs=1, verbose=0, callbacks=[CSVLogger(path, ";", append=True)])
    lines = path.read_text().splitlines()
    assert lines[0] == "epoch;accuracy;loss" and len(lines) == 4
    assert [line.split(";")[0] for line in lines[1:]] == ["0", "1", "2"]
    model.fit(X, Y, epochs=1, verbose=0, callbacks=[CSVLogger(path)])
    assert (
        path.read_text().splitlines()[1:] != lines[1:] and len(path.read_text().splitlines()) == 2
    )


# ----- verbose="auto" ----------------------------------------------------------------------
class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_verbose_auto_is_a_bar_on_a_terminal_and_lines_in_a_log(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model = mnn.build_model(spec())
    log = io.StringIO()
    monkeypatch.setattr(sys, "stdout", log)
    model.fit(X, Y, epochs=2, batch_size=8)  # verbose="auto" by default
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue()  # never a redrawn bar in a log
    assert len(lines) == 2 and lines[0].startswith("Epoch 1/2 - ") and "loss: " in lines[0]
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    model.fit(X, Y, epochs=1, batch_size=8)
    text = terminal.getvalue()
    assert text.startswith("Epoch 3/3\n") and "\r" in text and "4/4 [" + "=" * 30 + "]" in text


def test_verbose_auto_is_a_bar_in_a_jupyter_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    assert verbose_mode("auto", io.StringIO()) == 2
    assert verbose_mode("auto", _Terminal()) == 1
    kernel_shell = types.SimpleNamespace(kernel=object())
    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: kernel_shell  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    assert verbose_mode("auto", io.StringIO()) == 2  # IPython in a terminal: no kernel
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    assert verbose_mode("auto", io.StringIO()) == 1
    kernel_shell.kernel = None  # an IPython shell without a kernel
    assert verbose_mode("auto", io.StringIO()) == 2
    kernel_shell.kernel = object()
    notebook = io.StringIO()
    monkeypatch.setattr(sys, "stdout", notebook)
    mnn.build_model(spec()).fit(X, Y, epochs=1, batch_size=8)
    assert notebook.getvalue().startswith("Epoch 1/1\n") and "\r" in notebook.getvalue()
    assert [verbose_mode(v) for v in (0, 1, 2)] == [0, 1, 2]
