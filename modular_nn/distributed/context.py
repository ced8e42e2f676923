"""The data-parallel run in progress, for the few layers that reduce across processes
(``batch_norm`` with ``sync``). A leaf module: importing it never imports MPI."""

from __future__ import annotations

from typing import Any

#: the ``World`` of the distributed fit or evaluate in progress, or None
_active: Any = None


def active_world() -> Any:
    """The ``World`` of the run in progress (None outside a distributed fit/evaluate)."""
    return _active


def set_active_world(world: Any) -> None:
    global _active
    _active = world
