"""Which names can be one component of an HDF5 path (checkpoint groups and datasets), and
which file names a checkpoint may have.

Kept apart from ``checkpoint`` so that code outside it (the training history, the
``ModelCheckpoint`` callback, the CLI) can apply the rules without importing h5py.
"""

from __future__ import annotations

import os

#: the suffixes (any case) of checkpoint and weights files: they are HDF5 files
HDF5_SUFFIXES = (".h5", ".hdf5")


def link_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be one HDF5 path component, or None when it can."""
    if not isinstance(name, str) or not name or "/" in name or name in (".", ".."):
        return f"expected a name without '/' that is not empty, '.' or '..', received: {name!r}"
    if "\x00" in name:
        return f"expected a name without NUL characters, received: {name!r}"
    return None


def checkpoint_name_problem(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` cannot name a checkpoint (it does not end in .h5 or .hdf5), with the
    name to use instead, or None when it can. A ``.keras``, ``.pt`` or ``.ckpt`` name
    would tell whoever opens the file that it is something it is not."""
    text = os.fspath(path)
    name = os.path.basename(text)
    if name.lower().endswith(HDF5_SUFFIXES):
        return None
    stem, dot, suffix = name.rpartition(".")
    has_suffix = bool(dot and stem) and not {"{", "}"} & set(suffix)
    shown = f"the suffix {'.' + suffix!r}" if has_suffix else "no .h5 suffix"
    better = os.path.join(os.path.dirname(text), (stem if has_suffix else name) + ".h5")
    return (
        f"checkpoints are HDF5 files: expected a name ending in .h5 or .hdf5, received "
        f"{text!r} ({shown}); save to {better!r}"
    )
