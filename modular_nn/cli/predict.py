"""``modular-nn predict CKPT --input FILE --output FILE``: write a model's outputs.

Inputs: ``.npy``, ``.csv`` (every column a feature, unless ``--label-column``
names one to drop), ``.npz`` (array ``X``), ``.h5`` (dataset ``X``, read in
batches), ``builtin:NAME`` (its test split) or ``text:PATH`` (every window of a
text, encoded with the vocabulary of the model). A model with several inputs
reads ``.npz``/``.h5`` arrays named after them (``left``, ``right``).

Outputs: ``.npy`` (the outputs' full shape), ``.csv`` (one line per sample,
columns ``output_0``, ...) or ``.npz`` (one array per output, named after it).
A model with several outputs writes ``.npz`` only.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from modular_nn.cli.data_options import positive_int
from modular_nn.errors import DataError

OUTPUT_SUFFIXES = (".npy", ".csv", ".npz")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("predict", help="write a checkpoint's predictions to a file")
    parser.add_argument("checkpoint", metavar="CKPT", help="checkpoint written by train/save")
    parser.add_argument(
        "--input",
        required=True,
        metavar="FILE",
        help="inputs: .npy, .csv, .npz, .h5 (several inputs: .npz/.h5 arrays named after them)",
    )
    parser.add_argument(
        "--output",
        required=True,
        metavar="FILE",
        help="outputs: .npy, .csv or .npz (several outputs: .npz, an array per output)",
    )
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
    from modular_nn.data.text import TEXT_PREFIX, load_text

    output = Path(args.output)
    if output.suffix.lower() not in OUTPUT_SUFFIXES:
        raise DataError(
            f"cannot write predictions to {str(output)!r}: expected a file ending in "
            + " or ".join(OUTPUT_SUFFIXES)
        )
    model = mnn.load(args.checkpoint)
    names = model.output_names
    if len(names) > 1 and output.suffix.lower() != ".npz":
        raise DataError(
            f"cannot write predictions to {str(output)!r}: this model has {len(names)} outputs "
            f"({', '.join(map(repr, names))}); expected a file ending in .npz, which holds "
            "one array per output"
        )
    if args.input.startswith(TEXT_PREFIX):  # every window, in the model's own ids
        text = load_text(
            args.input, model.input_shapes, vocabulary=model.vocabulary, held_out=False
        )
        x = text.x_train
    else:
        x = load_inputs(
            args.input,
            x_key=args.x_key,
            label_column=args.label_column,
            inputs=model.input_shapes,
        )
    predicted = model.predict(x, batch_size=args.batch_size)
    arrays = predicted if isinstance(predicted, dict) else {names[0]: predicted}
    write_predictions(predicted, output, names)
    count = next(iter(arrays.values())).shape[0]
    if len(arrays) == 1:
        shape = tuple(predicted.shape[1:])
        print(f"wrote {count:,} predictions of shape {shape} to {output}")
    else:
        shapes = ", ".join(f"{k} {tuple(v.shape[1:])}" for k, v in arrays.items())
        print(f"wrote {count:,} predictions to {output}: {shapes}")
    return 0


def write_predictions(
    predictions: np.ndarray | dict[str, np.ndarray], path: Path, names: list[str] | None = None
) -> None:
    """Save ``predictions`` as ``.npy``, as ``.csv`` with a header line, or as ``.npz`` with
    an array per output (a dict keyed by output name; one array is named ``names[0]``)."""
    try:
        if path.suffix.lower() == ".npz":
            if not isinstance(predictions, dict):
                predictions = {(names or ["output"])[0]: predictions}
            with open(path, "wb") as f:  # np.savez(path) would append ".npz" to "P.NPZ"
                np.savez(f, **predictions)
            return
        if isinstance(predictions, dict):
            raise DataError(
                f"cannot write predictions of several outputs to {str(path)!r}: use .npz"
            )
        if path.suffix.lower() == ".npy":
            with open(path, "wb") as f:  # np.save(path) would append ".npy" to "X.NPY"
                np.save(f, predictions)
            return
        flat = predictions.reshape(predictions.shape[0], -1)
        header = ",".join(f"output_{i}" for i in range(flat.shape[1]))
        np.savetxt(path, flat, delimiter=",", header=header, comments="", fmt="%.9g")
    except OSError as exc:
        raise DataError(f"cannot write {str(path)!r}: {exc}") from None
