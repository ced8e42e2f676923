"""``modular-nn train SPEC``: train a model on a data source and write its checkpoint.

Prints a progress bar per epoch on a terminal (one plain line per epoch
otherwise) with training and validation loss and metrics, then the loss and
metrics on the held-out split when the dataset has one (the built-ins do),
every output's for a model with several, and writes the checkpoint. Models
with several inputs or outputs read .npz/.h5 arrays named after them.
``--resume CKPT`` continues a saved run exactly, up to ``--epochs`` (or the
spec's) epochs in total; a run that has already done them (or that its early
stopping ended) is an error, and its checkpoint is left as it is.
"""

from __future__ import annotations

import argparse
import glob
import time
from pathlib import Path

from modular_nn.cli.data_options import (
    accuracies,
    add_data_options,
    positive_int,
    sample_count,
)
from modular_nn.cli.data_plan import training_data
from modular_nn.cli.workers import add_workers_option, join_mpi_run, launch_workers
from modular_nn.data.text import TextDataset
from modular_nn.errors import CheckpointError, TrainingError
from modular_nn.model.model import Model
from modular_nn.names import checkpoint_name_problem

#: Spec entries that must agree between SPEC and a checkpoint to resume from.
_SAME_MODEL = (
    "input_shape",
    "inputs",
    "dtype",
    "blocks",
    "layers",
    "outputs",
    "loss",
    "loss_weights",
    "optimizer",
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a model from a spec and write a checkpoint",
        description='Train a model from SPEC on --data (or the spec\'s "data") and write '
        "the checkpoint. Data sources: builtin:NAME (digits, moons, spirals, xor), .npz, "
        ".csv or .h5 files (.h5 is read in batches), text:PATH (a UTF-8 text file as "
        "windows and their next character; the model keeps the vocabulary for generate).",
    )
    parser.add_argument(
        "spec", nargs="?", metavar="SPEC", help="model spec (JSON); optional with --resume"
    )
    parser.add_argument(
        "--data", metavar="SOURCE", help="builtin:NAME or a data file (default: the spec's data)"
    )
    parser.add_argument(
        "--epochs",
        type=positive_int,
        metavar="N",
        help="epochs of the whole run (default: the spec's); --resume continues up to N",
    )
    parser.add_argument("--batch-size", type=positive_int, metavar="N", help="samples per step")
    parser.add_argument(
        "--validation-split",
        type=float,
        metavar="F",
        help="fraction of the training data held out for validation, in [0, 1)",
    )
    parser.add_argument("--seed", type=int, metavar="N", help="override the spec's seed")
    parser.add_argument(
        "--out",
        metavar="CKPT",
        help="checkpoint to write (default: SPEC's file name with .h5, or the --resume file)",
    )
    parser.add_argument("--resume", metavar="CKPT", help="continue the run saved in CKPT")
    parser.add_argument(
        "--checkpoint-every",
        type=positive_int,
        metavar="N",
        help="also save OUT-epochNNNN.h5 every N epochs",
    )
    parser.add_argument(
        "--keep", type=positive_int, metavar="K", help="keep only the last K periodic checkpoints"
    )
    parser.add_argument(
        "--plot", metavar="PNG", help="draw loss and metrics per epoch (needs matplotlib)"
    )
    parser.add_argument(
        "--quiet", "-q", action="store_true", help="no per-epoch output, only the results"
    )
    add_workers_option(parser)
    add_data_options(parser)
    parser.set_defaults(func=run)


def _check_out(out: Path, spec: str | None, data: str | None) -> None:
    """Refuse, before training, an ``out`` that saving would destroy: the spec, the
    training data, or any existing file that is not a modular_nn checkpoint."""
    from modular_nn.checkpoint.reader import open_checkpoint
    from modular_nn.data.files import parse_source

    advice = "; choose another path with --out"
    if spec is not None and Path(spec).resolve() == out.resolve():
        raise TrainingError(f"the checkpoint {out} would overwrite the spec file{advice}")
    if (
        data
        and not data.startswith(("builtin:", "images:"))  # images: a folder, never a file
        and parse_source(data)[0].resolve() == out.resolve()
    ):
        raise TrainingError(f"the checkpoint {out} would overwrite the training data{advice}")
    problem = checkpoint_name_problem(out)
    if problem:
        raise TrainingError(f"--out {str(out)!r}: {problem}")
    if out.exists():
        try:
            with open_checkpoint(out):
                pass
        except CheckpointError as exc:
            raise TrainingError(
                f"{out} exists and saving would replace it, but it is not a checkpoint this "
                f"run can replace ({exc}){advice}"
            ) from None


def _earlier_checkpoints(out: Path, epochs_done: int) -> list[Path]:
    """The periodic files ``OUT-epochNNNN`` of epochs up to ``epochs_done``, oldest first."""
    pattern = glob.escape(out.stem) + "-epoch" + "[0-9]" * 4 + glob.escape(out.suffix)
    found = []
    for path in out.parent.glob(pattern):
        epoch = int(path.stem[-4:])
        if epoch <= epochs_done:
            found.append((epoch, path))
    return [path for _, path in sorted(found)]


def _stopped_early(model: Model) -> int | None:
    """The epoch at which the spec's early stopping ended the run ``model`` holds, if it did."""
    from modular_nn.model.callbacks import EarlyStopping

    early = model.training_config.early_stopping
    if early is None or not model.epochs_done:
        return None
    stopper = EarlyStopping(**early.model_dump())
    return model.history.epoch[-1] if stopper.replay_stops(model.history) else None


def _require_epochs_left(model: Model, resume: str, epochs: int | None) -> None:
    """``TrainingError`` when the run in ``resume`` has nothing left to train: it has done
    ``epochs`` (or its spec's) epochs already, or its early stopping ended it."""
    stopped = _stopped_early(model)
    if stopped is not None:
        raise TrainingError(
            f"{resume} stopped early at epoch {stopped} (its early_stopping): there is nothing "
            "to resume; to train on, resume with a SPEC whose training has no early_stopping "
            "(or a larger patience), or start a new run"
        )
    total = epochs or model.training_config.epochs
    if total <= model.epochs_done:
        given = "--epochs" if epochs else "the spec's training.epochs"
        raise TrainingError(
            f"{resume} has already run {model.epochs_done} epochs and {given} is {total}: "
            f"there is nothing to resume; give --epochs above {model.epochs_done} (the "
            "epochs of the whole run)"
        )


def run(args: argparse.Namespace) -> int:
    from modular_nn.data import BatchSource
    from modular_nn.model.callbacks import ModelCheckpoint, format_logs

    if args.workers is not None:
        return launch_workers(args.workers, args.argv)
    world = join_mpi_run()  # None for one process; under mpiexec only rank 0 writes
    started = time.perf_counter()
    if args.plot:
        from modular_nn.plotting import require_matplotlib

        require_matplotlib()
    if args.spec is None and args.resume is None:
        raise TrainingError("nothing to train: give a SPEC file, or --resume CKPT")
    if args.keep is not None and args.checkpoint_every is None:
        raise TrainingError("--keep K needs --checkpoint-every N")
    model = _resumed_model(args) if args.resume else _new_model(args)
    if args.resume:
        _require_epochs_left(model, args.resume, args.epochs)
    plan = training_data(args, model, args.spec)
    dataset = plan.dataset
    if isinstance(dataset, TextDataset):  # generate encodes prompts with it
        model.vocabulary = list(dataset.vocabulary)
    total = args.epochs or model.training_config.epochs
    remaining = total - model.epochs_done
    out = Path(args.out or args.resume or Path(args.spec).with_suffix(".h5").name)
    _check_out(out, args.spec, plan.resolved)
    for target in (out, Path(args.plot) if args.plot else None):
        if target is not None:  # fail now, not after training, if a folder cannot be made
            _make_parent(target)
    callbacks = []
    if args.checkpoint_every:
        literal = str(out.with_suffix("")).replace("{", "{{").replace("}", "}}")
        suffix = out.suffix.replace("{", "{{").replace("}", "}}")
        saver = ModelCheckpoint(
            literal + "-epoch{epoch:04d}" + suffix, every=args.checkpoint_every, keep=args.keep
        )
        if args.resume:  # the periodic files of the run so far: --keep counts them too
            saver.saved = _earlier_checkpoints(out, model.epochs_done)
        callbacks.append(saver)

    x, y = dataset.x_train, dataset.y_train
    streamed = " (streamed from disk)" if isinstance(x, BatchSource) else ""
    print(
        f"{model.name}: {model.count_params():,} parameters; data {dataset.name}: "
        f"{sample_count(x):,} training samples{streamed}"
    )
    if isinstance(dataset, TextDataset):
        print(f"vocabulary: {len(dataset.vocabulary)} characters (ids 1-{len(dataset.vocabulary)})")
    if plan.record.split is not None:
        print(f"split of {plan.record.source}: {plan.record.split.describe()}")
    if model.class_names is not None:
        names = ", ".join(map(repr, model.class_names))
        print(f"classes: {names} (labels 0-{len(model.class_names) - 1})")
    if model.epochs_done:
        print(f"resuming at epoch {model.epochs_done + 1} of {total}")
    model.fit(
        x,
        y,
        epochs=remaining,
        batch_size=args.batch_size,
        validation_data=plan.validation,
        validation_split=args.validation_split if plan.validation is None else None,
        verbose=0 if args.quiet else "auto",
        callbacks=callbacks,
    )
    seconds = time.perf_counter() - started
    if args.quiet and model.history.epoch:
        last = {k: v[-1] for k, v in model.history.history.items()}
        print(f"last epoch ({model.history.epoch[-1]}): {format_logs(last)}")
    if dataset.has_test:
        x_test, y_test = dataset.held_out()
        results = model.evaluate(x_test, y_test)
        print(f"test ({sample_count(x_test):,} held-out samples): {format_logs(results)}")
        if accuracies(results):
            print(f"held-out {accuracies(results)}")
    if world is not None and world.rank != 0:
        return 0  # rank 0 writes the checkpoint (and the plot)
    model.data_record = plan.record
    model.save(out)
    print(f"saved {out} ({model.epochs_done} epochs, {seconds:.1f}s)")
    if args.plot:
        from modular_nn.plotting import plot_history

        print(f"saved plot {plot_history(model.history, args.plot, title=model.name)}")
    return 0


def _new_model(args: argparse.Namespace) -> Model:
    from modular_nn.model.build import build_model
    from modular_nn.spec.loading import load_spec

    spec = load_spec(Path(args.spec))
    if args.seed is not None:
        spec = load_spec({**spec.model_dump(mode="json"), "seed": args.seed})
    return build_model(spec)


def _resumed_model(args: argparse.Namespace) -> Model:
    """The checkpoint's model; a SPEC given too must describe the same model and then
    supplies the training settings and data."""
    import modular_nn as mnn
    from modular_nn.spec.loading import load_spec

    if args.seed is not None:
        raise TrainingError("--seed cannot change a resumed run: its generator state is saved")
    model = mnn.load(args.resume)
    if args.spec is not None:
        spec = load_spec(Path(args.spec))
        mine, saved = spec.model_dump(mode="json"), model.to_spec().model_dump(mode="json")
        differ = [key for key in _SAME_MODEL if mine.get(key) != saved.get(key)]
        if differ:
            raise TrainingError(
                f"{args.spec} and {args.resume} describe different models (they differ in "
                f"{', '.join(differ)}); resume with the spec the run started from"
            )
        model.training_config, model.data = spec.training, spec.data
    return model


def _make_parent(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TrainingError(f"cannot create the folder of {str(path)!r}: {exc}") from None
