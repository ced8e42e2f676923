"""Where an exception came from in plugin code: the place in a plugin's package
(``raised_at``) and the plugin component whose method raised it (``plugin_at_fault``).

The conformance kit reports a failing property with ``raised_at``; the command line
turns an exception raised by a plugin into one line naming the plugin, the layer and
the exception (``describe_plugin_failure``), the traceback being for ``--debug``.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Iterator
from types import FrameType
from typing import Any


def package_root(origin: Any) -> str | None:
    """The folder of the top-level package that defines ``origin`` (a class or module),
    or the file of a top-level module; None when it has no file."""
    name = origin.__name__ if isinstance(origin, type(sys)) else origin.__module__
    top = sys.modules.get(name.split(".")[0])
    path = getattr(top, "__file__", None)
    if not path:
        return None
    path = os.path.realpath(path)
    return os.path.dirname(path) if os.path.basename(path) == "__init__.py" else path


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, then its cause (or context), and so on."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def raised_at(exc: BaseException, origin: Any) -> str | None:
    """``file:line in function`` of the last traceback frame inside ``origin``'s package,
    looking through the exception and its causes (the innermost one found wins); None
    when no frame is inside it."""
    root = package_root(origin)
    if root is None:
        return None
    found = None
    for current in _chain(exc):
        for frame in traceback.extract_tb(current.__traceback__):
            path = os.path.realpath(frame.filename)
            if path == root or path.startswith(root + os.sep):
                found = frame  # the last frame of the innermost exception that has one
    return None if found is None else f"{found.filename}:{found.lineno} in {found.name}"


def _frames(exc: BaseException) -> list[FrameType]:
    """The frames of the exception's traceback, outermost first (its own, not its causes')."""
    frames, tb = [], exc.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    return frames


def plugin_at_fault(exc: BaseException) -> tuple[Any, Any, Any] | None:
    """``(component, its ComponentInfo, the layer it runs in or None)`` for the innermost
    method of a third-party component (``self`` a component a plugin other than the
    built-ins registered) in the exception's traceback; None when no plugin code is in it."""
    from modular_nn.components.component import Component
    from modular_nn.components.layer import Layer
    from modular_nn.errors import ModularNNError
    from modular_nn.registry import KIND_BASES, get_registry

    def info_of(component: Component) -> Any:
        kind = next((k for k, base in KIND_BASES.items() if isinstance(component, base)), None)
        if kind is None or not component.type_name:
            return None
        try:
            info = get_registry().get(kind, component.type_name)
        except ModularNNError:
            return None
        return info if isinstance(component, info.cls) else None

    selves = [frame.f_locals.get("self") for frame in _frames(exc)]
    components = [s for s in selves if isinstance(s, Component)]
    for index in range(len(components) - 1, -1, -1):
        info = info_of(components[index])
        if info is None or info.provider.plugin == "builtins":
            continue
        layer = next(
            (c for c in reversed(components[: index + 1]) if isinstance(c, Layer) and c.name),
            None,
        )
        return components[index], info, layer
    return None


def describe_plugin_failure(exc: BaseException) -> str | None:
    """One line naming the plugin, the layer and the exception, when plugin code raised
    ``exc``; None otherwise."""
    try:
        found = plugin_at_fault(exc)
    except Exception:  # noqa: BLE001 - describing must never hide the original error
        return None
    if found is None:
        return None
    from modular_nn.registry import kind_label

    component, info, layer = found
    what = f"{kind_label(info.kind)} {info.name!r}"
    if layer is not None and layer is not component:
        what += f" in layer {layer.name!r} (type {layer.type_name!r})"
    elif layer is not None:
        what = f"layer {layer.name!r} (type {info.name!r})"
    where = raised_at(exc, type(component))
    at = f" at {where}" if where else ""
    return (
        f"{info.provider.describe()} raised {type(exc).__name__} in {what}{at}: {exc} "
        "(run with --debug for the traceback)"
    )


__all__ = ["describe_plugin_failure", "package_root", "plugin_at_fault", "raised_at"]
