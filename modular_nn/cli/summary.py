"""``modular-nn summary SPEC``: the layer table of a spec (builds it to count parameters)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("summary", help="print a spec's layer table")
    parser.add_argument("spec", metavar="SPEC", help="spec file (JSON)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from modular_nn.model.build import build_model

    print(build_model(Path(args.spec)).summary())
    return 0
