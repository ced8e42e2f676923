"""What ``train``, ``evaluate`` and ``predict`` share: data options and loading.

A model with several inputs or outputs reads ``.npz`` and ``.h5`` files whose
arrays are named after them (``modular_nn.data.layout``); ``--x-key`` and
``--y-key`` then choose nothing, and CSV files are refused.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from modular_nn.data import BatchSource, Dataset, load_data
from modular_nn.data.sources import value_rows
from modular_nn.data.text import TEXT_PREFIX, load_text
from modular_nn.errors import DataError

if TYPE_CHECKING:
    from modular_nn.model.model import Model


def add_data_options(parser: argparse.ArgumentParser) -> None:
    """``--x-key``, ``--y-key`` and ``--label-column``, for file sources."""
    group = parser.add_argument_group(
        "data files",
        "A model with several inputs or outputs reads .npz/.h5 arrays named after them.",
    )
    group.add_argument(
        "--x-key",
        metavar="NAME",
        help="array (.npz) or dataset (.h5) of inputs (default X, or the input's name)",
    )
    group.add_argument(
        "--y-key",
        metavar="NAME",
        help="array (.npz) or dataset (.h5) of labels (default y, or the output's name)",
    )
    group.add_argument(
        "--label-column",
        metavar="NAME|INDEX",
        help="label column of a .csv, by header name or index (default: the last column)",
    )


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer, received: {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, received: {value}")
    return value


def load_dataset(
    args: argparse.Namespace,
    source: str | None,
    model: Model,
    *,
    spec_hint: bool = True,
    label: str | int | None = None,
    class_names: list[str] | None = None,
) -> Dataset:
    """Load ``source`` (``--data`` or the spec's ``data``) arranged for ``model``: its
    inputs' shapes, and dicts keyed by name where it has several inputs or outputs.
    ``--label-column`` wins over ``label``; a CSV's label names are encoded with
    ``class_names`` when given (``modular_nn.data.files.read_csv_table``)."""
    if not source:
        where = ' or a "data" entry in the spec' if spec_hint else ""
        raise DataError(
            f"no data to use: give --data SOURCE{where} (builtin:NAME, text:PATH, or a .npz, "
            ".csv or .h5 file)"
        )
    if source.startswith(TEXT_PREFIX):  # encoded with the vocabulary of a model trained on text
        return load_text(
            source,
            model.input_shapes,
            vocabulary=model.vocabulary,
            output_shape=model.output_shapes,
        )
    return load_data(
        source,
        x_key=args.x_key,
        y_key=args.y_key,
        label_column=args.label_column if args.label_column is not None else label,
        inputs=model.input_shapes,
        outputs=model.output_names,
        class_names=class_names,
    )


def sample_count(x: Any) -> int:
    """The number of samples of inputs: an array, a dict of arrays, or a ``BatchSource``."""
    return len(x) if isinstance(x, BatchSource) else value_rows(x)


def accuracies(results: dict[str, float]) -> str:
    """The accuracies among evaluation ``results`` as percentages: ``accuracy: 97.50%``,
    or for several outputs ``digit_accuracy: 98.06%, even_accuracy: 99.17%``; "" if none."""
    return ", ".join(f"{k}: {v:.2%}" for k, v in results.items() if k.endswith("accuracy"))
