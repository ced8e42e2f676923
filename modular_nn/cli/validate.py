"""``modular-nn validate SPEC...``: check specs; exit 0 if all are valid, 1 otherwise.

Besides the spec itself, the data file a spec's ``data`` names must exist; its
path is relative to the spec file's folder (a spec given as JSON text: to the
working directory). A missing file is reported as an issue at ``data``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from modular_nn.errors import SpecError, SpecIssue


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("validate", help="validate one or more spec files")
    parser.add_argument("specs", nargs="+", metavar="SPEC", help="spec files (JSON)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from modular_nn.spec.loading import load_spec, read_spec_source

    failed = 0
    for path in args.specs:
        try:
            load_spec(path)  # JSON text (starting with "{") or a path, as load_spec decides
        except SpecError as exc:
            issues = exc.issues + _data_issues(path, read_spec_source, exc.issues)
            failed += 1
            print(f"{path}: {SpecError(issues, source=exc.source)}", file=sys.stderr)
            continue
        issues = _data_issues(path, read_spec_source, [])
        if issues:
            failed += 1
            label = None if path.lstrip().startswith("{") else path
            print(f"{path}: {SpecError(issues, source=label)}", file=sys.stderr)
        else:
            print(f"{path}: OK")
    return 1 if failed else 0


def _data_issues(path: str, read: Any, known: list[SpecIssue]) -> list[SpecIssue]:
    """An issue at ``data`` (``data.path``) when the data file it names does not exist."""
    from modular_nn.data.location import missing_message, resolve_source, source_path

    if any(issue.path.split(".")[0] == "data" for issue in known):
        return []  # the entry itself is invalid: that is reported already
    try:
        data = read(path)[0]
    except SpecError:
        return []
    entry = data.get("data") if isinstance(data, dict) else None
    where = "data"
    if isinstance(entry, dict):
        entry, where = entry.get("path"), "data.path"
    if not isinstance(entry, str) or not entry:
        return []
    folder = None if path.lstrip().startswith("{") else Path(path).parent
    located = source_path(resolve_source(entry, folder))
    if located is None or located.exists():
        return []
    hint = "paths in a spec are relative to the spec file's folder"
    what = "data folder" if entry.startswith("images:") else "data file"
    return [SpecIssue(where, missing_message(located, what), hint)]
