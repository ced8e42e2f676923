"""``modular-nn predict CKPT --input FILE --output FILE``: write a model's outputs.

Inputs: ``.npy``, ``.csv`` (every column a feature, unless ``--label-column``
names one to drop), ``.npz`` (array ``X``), ``.h5`` (dataset ``X``, read in
batches) or ``builtin:NAME`` (its test split). Outputs: ``.npy`` (the outputs'
full shape) or ``.csv`` (one line per sample, columns ``output_0``, ...).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from modular_nn.cli.data_options import positive_int
from modular_nn.errors import DataError

OUTPUT_SUFFIXES = (".npy", ".csv")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("predict", help="write a checkpoint's predictions to a file")
    parser.add_argument("checkpoint", metavar="CKPT", help="checkpoint written by train/save")
    parser.add_argument(
        "--input", required=True, metavar="FILE", help="inputs: .npy, .csv, .npz, .h5"
    )
    parser.add_argument("--output", required=True, metavar="FILE", help="outputs: .npy or .csv")
    parser.add_argument(
        "--batch-size", type=positive_int, metavar="N", help="samples per batch (1024)"
    )
    parser.add_argument("--x-key", metavar="NAME", help="input array/dataset name (default X)")
    parser.add_argument(
        "--label-column",
        metavar="NAME|INDEX",
        help="a .csv column to leave out (for example the labels of a training file)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import modular_nn as mnn
    from modular_nn.data import load_inputs

    output = Path(args.output)
    if output.suffix.lower() not in OUTPUT_SUFFIXES:
        raise DataError(
            f"cannot write predictions to {str(output)!r}: expected a file ending in "
            + " or ".join(OUTPUT_SUFFIXES)
        )
    model = mnn.load(args.checkpoint)
    x = load_inputs(
        args.input,
        x_key=args.x_key,
        label_column=args.label_column,
        input_shape=model.input_shape,
    )
    predictions = model.predict(x, batch_size=args.batch_size)
    write_predictions(predictions, output)
    shape = tuple(predictions.shape[1:])
    print(f"wrote {predictions.shape[0]:,} predictions of shape {shape} to {output}")
    return 0


def write_predictions(predictions: np.ndarray, path: Path) -> None:
    """Save ``predictions`` as ``.npy`` or as ``.csv`` with a header line."""
    try:
        if path.suffix.lower() == ".npy":
            with open(path, "wb") as f:  # np.save(path) would append ".npy" to "X.NPY"
                np.save(f, predictions)
            return
        flat = predictions.reshape(predictions.shape[0], -1)
        header = ",".join(f"output_{i}" for i in range(flat.shape[1]))
        np.savetxt(path, flat, delimiter=",", header=header, comments="", fmt="%.9g")
    except OSError as exc:
        raise DataError(f"cannot write {str(path)!r}: {exc}") from None
