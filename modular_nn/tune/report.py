"""What a search leaves in its folder, and ``modular-nn tune --report DIR``.

- ``tune.json``: where the study lives (storage URL, study name) and what it
  optimizes, written when the search starts, so that ``--report DIR`` finds it;
- ``best.json``: the best trial's full spec, normalized (``modular-nn train
  best.json`` trains it alone to the same result: same seed, data, split);
- ``best.h5``: its checkpoint (copied from ``trials/``, or trained again here
  when another machine ran the trial);
- ``trials.csv``: one row per trial: number, state, value, each path's value,
  epochs, seconds, the worker (host:pid) and a note (the error of a failed
  trial, the trial a rerun repeats);
- with ``--plot``: ``history.png`` (each trial's value and the best so far)
  and ``importances.png``.
"""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
from pathlib import Path
from typing import Any

from modular_nn.errors import TuneError
from modular_nn.tune import require_optuna
from modular_nn.tune.storage import ERROR_ATTR

SEARCH_FILE = "tune.json"
_STATES = {
    "COMPLETE": "complete",
    "PRUNED": "pruned",
    "FAIL": "failed",
    "RUNNING": "running",
    "WAITING": "queued",
}


def save_search_file(out: Path, **search: Any) -> Path:
    """Write ``DIR/tune.json`` (storage, study, metric, direction, paths)."""
    path = out / SEARCH_FILE
    _write_text(path, json.dumps(search, indent=2) + "\n")
    return path


def load_search_file(out: Path) -> dict[str, Any]:
    path = out / SEARCH_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TuneError(
            f"expected a search folder holding {SEARCH_FILE} (the --out of a tune run), "
            f"received {str(out)!r}, which has none"
        ) from None
    except (OSError, ValueError) as exc:
        raise TuneError(f"cannot read {path}: {exc}") from None


def _write_text(path: Path, text: str) -> None:
    """Write atomically: processes sharing a folder never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, path)


# ----- the trial table --------------------------------------------------------------------
def trial_rows(study: Any, paths: list[str]) -> list[dict[str, Any]]:
    """One dict per trial (queued trials without values left out), in trial order."""
    rows = []
    for t in study.get_trials(deepcopy=False):
        if t.state.name == "WAITING" and not t.params:
            continue  # given back to the queue before it started: nothing to show
        row: dict[str, Any] = {
            "number": t.number,
            "state": _STATES.get(t.state.name, t.state.name.lower()),
            "value": t.value if t.value is not None else _last(t.intermediate_values),
        }
        for path in paths:
            row[path] = t.params.get(path, "")
        seconds = t.duration.total_seconds() if t.duration is not None else None
        row["epochs"] = t.user_attrs.get("epochs", "")
        row["seconds"] = "" if seconds is None else round(seconds, 2)
        row["worker"] = t.user_attrs.get("worker", "")
        row["note"] = _note(t)
        rows.append(row)
    return rows


def _last(values: dict[int, float]) -> float | str:
    return values[max(values)] if values else ""


def _note(trial: Any) -> str:
    notes = []
    rerun_of = trial.system_attrs.get("failed_trial")
    if rerun_of is not None:
        notes.append(f"rerun of {rerun_of}")
    if ERROR_ATTR in trial.user_attrs:
        notes.append(str(trial.user_attrs[ERROR_ATTR]))
    elif trial.state.name == "FAIL":
        notes.append("interrupted (its process stopped); run again")
    return "; ".join(notes)


def write_trials_csv(study: Any, paths: list[str], path: Path) -> Path:
    rows = trial_rows(study, paths)
    columns = ["number", "state", "value", *paths, "epochs", "seconds", "worker", "note"]
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with temp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(v) for k, v in row.items()})
    os.replace(temp, path)
    return path


def _cell(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, (list, dict, bool)) else value


def format_table(study: Any, paths: list[str], *, width: int = 60) -> str:
    """The trials as a plain-text table (notes cut to ``width`` characters)."""
    rows = trial_rows(study, paths)
    columns = ["number", "state", "value", *paths, "epochs", "note"]
    cells = [columns]
    for row in rows:
        line = []
        for column in columns:
            value = row[column]
            text = f"{value:.4g}" if isinstance(value, float) else str(_cell(value))
            line.append(text if len(text) <= width else text[: width - 3] + "...")
        cells.append(line)
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells)


# ----- importances ------------------------------------------------------------------------
def importances(study: Any) -> dict[str, float]:
    """Each path's share of the variation of the value (Optuna's PED-ANOVA evaluator,
    fANOVA on older Optuna); raises ``TuneError`` when there is too little to go on."""
    optuna = require_optuna()
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if len(complete) < 2:
        raise TuneError(
            f"importances need at least 2 completed trials, the study has {len(complete)}"
        )
    evaluator = getattr(optuna.importance, "PedAnovaImportanceEvaluator", None)
    try:
        return dict(
            optuna.importance.get_param_importances(
                study, evaluator=evaluator() if evaluator else None
            )
        )
    except (ImportError, RuntimeError, ValueError, ZeroDivisionError) as exc:
        raise TuneError(f"cannot compute the importances: {exc}") from None


def format_importances(study: Any) -> str:
    try:
        found = importances(study)
    except TuneError as exc:
        return f"parameter importances: none ({exc})"
    if not found:
        return "parameter importances: none (no parameter varied among completed trials)"
    width = max(len(p) for p in found)
    lines = ["parameter importances:"]
    for path, share in found.items():
        bar = "#" * round(share * 30)
        lines.append(f"  {path.ljust(width)}  {share:6.1%}  {bar}")
    return "\n".join(lines)


# ----- best.json and best.h5 --------------------------------------------------------------
def best_trial(study: Any) -> Any:
    try:
        return study.best_trial
    except ValueError:
        raise TuneError(
            "no trial has completed, so there is no best spec: see trials.csv for why "
            "they failed or were pruned"
        ) from None


def write_best(study: Any, settings: Any, *, say: Any = print) -> tuple[Path, Path]:
    """``best.json`` and ``best.h5`` in the search folder, from the best trial."""
    trial = best_trial(study)
    out = Path(settings.out)
    spec = trial.user_attrs["spec"]
    spec_path = out / "best.json"
    _write_text(spec_path, json.dumps(spec, indent=2) + "\n")
    ckpt_path = out / "best.h5"
    saved = settings.checkpoints / f"trial-{trial.number:04d}.h5"
    if saved.exists():
        temp = ckpt_path.with_name(f".{ckpt_path.name}.{os.getpid()}.tmp")
        shutil.copyfile(saved, temp)
        os.replace(temp, ckpt_path)
    else:
        say(f"training trial {trial.number} again for best.h5 (it ran on {_where(trial)})")
        _retrain(spec, settings, ckpt_path)
    return spec_path, ckpt_path


def _where(trial: Any) -> str:
    return str(trial.user_attrs.get("worker", "another machine")).split(":")[0]


def _retrain(spec: dict[str, Any], settings: Any, path: Path) -> None:
    from modular_nn.model.build import build_model
    from modular_nn.tune.study import load_trial_data

    model = build_model(spec)
    plan = load_trial_data(settings, model, {})
    model.fit(
        plan.dataset.x_train, plan.dataset.y_train, validation_data=plan.validation, verbose=0
    )
    model.data_record = plan.record
    model.save(path)


# ----- plots ------------------------------------------------------------------------------
def plot_search(study: Any, out: Path, metric: str, direction: str) -> list[Path]:
    """``history.png`` (every trial's value, the best so far) and ``importances.png``."""
    from modular_nn.plotting import require_matplotlib

    plt = require_matplotlib()
    optuna = require_optuna()
    done = study.get_trials(
        deepcopy=False,
        states=(optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED),
    )
    if not done:
        raise TuneError("nothing to plot: no trial has completed or been pruned")
    written = []
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for state, marker, label in (("COMPLETE", "o", "complete"), ("PRUNED", "x", "pruned")):
        points = [(t.number, _value(t)) for t in done if t.state.name == state]
        points = [p for p in points if math.isfinite(p[1])]
        if points:
            ax.plot(*zip(*points), marker, linestyle="none", label=label)
    best, line = None, []
    better = max if direction == "maximize" else min
    for t in sorted(done, key=lambda t: t.number):
        if t.state.name == "COMPLETE" and t.value is not None:
            best = t.value if best is None else better(best, t.value)
        if best is not None:
            line.append((t.number, best))
    if line:
        ax.step(*zip(*line), where="post", label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel(metric)
    ax.set_title(f"{study.study_name}: optimisation history")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    written.append(_save(fig, out / "history.png", plt))
    try:
        found = importances(study)
    except TuneError:
        found = {}
    if found:
        fig, ax = plt.subplots(figsize=(6.4, 0.5 * len(found) + 1.5))
        names = list(found)[::-1]
        ax.barh(names, [found[n] for n in names])
        ax.set_xlabel(f"importance for {metric}")
        ax.set_title(f"{study.study_name}: parameter importances")
        fig.tight_layout()
        written.append(_save(fig, out / "importances.png", plt))
    return written


def _value(trial: Any) -> float:
    value = trial.value if trial.value is not None else _last(trial.intermediate_values)
    return float(value) if value != "" else math.nan


def _save(fig: Any, path: Path, plt: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
