"""Callbacks: the hook order, early stopping (patience, best-weights restore, the spec's
``early_stopping``), periodic checkpoints keeping the last K, and the progress output."""

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.model.callbacks import EarlyStopping, ModelCheckpoint, ProgressLogger

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
