"""``modular-nn predict CKPT --input FILE --output FILE``: write a model's outputs.

Inputs: ``.npy``, ``.csv`` (every column a feature, unless ``--label-column``
names one to drop), ``.npz`` (array ``X``), ``.h5`` (dataset ``X``, read in
batches), ``builtin:NAME`` (its test split) or ``text:PATH`` (every window of a
text, encoded with the vocabulary of the model). A model with several inputs
reads ``.npz``/``.h5`` arrays named after them (``left``, ``right``).

Outputs: ``.npy`` (the outputs' full shape), ``.csv`` (one line per sample,
columns ``output_0``, ...) or ``.npz`` (one array per output, named after it).
A model with several outputs writes ``.npz`` only.

``--labels``: for a model trained on labels that were names (its checkpoint's
``/data/class_names``), the predicted class's name per sample instead: a
``.csv`` with a column ``label``, or a ``.npy`` of strings (``.npz``: an array
of strings named after the output). The class is the largest output, or for one
output unit, the second class when it is above 0.5 (0 with ``from_logits``).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path
from typing import Any

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
    parser.add_argument(
        "--labels",
        action="store_true",
        help="write each sample's predicted class name (a model trained on named labels) "
        "instead of the outputs",
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
    if args.labels:
        _check_labels(model, args.checkpoint)
    predicted = model.predict(x, batch_size=args.batch_size)
    if args.labels:
        labels = predicted_names(model, predicted)
        write_labels(labels, output, names[0])
        shown = ", ".join(f"{n} {c:,}" for n, c in zip(*np.unique(labels, return_counts=True)))
        print(f"wrote {len(labels):,} predicted labels to {output} ({shown})")
        return 0
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


def _check_labels(model: object, checkpoint: str) -> None:
    if getattr(model, "class_names", None) is None:
        raise DataError(
            f"--labels needs class names, and {checkpoint} has none (its model was not "
            "trained on a CSV whose labels are names); leave --labels out to write the outputs"
        )
    if len(model.output_names) > 1:  # type: ignore[attr-defined]
        raise DataError("--labels needs a model with one output; this one has several")


def predicted_names(model: Any, predicted: np.ndarray) -> np.ndarray:
    """The class name of each sample's prediction (a NumPy array of strings)."""
    names = list(model.class_names)
    flat = predicted.reshape(predicted.shape[0], -1)
    if flat.shape[1] == 1:
        logits = any(getattr(head.loss.config, "from_logits", False) for head in model.heads.heads)
        index = (flat[:, 0] > (0.0 if logits else 0.5)).astype(np.int64)
    else:
        index = flat.argmax(axis=1)
    if index.size and int(index.max()) >= len(names):
        raise DataError(
            f"the model predicts class {int(index.max())}, but it knows {len(names)} class "
            f"names ({', '.join(map(repr, names))}); its output has more units than classes"
        )
    return np.array(names, dtype=str)[index]


def write_labels(labels: np.ndarray, path: Path, name: str) -> None:
    """Class names as ``.csv`` (a ``label`` column), ``.npy`` or ``.npz`` of strings."""
    try:
        suffix = path.suffix.lower()
        if suffix == ".csv":
            with open(path, "w", newline="", encoding="utf-8") as f:
                writer = csv.writer(f)
                writer.writerow(["label"])
                writer.writerows([label] for label in labels.tolist())
        elif suffix == ".npy":
            with open(path, "wb") as f:
                np.save(f, labels)
        else:
            with open(path, "wb") as f:
                np.savez(f, **{name: labels})
    except OSError as exc:
        raise DataError(f"cannot write {str(path)!r}: {exc}") from None


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
