"""Writing an exported file atomically: a temporary file beside the target, then
``os.replace``, as checkpoints are written (``modular_nn.checkpoint.writer``).

On any failure the temporary file is removed and an existing file at the target is
left as it was; a process killed mid-write can leave a stray ``.<name>.<random>.tmp``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

from modular_nn.errors import ExportError


def checked_target(path: str | os.PathLike[str]) -> str:
    """``path`` as a file path whose directory exists (links followed); ``ExportError``
    otherwise. Called before anything is built, so a bad path fails early."""
    try:
        target = os.fspath(path)
    except TypeError:
        raise ExportError(f"expected a file path, received: {path!r}") from None
    if not isinstance(target, str) or not target or "\x00" in target:
        raise ExportError(f"expected a file path as text, without NUL, received: {path!r}")
    if os.path.islink(target):  # write the file it points to, as open() would
        target = os.path.realpath(target)
    if os.path.isdir(target):
        raise ExportError(f"cannot write {target!r}: it is a directory")
    directory = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(directory):
        raise ExportError(f"cannot write {target!r}: directory {directory!r} does not exist")
    return target


def write_bytes_atomically(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path``, replacing any file there only once all of it is on disk."""
    target = checked_target(path)
    directory = os.path.dirname(os.path.abspath(target))
    stem = os.fsencode(os.path.basename(target))[:200].decode(errors="ignore")
    temp = os.path.join(directory, f".{stem}.{secrets.token_hex(6)}.tmp")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(OSError):  # a replaced file keeps its permissions
            os.chmod(temp, stat.S_IMODE(os.stat(target).st_mode))
        os.replace(temp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.remove(temp)
        if isinstance(exc, OSError):
            raise ExportError(f"cannot write {target!r}: {exc}") from exc
        raise
    return Path(target)
