"""What ``train``, ``evaluate`` and ``predict`` share: data options and loading."""

from __future__ import annotations

import argparse
from typing import Any

from modular_nn.data import Dataset, load_data
from modular_nn.errors import DataError


def add_data_options(parser: argparse.ArgumentParser) -> None:
    """``--x-key``, ``--y-key`` and ``--label-column``, for file sources."""
    group = parser.add_argument_group("data files")
    group.add_argument(
        "--x-key", metavar="NAME", help="array (.npz) or dataset (.h5) of inputs (default X)"
    )
    group.add_argument(
        "--y-key", metavar="NAME", help="array (.npz) or dataset (.h5) of labels (default y)"
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
    args: argparse.Namespace, source: str | None, input_shape: Any, *, spec_hint: bool = True
) -> Dataset:
    """Load ``source`` (``--data`` or the spec's ``data``), shaped for ``input_shape``."""
    if not source:
        where = ' or a "data" entry in the spec' if spec_hint else ""
        raise DataError(
            f"no data to use: give --data SOURCE{where} (builtin:NAME, or a .npz, .csv or .h5 file)"
        )
    return load_data(
        source,
        x_key=args.x_key,
        y_key=args.y_key,
        label_column=args.label_column,
        input_shape=input_shape,
    )
