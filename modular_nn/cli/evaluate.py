"""``modular-nn evaluate CKPT [--data SOURCE]``: loss and metrics of a saved model.

Without ``--data``, the data the model was trained on (recorded in its
checkpoint) is scored on its recorded test split, or all of it without one.
With ``--data``, a built-in dataset is evaluated on its held-out split, a file
on all of it. The output always says which samples were scored. A
model with several outputs reports each output's loss and metrics under its
name (``digit_loss``, ``digit_accuracy``) and their accuracies on a line of
their own.
"""

from __future__ import annotations

import argparse
import json

from modular_nn.cli.data_options import accuracies, add_data_options, positive_int
from modular_nn.cli.data_plan import evaluation_data


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate", help="print the loss and metrics of a checkpoint on a data source"
    )
    parser.add_argument("checkpoint", metavar="CKPT", help="checkpoint written by train/save")
    parser.add_argument(
        "--data",
        metavar="SOURCE",
        help="builtin:NAME (its test split) or a data file, all of it (default: the test "
        "split of the data the model was trained on, recorded in CKPT)",
    )
    parser.add_argument(
        "--batch-size", type=positive_int, metavar="N", help="samples per batch (1024)"
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--report",
        action="store_true",
        help="also print per-class precision, recall, F1 and support, and the confusion "
        "matrix, of each classification output",
    )
    add_data_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import modular_nn as mnn
    from modular_nn.model.callbacks import format_logs

    model = mnn.load(args.checkpoint)
    data = evaluation_data(args, model)
    results = model.evaluate(data.x, data.y, batch_size=args.batch_size)
    if args.json:
        print(json.dumps(results))
        return 0
    print(f"{data.description}: {format_logs(results)}")
    if len(model.output_names) > 1 and accuracies(results):
        print(accuracies(results))
    if args.report:
        print_report(model, data.x, data.y, args.batch_size)
    return 0


def print_report(model: object, x: object, y: object, batch_size: int | None) -> None:
    """``--report``: each classification output's per-class table and confusion matrix."""
    from modular_nn.metrics.report import classification_report

    text = classification_report(model, x, y, batch_size)
    print("\n" + text if text else "no classification output: --report has nothing to add")
