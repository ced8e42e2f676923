"""``modular-nn tune SPEC --space SPACE.json``: search a spec's values with Optuna.

The space file names paths in the spec and what to sample there
(``modular_nn.tune.space``); every path is checked before any trial. Trials
run ``--jobs`` at a time, each in its own process, in a study kept in Optuna's
storage (``DIR/tune.db`` by default, or ``--storage URL``, which processes on
other machines may share). Running the same command again resumes the search.
The folder ``--out DIR`` receives ``best.json``, ``best.h5`` and
``trials.csv``; ``modular-nn tune --report DIR`` prints the trial table and
the parameter importances. Needs the ``[tune]`` extra (optuna).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from modular_nn.cli.data_options import add_data_options, positive_int
from modular_nn.errors import DataError, TuneError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "tune",
        help="search a spec's values with Optuna (needs the [tune] extra)",
        description="Search the values of SPEC named in --space (paths such as "
        "layers[0].units or optimizer.learning_rate) with Optuna: --trials trials, --jobs at a "
        "time, pruning unpromising ones. The study lives in --storage (default DIR/tune.db); "
        "the same command resumes it, and processes on other machines given the same "
        "--storage URL join it. Writes DIR/best.json, DIR/best.h5 and DIR/trials.csv.",
    )
    parser.add_argument("spec", nargs="?", metavar="SPEC", help="model spec (JSON)")
    parser.add_argument(
        "--space", metavar="SPACE.json", help="the search space: spec paths and what to sample"
    )
    parser.add_argument(
        "--trials",
        type=positive_int,
        default=20,
        metavar="N",
        help="trials the study should hold: complete, pruned or failed by their own spec "
        "(default 20)",
    )
    parser.add_argument(
        "--jobs", type=positive_int, default=1, metavar="N", help="trials at a time here"
    )
    parser.add_argument(
        "--storage", metavar="URL", help="Optuna storage URL (default sqlite:///DIR/tune.db)"
    )
    parser.add_argument("--study", metavar="NAME", help="study name (default: the spec's name)")
    parser.add_argument(
        "--metric",
        metavar="NAME",
        help="value to optimize (default: the spec's early-stopping monitor, or val_loss)",
    )
    parser.add_argument(
        "--direction",
        choices=("maximize", "minimize"),
        help="default: maximize for accuracy, precision, recall, f1; minimize otherwise",
    )
    parser.add_argument(
        "--out", metavar="DIR", help="folder of the results (default: SPEC's name + -tune)"
    )
    parser.add_argument(
        "--pruner",
        choices=("median", "none"),
        default="median",
        help="stop unpromising trials early (default: median)",
    )
    parser.add_argument(
        "--data", metavar="SOURCE", help="builtin:NAME or a data file (default: the spec's data)"
    )
    parser.add_argument(
        "--validation-split",
        type=float,
        metavar="F",
        help="fraction of the training data held out for validation (default: the spec's)",
    )
    parser.add_argument(
        "--heartbeat",
        type=positive_int,
        default=10,
        metavar="S",
        help="seconds between a running trial's heartbeats; a trial silent for twice as long "
        "is failed and run again (default 10)",
    )
    parser.add_argument(
        "--report",
        metavar="DIR",
        help="print the trial table and parameter importances of the search in DIR",
    )
    parser.add_argument(
        "--plot",
        action="store_true",
        help="also write DIR/history.png and DIR/importances.png (needs matplotlib)",
    )
    add_data_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from modular_nn.tune import require_optuna

    require_optuna()
    if args.plot:
        from modular_nn.plotting import require_matplotlib

        require_matplotlib()
    if args.report:
        if args.spec or args.space:
            raise TuneError("--report DIR reads a finished search: give no SPEC or --space")
        return _report(Path(args.report), args.plot)
    return _tune(args)


def _tune(args: argparse.Namespace) -> int:
    from modular_nn.spec.loading import load_spec
    from modular_nn.tune.report import (
        best_trial,
        plot_search,
        save_search_file,
        write_best,
        write_trials_csv,
    )
    from modular_nn.tune.space import load_space
    from modular_nn.tune.study import (
        TuneSettings,
        check_search,
        default_objective,
        direction_for,
        run_search,
    )

    if not args.spec:
        raise TuneError("nothing to tune: give SPEC --space SPACE.json, or --report DIR")
    if not args.space:
        raise TuneError(
            "expected --space SPACE.json, a JSON object of spec paths such as "
            '{"layers[0].units": {"int": [16, 256]}}; received none'
        )
    spec = load_spec(Path(args.spec))
    base = spec.model_dump(mode="json")
    base["data"], data_path = _search_data(args, spec.data)
    if args.validation_split is not None:
        if isinstance(base["data"], dict):  # replaces the data object's, as in train
            base["data"]["validation_split"] = args.validation_split
        else:
            base["training"]["validation_split"] = args.validation_split
    base = load_spec(base).model_dump(mode="json")  # the split is checked like the spec's
    space_json = _read_space(Path(args.space))
    space = load_space(space_json, base)
    metric, direction = default_objective(base)
    if args.metric:
        metric, direction = args.metric, direction_for(args.metric)
    direction = args.direction or direction
    out = Path(args.out or f"{Path(args.spec).stem}-tune")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TuneError(f"cannot create the folder {str(out)!r}: {exc}") from None
    storage = args.storage or f"sqlite:///{(out / 'tune.db').resolve()}"
    settings = TuneSettings(
        spec=base,
        space=space_json,
        metric=metric,
        direction=direction,
        trials=args.trials,
        storage=storage,
        study=args.study or base["name"],
        out=str(out),
        pruner=args.pruner,
        heartbeat=args.heartbeat,
        data_path=data_path,
        data_options={
            "x_key": args.x_key,
            "y_key": args.y_key,
            "label_column": args.label_column,
        },
    )
    check_search(settings, space)
    save_search_file(
        out,
        storage=storage,
        study=settings.study,
        metric=metric,
        direction=direction,
        paths=space.paths,
    )
    study = run_search(settings, args.jobs)
    csv_path = write_trials_csv(study, space.paths, out / "trials.csv")
    best = best_trial(study)
    spec_path, ckpt_path = write_best(study, settings)
    shown = ", ".join(f"{p}={_short(best.params[p])}" for p in space.paths if p in best.params)
    print(f"best trial {best.number}: {metric} {best.value:.4f}: {shown}")
    print(f"wrote {spec_path}, {ckpt_path}, {csv_path}")
    if args.plot:
        for path in plot_search(study, out, metric, direction):
            print(f"saved plot {path}")
    return 0


def _search_data(args: argparse.Namespace, data: Any) -> tuple[str | dict[str, Any], str]:
    """The spec's ``data`` (a source, or the object naming its label column and split) with
    its path made absolute, so that every trial, and ``best.json`` wherever it is moved,
    reads the file ``modular-nn train SPEC`` reads: the spec's path is relative to the
    spec's folder; ``--data`` (from the working directory) replaces it and keeps the
    object's other keys. Also the path as given, for the study's fingerprint."""
    from modular_nn.cli.data_plan import spec_source
    from modular_nn.data.location import resolve_source

    source, options = spec_source(data)
    if args.data:
        given, source = args.data, resolve_source(args.data)
    elif source:
        given, source = source, resolve_source(source, Path(args.spec).parent)
    else:
        raise DataError(
            'no data to use: give --data SOURCE or a "data" entry in the spec '
            "(builtin:NAME, or a .npz, .csv or .h5 file)"
        )
    if options is None:
        return source, given
    return {**options.model_dump(mode="json"), "path": source}, given


def _short(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _read_space(path: Path) -> dict:
    from modular_nn.errors import SpecError

    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SpecError(f"space file not found: {str(path)!r}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot read space file {str(path)!r}: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpecError(
            f"invalid JSON in space file {str(path)!r} at line {exc.lineno}, "
            f"column {exc.colno}: {exc.msg}"
        ) from None


def _report(out: Path, plot: bool) -> int:
    from modular_nn.tune import require_optuna
    from modular_nn.tune.report import (
        format_importances,
        format_table,
        load_search_file,
        plot_search,
    )
    from modular_nn.tune.storage import counts, open_storage

    optuna = require_optuna()
    search = load_search_file(out)
    storage = open_storage(search["storage"], 10)
    try:
        study = optuna.load_study(study_name=search["study"], storage=storage)
    except KeyError:
        raise TuneError(
            f"study {search['study']!r} is not in {search['storage']} (named in "
            f"{out / 'tune.json'})"
        ) from None
    trials = study.get_trials(deepcopy=False)
    states = [t.state.name for t in trials]
    print(
        f"study {study.study_name!r}: {sum(map(counts, trials))} trials finished "
        f"({states.count('COMPLETE')} complete, {states.count('PRUNED')} pruned, "
        f"{states.count('FAIL')} failed), {states.count('RUNNING')} running; "
        f"{search['metric']} ({search['direction']})"
    )
    print(format_table(study, search["paths"]))
    try:
        best = study.best_trial
        print(f"best trial {best.number}: {search['metric']} {best.value:.4f}")
    except ValueError:
        print("no trial has completed yet")
    print(format_importances(study))
    if plot:
        for path in plot_search(study, out, search["metric"], search["direction"]):
            print(f"saved plot {path}")
    return 0
