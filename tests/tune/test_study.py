"""Running trials: a sampled spec that does not validate is a failed trial with the
SpecError text and the search goes on; the metric reaches Optuna every epoch and the pruner
can stop a trial; a study belongs to one search; what counts towards --trials."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import modular_nn as mnn
from modular_nn.data import load_builtin
from modular_nn.tune.storage import counts, open_storage, open_study, search_identity
from modular_nn.tune.study import (
    OptunaReport,
    TuneSettings,
    default_objective,
    final_value,
    run_search,
)

optuna = pytest.importorskip("optuna")


def _settings(tmp_path: Path, spec: dict[str, Any], space: dict[str, Any]) -> TuneSettings:
    return TuneSettings(
        spec=mnn.load_spec(spec).model_dump(mode="json"),
        space=space,
        metric="val_accuracy",
        direction="maximize",
        trials=2,
        storage=f"sqlite:///{tmp_path / 'tune.db'}",
        study="s",
        out=str(tmp_path / "out"),
        pruner="none",
        heartbeat=5,
    )


def test_an_invalid_sampled_spec_is_a_failed_trial_and_the_search_goes_on(
    tmp_path: Path, moons_spec: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    moons_spec["training"]["epochs"] = 2
    settings = _settings(tmp_path, moons_spec, {"layers[hidden].units": {"choice": [0, 16]}})
    storage = open_storage(settings.storage, settings.heartbeat)
    study = open_study(storage, settings.study, settings.identity, url=settings.storage)
    study.enqueue_trial({"layers[hidden].units": 0})  # units 0: the spec does not validate
    study.enqueue_trial({"layers[hidden].units": 16})

    run_search(settings, jobs=1)

    first, second = study.get_trials()
    assert first.state.name == "FAIL" and counts(first)
    message = first.user_attrs["error"]
    assert message.startswith("invalid spec: ") and "layers[0].units" in message
    assert "received: 0" in message
    assert second.state.name == "COMPLETE" and second.user_attrs["spec"]["layers"][0]["units"] == 16
    printed = capsys.readouterr().out
    assert "trial 0: failed (invalid spec: " in printed and "trial 1: val_accuracy " in printed


def _moons_model(epochs: int) -> tuple[Any, Any, Any]:
    spec = {
        "input_shape": [2],
        "layers": [{"type": "dense", "units": 8, "activation": "relu"},
                   {"type": "dense", "units": 1, "activation": "sigmoid"}],
        "loss": "binary_crossentropy",
        "optimizer": "adam",
        "training": {"epochs": epochs, "validation_split": 0.2},
    }  # fmt: skip
    data = load_builtin("moons")
    return mnn.build_model(spec), data.x_train, data.y_train


def test_the_metric_reaches_optuna_every_epoch() -> None:
    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.NopPruner())
    trial = study.ask()
    model, x, y = _moons_model(3)
    report = OptunaReport(trial, "val_accuracy")
    model.fit(x, y, verbose=0, callbacks=[report])
    study.tell(trial, model.history.history["val_accuracy"][-1])
    assert study.trials[0].intermediate_values == dict(
        zip([1, 2, 3], model.history.history["val_accuracy"])
    )
    assert report.pruned_at is None


def test_the_pruner_stops_a_trial_after_the_epoch_it_gives_up_on() -> None:
    always = optuna.pruners.ThresholdPruner(lower=2.0)  # val_accuracy is never above 2
    study = optuna.create_study(direction="maximize", pruner=always)
    trial = study.ask()
    model, x, y = _moons_model(5)
    report = OptunaReport(trial, "val_accuracy")
    model.fit(x, y, verbose=0, callbacks=[report])
    assert report.pruned_at == 1 and model.epochs_done == 1


def test_a_metric_the_trial_does_not_report_is_an_error() -> None:
    trial = optuna.create_study().ask()
    model, x, y = _moons_model(1)
    with pytest.raises(mnn.TuneError, match=r"optimizes 'val_auc', which this trial"):
        model.fit(x, y, verbose=0, callbacks=[OptunaReport(trial, "val_auc")])


def test_a_study_belongs_to_one_search(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tune.db'}"
    storage = open_storage(url, 5)
    mine = search_identity({"seed": 0}, {"a": {"int": [1, 2]}}, "val_loss", "minimize")
    open_study(storage, "s", mine, url=url)
    assert open_study(storage, "s", mine, url=url).study_name == "s"  # the same search again
    other = search_identity({"seed": 0}, {"a": {"int": [1, 3]}}, "val_loss", "minimize")
    with pytest.raises(mnn.TuneError, match=r"belongs to another search \(its space differ"):
        open_study(storage, "s", other, url=url)


def test_what_counts_towards_the_target() -> None:
    state = optuna.trial.TrialState

    def trial(s: Any, **attrs: Any) -> Any:
        value = 0.5 if s == state.COMPLETE else None
        return optuna.trial.create_trial(state=s, value=value, user_attrs=attrs)

    assert counts(trial(state.COMPLETE)) and counts(trial(state.PRUNED))
    assert counts(trial(state.FAIL, error="invalid spec: ..."))  # failed by its own sample
    assert not counts(trial(state.FAIL))  # its process died: run again, not counted
    assert not counts(trial(state.WAITING))


def test_the_value_is_that_of_the_weights_training_ended_with() -> None:
    history = SimpleNamespace(epoch=[1, 2, 3], history={"val_accuracy": [0.8, 0.9, 0.85]})
    early = SimpleNamespace(restore_best_weights=True)
    model = SimpleNamespace(
        history=history,
        training_config=SimpleNamespace(early_stopping=early),
        early_stopping_best=(2, {}),
    )
    assert final_value(model, "val_accuracy") == 0.9  # epoch 2's weights were restored
    model.training_config.early_stopping = None
    assert final_value(model, "val_accuracy") == 0.85


def test_the_objective_defaults_to_the_early_stopping_monitor() -> None:
    assert default_objective({"training": {}}) == ("val_loss", "minimize")
    stop = {"monitor": "val_accuracy", "mode": "auto"}
    assert default_objective({"training": {"early_stopping": stop}}) == (
        "val_accuracy",
        "maximize",
    )
    stop = {"monitor": "val_loss", "mode": "max"}
    assert default_objective({"training": {"early_stopping": stop}}) == ("val_loss", "maximize")
