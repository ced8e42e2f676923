"""Which data ``train`` and ``evaluate`` use, where its path resolves, and how it splits.

- ``--data`` is relative to the working directory; the spec's ``data`` to the
  spec file's folder. A model resumed or evaluated without them reads the file
  its checkpoint records (``/data/source``: the absolute path, or the path as
  given from the working directory if the file moved, with a note).
- The spec's ``data`` object names the label column and a test and validation
  split (``modular_nn.data.split``); command-line options win over it.
- Labels that are names become class indices; the model keeps the names.

Every evaluation says which samples it scored (``describe``).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modular_nn.cli.data_options import load_dataset, sample_count
from modular_nn.data.dataset import Dataset, num_samples
from modular_nn.data.location import is_builtin, resolve_source, source_path
from modular_nn.data.split import DataRecord, Split, apply_split, class_of_rows, split_rows
from modular_nn.errors import DataError
from modular_nn.metrics import CLASSIFICATION_TASKS
from modular_nn.spec.model_spec import DataSpec

if TYPE_CHECKING:
    from modular_nn.model.model import Model


def spec_source(data: str | DataSpec | None) -> tuple[str | None, DataSpec | None]:
    """The source string of a spec's ``data`` and its options (None for the string form)."""
    if isinstance(data, DataSpec):
        return data.path, data
    return data, None


@dataclass(frozen=True)
class TrainingData:
    """What ``train`` fits on: the dataset (its test part held out), the validation
    part of the split (or None), and the record the checkpoint keeps."""

    dataset: Dataset
    validation: tuple[Any, Any] | None
    record: DataRecord
    resolved: str


def training_data(args: argparse.Namespace, model: Model, spec_path: str | None) -> TrainingData:
    """Load, encode and split the data ``train`` uses for ``model`` (new or resumed)."""
    source, options = spec_source(model.data)
    record = model.data_record
    if args.data:
        given, resolved = args.data, resolve_source(args.data)
    elif source and spec_path is not None:
        given, resolved = source, resolve_source(source, Path(spec_path).parent)
    elif record is not None:  # resumed from a checkpoint alone: the file it recorded
        given, resolved = record.source, recorded_source(record)
    else:
        given, resolved = source, resolve_source(source) if source else None
    label = options.label if options is not None else None
    if args.label_column is None and label is None and record is not None:
        label = record.label
    dataset = load_dataset(args, resolved, model, label=label, class_names=model.class_names)
    dataset = replace(dataset, name=str(given))  # as the user wrote it
    if model.epochs_done:  # resumed: the labels it was trained on
        check_class_names(model, dataset)
    samples = num_samples(dataset.x_train)
    test = options.test_split if options is not None else 0.0
    validation = 0.0
    if options is not None:
        given_split = args.validation_split
        validation = options.validation_split if given_split is None else given_split
    split = None
    if test or validation:
        split = _split(model, dataset, resolved, test, validation, options)
    parts, validation_data = (dataset, None) if split is None else apply_split(dataset, split)
    if model.class_names is None and dataset.class_names is not None:
        model.class_names = list(dataset.class_names)
    label_used = args.label_column if args.label_column is not None else label
    record = DataRecord(str(given), str(resolved), label_used, samples, split)
    return TrainingData(parts, validation_data, record, str(resolved))


def _split(
    model: Model,
    dataset: Dataset,
    resolved: str | None,
    test: float,
    validation: float,
    options: DataSpec | None,
) -> Split:
    """The recorded split when resuming on the same data; a new seeded one otherwise."""
    record = model.data_record
    if test and dataset.has_test:
        raise DataError(
            f"{dataset.name} has its own test split; test_split applies to data files "
            "(.csv, .npz): remove it from the spec's data"
        )
    if record is not None and record.split is not None and record.path == resolved:
        recorded = record.split
        if (recorded.test_split, recorded.validation_split) == (test, validation):
            return recorded
    stratify = options.stratify if options is not None else None
    classes = None
    if stratify is not False:
        classes = class_of_rows(dataset.y_train)
        if stratify is None and not _classification(model):
            classes = None
        elif stratify and classes is None:
            raise DataError(
                f"stratify is true, but the labels of {dataset.name} are not classes (integers, "
                "names or one-hot rows of one output); set stratify to false"
            )
    return split_rows(
        num_samples(dataset.x_train),
        test=test,
        validation=validation,
        seed=model.seed,
        classes=classes,
    )


def _classification(model: Model) -> bool:
    heads = model.heads.heads
    return len(heads) == 1 and heads[0].loss.task in CLASSIFICATION_TASKS


def check_class_names(model: Model, dataset: Dataset) -> None:
    """A model trained on numeric labels cannot take labels that are names."""
    if model.class_names is None and dataset.class_names is not None:
        shown = ", ".join(repr(n) for n in dataset.class_names[:5])
        raise DataError(
            f"the labels of {dataset.name} are names ({shown}), but this model was trained "
            "on numeric labels and knows no class names; give labels as class indices"
        )


def recorded_source(record: DataRecord) -> str:
    """The recorded data file: its absolute path, or if it moved, the path as given from
    the working directory (with a note); ``DataError`` naming both when neither exists."""
    if is_builtin(record.path) or Path(source_path(record.path) or "").exists():
        return record.path
    here = resolve_source(record.source)
    here_path = source_path(here)
    if here_path is not None and here_path.exists():
        print(
            f"note: the recorded data file {record.path} is not there any more; using "
            f"{here_path} ({record.source!r} from the working directory)",
            file=sys.stderr,
        )
        return here
    raise DataError(
        f"the data this model was trained on is gone: {record.path!r} does not exist, nor "
        f"{str(here_path)!r} ({record.source!r} from the working directory); "
        "give the file with --data"
    )


@dataclass(frozen=True)
class EvaluationData:
    """The inputs and labels ``evaluate`` scores, and which samples they are."""

    x: Any
    y: Any
    description: str


def evaluation_data(args: argparse.Namespace, model: Model) -> EvaluationData:
    """``--data`` (all of a file, a built-in's test split), or else the recorded data's
    test split (all of it without one), or else the spec's data from the working
    directory (checkpoints without a record)."""
    source, options = spec_source(model.data)
    record = model.data_record
    label = options.label if options is not None else None
    if label is None and record is not None:
        label = record.label
    if args.data:
        name, resolved, split = args.data, resolve_source(args.data), None
    elif record is not None:
        name, resolved, split = record.source, recorded_source(record), record.split
    else:
        name, resolved, split = source, resolve_source(source) if source else None, None
    dataset = load_dataset(
        args, resolved, model, spec_hint=False, label=label, class_names=model.class_names
    )
    check_class_names(model, dataset)
    if split is not None and len(split.test):
        held_out, _ = apply_split(dataset, split)
        x, y = held_out.x_test, held_out.y_test
        return EvaluationData(
            x, y, f"the {sample_count(x):,} held-out samples of the recorded test split of {name}"
        )
    if dataset.has_test:
        x, y = dataset.held_out()
        return EvaluationData(
            x, y, f"the {sample_count(x):,} held-out samples of {name}'s test split"
        )
    x, y = dataset.x_train, dataset.y_train
    note = "no test split"
    if args.data and record is not None and record.split is not None and len(record.split.test):
        note += "; without --data, evaluate scores the model's recorded test split"
    return EvaluationData(x, y, f"all {sample_count(x):,} samples of {name} ({note})")
