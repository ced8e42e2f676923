"""Which names can be one component of an HDF5 path (checkpoint groups and datasets).

Kept apart from ``checkpoint`` so that code outside it (the training history) can apply
the rule without importing h5py.
"""

from __future__ import annotations


def link_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be one HDF5 path component, or None when it can."""
    if not isinstance(name, str) or not name or "/" in name or name in (".", ".."):
        return f"expected a name without '/' that is not empty, '.' or '..', received: {name!r}"
    if "\x00" in name:
        return f"expected a name without NUL characters, received: {name!r}"
    return None
