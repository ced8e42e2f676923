"""Running a search: trials in this process or in worker processes, all of them sharing
one Optuna study through its storage.

A worker repeats: fail the trials whose process died (heartbeat), stop if
``--trials`` trials count (``storage.counts``), wait if the ones running now
would reach it, otherwise ask Optuna for a trial (a queued retry first), give it
back if another process started the last one needed at the same moment, and run
it: sample the space, write the values into the spec, validate it (a spec that
does not validate is a failed trial with the ``SpecError`` text, and the search
goes on), train with the validation metric reported to Optuna after every epoch
(``OptunaReport``, which stops a trial the pruner gives up on), and tell Optuna
the result. Several ``modular-nn tune`` processes, on one machine or many, work
on one study in the same way.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from modular_nn.errors import ModularNNError, PluginError, ShapeError, SpecError, TuneError
from modular_nn.model.callbacks import Callback
from modular_nn.tune import require_optuna
from modular_nn.tune.space import Space, load_space
from modular_nn.tune.storage import (
    ERROR_ATTR,
    fail_and_retry,
    fail_stale,
    give_back,
    is_surplus,
    open_storage,
    open_study,
    progress,
    search_identity,
)

#: Seconds between looks at the study while the trials needed are running elsewhere.
POLL = 0.5
#: Environment variables that set the BLAS and OpenMP thread counts of a worker.
THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
#: The median pruner gives no verdict before this many epochs.
WARMUP_EPOCHS = 2
_MAXIMIZED = ("accuracy", "precision", "recall", "f1")


@dataclass
class TuneSettings:
    """Everything a worker needs, as JSON (the worker reads it on its standard input).

    ``spec`` is the normalized base spec with the data (its path absolute) and
    validation split written in, so that each trial's spec, and ``best.json``,
    train alone with ``modular-nn train`` exactly as in the search. ``data_path``
    is the data's path as given, which the study's fingerprint holds instead, so
    that machines keeping the data in different folders share one study.
    """

    spec: dict[str, Any]
    space: dict[str, Any]
    metric: str
    direction: str
    trials: int
    storage: str
    study: str
    out: str
    pruner: str = "median"
    heartbeat: int = 10
    data_options: dict[str, Any] = field(default_factory=dict)
    data_path: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> TuneSettings:
        return cls(**json.loads(text))

    @property
    def identity(self) -> dict[str, str]:
        spec, data = self.spec, self.spec.get("data")
        if self.data_path:
            given = {**data, "path": self.data_path} if isinstance(data, dict) else self.data_path
            spec = {**spec, "data": given}
        return search_identity(spec, self.space, self.metric, self.direction)

    @property
    def checkpoints(self) -> Path:
        return Path(self.out) / "trials"


def default_objective(spec: dict[str, Any]) -> tuple[str, str]:
    """``(metric, direction)``: the spec's early-stopping monitor and mode, else val_loss."""
    early = (spec.get("training") or {}).get("early_stopping")
    if not early:
        return "val_loss", "minimize"
    return early["monitor"], direction_for(early["monitor"], early.get("mode", "auto"))


def direction_for(metric: str, mode: str = "auto") -> str:
    """maximize for accuracy, precision, recall and f1 (as early stopping's auto mode)."""
    if mode == "max" or (mode == "auto" and metric.endswith(_MAXIMIZED)):
        return "maximize"
    return "minimize"


# ----- one epoch at a time, to Optuna -----------------------------------------------------
class OptunaReport(Callback):
    """Reports ``metric`` to an Optuna trial after every epoch and stops training when
    the study's pruner says the trial is not promising (``pruned_at`` then holds the
    epoch, 1-based)."""

    def __init__(self, trial: Any, metric: str) -> None:
        self.trial, self.metric = trial, metric
        self.pruned_at: int | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        if self.metric not in logs:
            raise TuneError(
                f"the search optimizes {self.metric!r}, which this trial does not report; "
                f"available: {', '.join(logs) or 'none'}"
            )
        value = float(logs[self.metric])
        if not math.isfinite(value):
            return
        self.trial.report(value, epoch + 1)
        if self.trial.should_prune():
            self.pruned_at = epoch + 1
            self.model.stop_training = True


def final_value(model: Any, metric: str) -> float:
    """``metric`` for the weights training ended with: the last epoch's, or with the spec's
    ``restore_best_weights`` the value of the epoch whose weights were restored."""
    history = model.history
    values = history.history[metric]
    early = model.training_config.early_stopping
    if early is not None and early.restore_best_weights and model.early_stopping_best:
        epoch = model.early_stopping_best[0]
        if epoch in history.epoch:
            return float(values[history.epoch.index(epoch)])
    return float(values[-1])


# ----- the search, from the command ------------------------------------------------------
def check_search(settings: TuneSettings, space: Space) -> None:
    """Before any trial: the base spec trains on the data for one epoch on a few rows and
    reports the metric (a typo in --metric, data that does not fit, are found now)."""
    from modular_nn.model.build import build_model
    from modular_nn.spec.loading import load_spec

    data = settings.spec["data"]
    split = settings.spec["training"]["validation_split"]
    if isinstance(data, dict):
        split = split or data["validation_split"]
    if settings.metric.startswith("val_") and not split:
        raise TuneError(
            f"the search optimizes {settings.metric!r}, a validation value, but the spec holds "
            "no validation data out: set training.validation_split (or the data object's "
            "validation_split) in the spec or give --validation-split F"
        )
    model = build_model(load_spec(settings.spec))
    plan = load_trial_data(settings, model, {})
    x, y = plan.dataset.x_train, plan.dataset.y_train
    if not isinstance(x, dict | list | tuple) and not hasattr(x, "shape"):
        return  # data read batch by batch from disk: the first trial will tell
    head = _rows(x, 8), _rows(y, 8)
    logs = model.fit(*head, epochs=1, validation_data=(_rows(x, 4), _rows(y, 4)), verbose=0).history
    if settings.metric not in logs:
        raise TuneError(
            f"expected --metric to be one of the values training reports "
            f"({', '.join(logs)}), received: {settings.metric!r}"
        )


def _rows(value: Any, n: int) -> Any:
    if isinstance(value, dict):
        return {k: v[:n] for k, v in value.items()}
    return value[:n]


def run_search(settings: TuneSettings, jobs: int, *, say: Callable[[str], None] = print) -> Any:
    """Run trials until the study holds ``settings.trials`` that count; return the study."""
    optuna = require_optuna()
    load_space(settings.space, settings.spec)  # refused before anything starts
    storage = open_storage(settings.storage, settings.heartbeat)
    study = open_study(storage, settings.study, settings.identity, url=settings.storage)
    fail_stale(study)
    done, running = progress(study)
    waiting = len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.WAITING,)))
    target = settings.trials
    where = f"study {settings.study!r} in {settings.storage}"
    if done >= target:
        say(f"{where}: {done} of {target} trials have finished: nothing to run")
        return study
    workers = min(jobs, target - done)
    threads = max(1, _cores() // workers)
    state = f"{done} of {target} trials finished"
    if running:
        state += f", {running} running (if their process is gone, they are run again once "
        state += f"their heartbeat is {2 * settings.heartbeat}s old)"
    if waiting:
        state += f", {waiting} queued"
    say(
        f"{where}: {state}; {workers} job{'s' * (workers > 1)} "
        f"({threads} BLAS thread{'s' * (threads > 1)} each), {settings.metric} "
        f"({settings.direction})"
    )
    if workers == 1:
        work(settings)
    else:
        _run_workers(settings, workers, threads)
    return study


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _run_workers(settings: TuneSettings, workers: int, threads: int) -> None:
    """``workers`` processes (``python -m modular_nn.tune.worker``), each with BLAS set to
    ``threads`` threads before NumPy loads; they die with this process."""
    env = {**os.environ, **{name: str(threads) for name in THREAD_VARS}}
    command = [sys.executable, "-m", "modular_nn.tune.worker", str(os.getpid())]
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for _ in range(workers):
            proc = subprocess.Popen(command, stdin=subprocess.PIPE, env=env)
            assert proc.stdin is not None
            proc.stdin.write(settings.to_json().encode())
            proc.stdin.close()
            procs.append(proc)
        codes = [proc.wait() for proc in procs]
    except BaseException:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()  # the worker fails its trial and queues it again
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        raise
    failed = [str(code) for code in codes if code != 0]
    if failed:
        raise TuneError(
            f"{len(failed)} of {workers} worker processes failed (exit codes "
            f"{', '.join(failed)}); their messages are above"
        )


# ----- a worker ---------------------------------------------------------------------------
def work(settings: TuneSettings) -> None:
    """Run trials of the study until enough count (see the module docstring)."""
    optuna = require_optuna()
    space = load_space(settings.space, settings.spec)
    storage = open_storage(settings.storage, settings.heartbeat)
    pruner = (
        optuna.pruners.MedianPruner(n_warmup_steps=WARMUP_EPOCHS)
        if settings.pruner == "median"
        else optuna.pruners.NopPruner()
    )
    study = open_study(
        storage, settings.study, settings.identity, pruner=pruner, url=settings.storage
    )
    worker = f"{socket.gethostname()}:{os.getpid()}"
    cache: dict[str, Any] = {}
    while True:
        fail_stale(study)
        done, running = progress(study)
        if done >= settings.trials:
            return
        if done + running >= settings.trials:
            time.sleep(POLL)  # the last ones run elsewhere; one of them may yet fail
            continue
        trial = study.ask()
        if is_surplus(study, trial.number, settings.trials):
            give_back(study, trial._trial_id)
            time.sleep(POLL)
            continue
        beat = _Heartbeat(storage, trial._trial_id, settings.heartbeat)
        try:
            line = run_trial(study, trial, space, settings, worker, cache)
        except BaseException as exc:
            beat.stop()
            if isinstance(exc, Exception) and _taken_for_dead(storage, trial._trial_id):
                print(
                    f"trial {trial.number}: dropped: its heartbeat came too late, so another "
                    "process took it for dead and queued it again",
                    flush=True,
                )
                continue
            fail_and_retry(study, trial._trial_id)
            raise
        beat.stop()
        print(line, flush=True)


def _taken_for_dead(storage: Any, trial_id: int) -> bool:
    """Whether another process finished the trial this one was running (it failed it when
    the heartbeat was late, under heavy load); its queued copy will run instead."""
    return bool(storage.get_trial(trial_id).state.is_finished())


class _Heartbeat:
    """Records the trial's heartbeat every ``interval`` seconds in a thread, as
    ``Study.optimize`` does (``ask`` and ``tell`` leave it to the caller)."""

    def __init__(self, storage: Any, trial_id: int, interval: int) -> None:
        self.storage, self.trial_id = storage, trial_id
        storage.record_heartbeat(trial_id)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)
        self._thread.start()

    def _run(self, interval: int) -> None:
        while not self._stop.wait(interval):
            try:
                self.storage.record_heartbeat(self.trial_id)
            except Exception:  # noqa: BLE001 - a busy database: the next beat will do
                pass

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def run_trial(
    study: Any,
    trial: Any,
    space: Space,
    settings: TuneSettings,
    worker: str,
    cache: dict[str, Any],
) -> str:
    """Sample, validate, train and tell one trial; return its line for the log."""
    from modular_nn.model.build import build_model
    from modular_nn.spec.loading import load_spec

    optuna = require_optuna()
    started = time.perf_counter()
    trial.set_user_attr("worker", worker)
    values = space.suggest(trial)
    shown = ", ".join(f"{path}={_short(value)}" for path, value in values.items())
    head = f"trial {trial.number}"
    retried = study._storage.get_trial_system_attrs(trial._trial_id).get("failed_trial")
    if retried is not None:
        head += f" (rerun of {retried})"

    def failed(message: str) -> str:
        trial.set_user_attr(ERROR_ATTR, message)
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
        return f"{head}: failed ({message}): {shown}"

    try:
        spec = load_spec(space.apply(settings.spec, values))
        model = build_model(spec)
    except (SpecError, ShapeError, PluginError) as exc:
        return failed(str(exc))
    report = OptunaReport(trial, settings.metric)
    try:
        plan = load_trial_data(settings, model, cache)
        model.fit(
            plan.dataset.x_train,
            plan.dataset.y_train,
            validation_data=plan.validation,
            verbose=0,
            callbacks=[report],
        )
    except ModularNNError as exc:
        return failed(str(exc))
    seconds = f"{time.perf_counter() - started:.1f}s"
    trial.set_user_attr("epochs", model.epochs_done)
    if report.pruned_at is not None:
        study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        last = model.history.history[settings.metric][-1]
        return (
            f"{head}: pruned at epoch {report.pruned_at}, {settings.metric} {last:.4f} "
            f"({seconds}): {shown}"
        )
    value = final_value(model, settings.metric)
    if not math.isfinite(value):
        return failed(f"{settings.metric} is {value}")
    trial.set_user_attr("spec", spec.model_dump(mode="json"))
    if _is_best(study, value, settings.direction):
        path = settings.checkpoints / f"trial-{trial.number:04d}.h5"
        path.parent.mkdir(parents=True, exist_ok=True)
        model.data_record = plan.record  # evaluate then scores its test split, as after train
        model.save(path)
    study.tell(trial, value)
    return (
        f"{head}: {settings.metric} {value:.4f} after {model.epochs_done} epochs "
        f"({seconds}): {shown}"
    )


def _is_best(study: Any, value: float, direction: str) -> bool:
    try:
        best = study.best_value
    except ValueError:  # no completed trial yet
        return True
    return (
        value >= best if direction == "maximize" else value <= best
    )  # ties: best_trial may pick it


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return json.dumps(value) if not isinstance(value, str) else value


def load_trial_data(settings: TuneSettings, model: Any, cache: dict[str, Any]) -> Any:
    """The spec's data for ``model`` as ``modular-nn train`` reads and splits it
    (``modular_nn.cli.data_plan.training_data``: the data object's label column, its test
    rows held out, its validation rows), loaded once per input and output layout, seed and
    loss (what the split depends on). Gives ``model`` the class names of labels that are
    names."""
    from modular_nn.cli.data_plan import training_data

    loss = model.to_spec().model_dump(mode="json").get("loss")
    key = json.dumps(
        [model.input_shapes, model.output_names, model.seed, loss], default=list, sort_keys=True
    )
    if key not in cache:
        options = settings.data_options
        args = argparse.Namespace(
            data=None,
            validation_split=None,  # written into the spec's data or training
            x_key=options.get("x_key"),
            y_key=options.get("y_key"),
            label_column=options.get("label_column"),
        )
        cache[key] = training_data(args, model, None)  # the spec's path is absolute
    plan = cache[key]
    if model.class_names is None and plan.dataset.class_names is not None:
        model.class_names = list(plan.dataset.class_names)
    return plan


def worker_main(parent: int) -> int:
    """The body of a worker process: settings on stdin; dies with ``parent``."""
    _die_with(parent)
    signal.signal(signal.SIGTERM, _interrupt)
    settings = TuneSettings.from_json(sys.stdin.read())
    try:
        work(settings)
    except ModularNNError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _die_with(parent: int) -> None:
    """Ask Linux to kill this process when its parent dies (a killed ``tune`` leaves no
    worker behind); elsewhere the worker runs on until its trial ends."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before prctl
        os._exit(1)
