"""``modular-nn schema``: print the JSON Schema of specs for the components installed now."""

from __future__ import annotations

import argparse
from pathlib import Path

from modular_nn.errors import ModularNNError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "schema", help="print the JSON Schema (draft 2020-12) of model specs"
    )
    parser.add_argument(
        "--builtins-only",
        action="store_true",
        help="only modular_nn's own components (what schemas/model-spec.schema.json holds)",
    )
    parser.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of stdout")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from modular_nn.spec.schema import spec_json_schema_text

    text = spec_json_schema_text(builtins_only=args.builtins_only)
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise ModularNNError(f"cannot write {args.output!r}: {exc.strerror or exc}") from None
    else:
        print(text, end="")
    return 0
