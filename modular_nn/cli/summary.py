"""``modular-nn summary SPEC``: the layer table of a spec (builds it to count parameters),
or with ``--format dot`` its graph as Graphviz DOT (``| dot -Tpng -o model.png``)."""

from __future__ import annotations

import argparse
from pathlib import Path

FORMATS = ("text", "dot")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("summary", help="print a spec's layer table (or its graph)")
    parser.add_argument("spec", metavar="SPEC", help="spec file (JSON)")
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="text: the layer table (default); dot: the graph in Graphviz DOT, "
        "for 'dot -Tpng -o model.png'",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from modular_nn.model.build import build_model

    model = build_model(Path(args.spec))
    if args.format == "dot":
        from modular_nn.model.dot import graph_dot

        print(graph_dot(model), end="")
    else:
        from modular_nn.model.summary import summary_table

        print(summary_table(model))
    return 0
