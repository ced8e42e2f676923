"""Where a data source's file is: relative paths, and what to say when it is missing.

A spec's ``data`` path is relative to the spec file's folder (as an editor
resolves ``$schema``); a path given on the command line (``--data``) is
relative to the working directory. ``resolve_source`` makes the path of a
source absolute against one or the other, keeping its prefix (``text:``,
``images:``) and its query (``?label=...``); ``builtin:NAME`` has no path.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

from modular_nn.errors import DataError

#: sources whose path follows a prefix (``builtin:`` names a dataset, not a file)
PATH_PREFIXES = ("text:", "images:")
BUILTIN_PREFIX = "builtin:"


def split_source(source: str) -> tuple[str, str, str]:
    """``"text:a/b.txt"`` to ``("text:", "a/b.txt", "")``, ``"d.csv?label=y"`` to
    ``("", "d.csv", "?label=y")``; a file whose name holds ``?`` keeps it."""
    prefix = next((p for p in PATH_PREFIXES if source.startswith(p)), "")
    rest = source[len(prefix) :]
    if "?" in rest and not Path(rest).exists():
        path, _, query = rest.partition("?")
        return prefix, path, "?" + query
    return prefix, rest, ""


def is_builtin(source: str) -> bool:
    return source.startswith(BUILTIN_PREFIX)


def resolve_source(source: str, folder: str | os.PathLike[str] | None = None) -> str:
    """``source`` with its path made absolute: against ``folder`` (a spec's folder) or,
    without one, the working directory. ``builtin:NAME`` is returned as it is."""
    if is_builtin(source):
        return source
    prefix, path, query = split_source(source)
    if not path:
        return source
    base = Path(folder) if folder is not None else Path.cwd()
    absolute = Path(os.path.abspath(base / Path(path).expanduser()))
    return f"{prefix}{absolute}{query}"


def source_path(source: str) -> Path | None:
    """The file (or folder) a source names, without prefix and query; None for a built-in."""
    if is_builtin(source):
        return None
    return Path(split_source(source)[1])


def near_names(path: Path, limit: int = 3) -> list[str]:
    """Names in ``path``'s folder close to its name (``difflib``), closest first."""
    try:
        names = os.listdir(path.parent if str(path.parent) else ".")
    except OSError:
        return []
    return difflib.get_close_matches(path.name, names, n=limit, cutoff=0.6)


def missing_message(path: Path, what: str = "data file") -> str:
    """``data file not found: /abs/path``, with the names near it in its folder (or the
    first missing folder on the way)."""
    absolute = Path(os.path.abspath(path))
    message = f"{what} not found: {str(absolute)!r}"
    folder = absolute.parent
    if not folder.is_dir():
        while not folder.is_dir() and folder != folder.parent:
            folder = folder.parent
        missing = absolute.relative_to(folder).parts[0]
        return f"{message} (the folder {str(folder / missing)!r} does not exist)"
    near = near_names(absolute)
    if near:
        return f"{message}; did you mean {' or '.join(repr(n) for n in near)} in {str(folder)!r}?"
    return message


def require_file(path: Path, what: str = "data file") -> None:
    """``DataError`` unless ``path`` is a file: its absolute path, near names, or that it
    is a folder."""
    if path.is_file():
        return
    if path.is_dir():
        raise DataError(f"{what}: expected a file, received a directory: {str(path)!r}")
    raise DataError(missing_message(path, what))
