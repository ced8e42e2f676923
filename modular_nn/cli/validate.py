"""``modular-nn validate SPEC...``: check specs; exit 0 if all are valid, 1 otherwise."""

from __future__ import annotations

import argparse
import sys

from modular_nn.errors import SpecError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("validate", help="validate one or more spec files")
    parser.add_argument("specs", nargs="+", metavar="SPEC", help="spec files (JSON)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from modular_nn.spec.loading import load_spec

    failed = 0
    for path in args.specs:
        try:
            load_spec(path)  # JSON text (starting with "{") or a path, as load_spec decides
        except SpecError as exc:
            failed += 1
            print(f"{path}: {exc}", file=sys.stderr)
        else:
            print(f"{path}: OK")
    return 1 if failed else 0
