"""Writing checkpoint files: atomically, with a checksum on every dataset.

``atomic_write`` fills a temporary file beside the target, closes it, fsyncs
it, ``os.replace``-s it over the target and fsyncs the directory. A process
killed at any point leaves either the old file or the new one, never a mix; a
killed write can leave a stray ``.<name>.<random>.tmp`` beside the target.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Callable
from datetime import datetime, timezone

import h5py
import numpy as np

from modular_nn.checkpoint.format import (
    ATTR_CREATED,
    ATTR_DIGEST,
    ATTR_FORMAT,
    ATTR_FORMAT_VERSION,
    ATTR_KIND,
    ATTR_LIBRARY_VERSION,
    FORMAT_NAME,
    FORMAT_VERSION,
    digest,
)
from modular_nn.errors import CheckpointError
from modular_nn.names import checkpoint_name_problem, link_name_problem


def atomic_write(path: str | os.PathLike[str], fill: Callable[[h5py.File], None]) -> None:
    """Create an HDF5 file at ``path`` with ``fill(file)``, atomically replacing any old one."""
    try:
        target = os.fspath(path)
    except TypeError:
        raise CheckpointError(f"expected a file path, received: {path!r}") from None
    if not isinstance(target, str) or "\x00" in target or not target:
        raise CheckpointError(f"expected a file path as text, without NUL, received: {path!r}")
    if os.path.isdir(target):
        raise CheckpointError(f"cannot write {target!r}: it is a directory")
    problem = checkpoint_name_problem(target)
    if problem:
        raise CheckpointError(f"cannot write {target!r}: {problem}")
    if os.path.islink(target):  # write the file it points to, as open() would
        target = os.path.realpath(target)
    directory = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(directory):
        raise CheckpointError(f"cannot write {target!r}: directory {directory!r} does not exist")
    # the name's first 200 bytes: a name of up to 255 bytes still leaves room for the rest
    stem = os.fsencode(os.path.basename(target))[:200].decode(errors="ignore")
    temp = os.path.join(directory, f".{stem}.{secrets.token_hex(6)}.tmp")
    try:
        # O_EXCL: never clobber anything; mode 0o666 lets the umask decide, as for open(),
        # unless a file is replaced: it keeps that file's permissions
        os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        with h5py.File(temp, "w", libver=("earliest", "v108")) as file:
            fill(file)
        _keep_mode(target, temp)
        _fsync(temp, directory=False)
        os.replace(temp, target)
    except BaseException as exc:
        _remove_quietly(temp)
        if isinstance(exc, (OSError, ValueError)):
            raise CheckpointError(f"cannot write checkpoint {target!r}: {exc}") from exc
        raise
    _fsync(directory, directory=True)


def _keep_mode(target: str, temp: str) -> None:
    """Give ``temp`` the permission bits of the file it will replace, if there is one."""
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        return  # no file there yet
    os.chmod(temp, mode)


def _fsync(path: str, *, directory: bool) -> None:
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        if directory:  # some platforms cannot open directories; the file itself is synced
            return
        raise
    try:
        os.fsync(fd)
    except OSError:
        if not directory:
            raise
    finally:
        os.close(fd)


def _remove_quietly(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


# ----- datasets and attributes -----------------------------------------------------------


def write_header(file: h5py.File, kind: str) -> None:
    """The root attributes every checkpoint file starts with."""
    from modular_nn import __version__

    set_text_attr(file, ATTR_FORMAT, FORMAT_NAME)
    file.attrs.create(ATTR_FORMAT_VERSION, np.int64(FORMAT_VERSION))
    set_text_attr(file, ATTR_KIND, kind)
    set_text_attr(file, ATTR_LIBRARY_VERSION, __version__)
    created = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    set_text_attr(file, ATTR_CREATED, created)


def set_text_attr(obj: h5py.HLObject, name: str, text: str) -> None:
    """A fixed-length UTF-8 string attribute (never a variable-length, object-typed one)."""
    raw = text.encode("utf-8")
    dtype = h5py.string_dtype("utf-8", max(len(raw), 1))
    obj.attrs.create(name, np.array(raw, dtype=dtype))


def write_array(group: h5py.Group, name: str, array: np.ndarray, **attrs: str) -> h5py.Dataset:
    """A numeric dataset with its SHA-256 digest; chunked with fletcher32 when non-empty."""
    _check_path(name)
    data = np.asarray(array, order="C")
    if data.dtype.kind not in "biuf":
        raise CheckpointError(f"cannot save {name!r}: expected a numeric array, got {data.dtype}")
    if data.dtype.byteorder == ">":
        data = data.astype(data.dtype.newbyteorder("<"))
    options = {"chunks": True, "fletcher32": True} if data.ndim and data.size else {}
    dataset = group.create_dataset(name, data=data, **options)
    set_text_attr(dataset, ATTR_DIGEST, digest(data))
    for key, value in attrs.items():
        set_text_attr(dataset, key, value)
    return dataset


def write_int(group: h5py.Group, name: str, value: int) -> h5py.Dataset:
    """A scalar int64 dataset."""
    return write_array(group, name, np.int64(value))


def write_text(group: h5py.Group, name: str, text: str) -> h5py.Dataset:
    """A scalar fixed-length UTF-8 string dataset (JSON text), digest over its bytes."""
    raw = text.encode("utf-8")
    dtype = h5py.string_dtype("utf-8", max(len(raw), 1))
    dataset = group.create_dataset(name, data=np.array(raw, dtype=dtype))
    set_text_attr(dataset, ATTR_DIGEST, digest(raw))
    return dataset


def _check_path(path: str) -> None:
    for part in path.split("/"):
        problem = link_name_problem(part)
        if problem:
            raise CheckpointError(f"cannot save {path!r}: {problem}")
