"""Entry point of ``modular-nn``: dispatches to one module per command.

A command module defines ``register(subparsers)``, which adds its parser and
sets ``func=run``; ``run(args) -> int`` returns the exit code. Errors of our
own types print one line (``error: ...``) and exit 1, and so does any exception
raised by a plugin's code (the line names the plugin, the layer and the exception);
``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any

from modular_nn.errors import ModularNNError

COMMAND_MODULES = [
    "validate",
    "summary",
    "schema",
    "inspect",
    "train",
    "evaluate",
    "predict",
    "generate",
    "plugins",
    "new_plugin",
    "export",
    "tune",
]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every command registered."""
    parser = argparse.ArgumentParser(
        prog="modular-nn",
        description="Models as JSON: validate, train, evaluate and inspect modular_nn models.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(f"modular_nn.cli.{name}").register(subparsers)
    for command in subparsers.choices.values():  # --debug also works after the command
        command.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks"
        )
    return parser


def _show_warning(message: Any, category: Any, *_: Any, **__: Any) -> None:
    """Warnings (a plugin skipped, ...) as one plain line, not Python's source excerpt."""
    print(f"warning: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    warnings.showwarning = _show_warning
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # train --workers runs it again
    try:
        return int(args.func(args) or 0)
    except ModularNNError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader (``| head``) went away: stop quietly, as Unix tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except Exception as exc:
        from modular_nn.plugin_origin import describe_plugin_failure

        line = None if args.debug else describe_plugin_failure(exc)
        if line is None:
            raise  # not a plugin's: our bug, shown in full
        print(f"error: {line}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
