"""The registry: what components exist, and which plugin provides each.

Plugins are found once, lazily, from the entry-point group ``modular_nn``
(modular_nn's own built-ins included: they are the ``builtins`` entry point).
Each plugin's hooks are called one plugin at a time, so a plugin that fails to
import, whose hook raises, or that registers something invalid is skipped with
a warning naming its distribution, and the others still load.

Environment:
    MODULAR_NN_STRICT_PLUGINS=1      a plugin failure raises ``PluginError`` instead.
    MODULAR_NN_DISABLE_PLUGINS=a,b   skip the plugins (entry-point or distribution
                                     names) listed.
"""

from __future__ import annotations

import difflib
import os
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pluggy

from modular_nn import hookspecs
from modular_nn.components.activation import Activation
from modular_nn.components.component import Component
from modular_nn.components.initializer import Initializer
from modular_nn.components.layer import Layer
from modular_nn.components.loss import Loss
from modular_nn.components.optimizer import Optimizer
from modular_nn.errors import PluginError

ENTRY_POINT_GROUP = "modular_nn"
KIND_BASES: dict[str, type[Component]] = {
    "layers": Layer,
    "activations": Activation,
    "losses": Loss,
    "optimizers": Optimizer,
    "initializers": Initializer,
}
KINDS = tuple(KIND_BASES)


@dataclass(frozen=True)
class Provider:
    """Who registered a component: the plugin's name and its distribution."""

    plugin: str
    distribution: str | None = None
    version: str | None = None

    def requirement(self) -> str:
        """A pip requirement that brings this provider back (``pkg>=1.0``)."""
        if not self.distribution:
            return self.plugin
        return f"{self.distribution}>={self.version}" if self.version else self.distribution


@dataclass(frozen=True)
class ComponentInfo:
    """One registered component."""

    kind: str
    name: str
    cls: type[Component]
    provider: Provider

    @property
    def config_model(self) -> type:
        """The component's pydantic ``Config`` class."""
        return self.cls.Config


@dataclass
class PluginRecord:
    """A plugin the registry saw: what it provides, or why it failed or was skipped."""

    provider: Provider
    components: dict[str, list[str]] = field(default_factory=dict)
    status: str = "loaded"  # "loaded" | "failed" | "disabled"
    error: str = ""


class UnknownComponentError(PluginError):
    """A name that no plugin registered; lists close matches and what is available."""

    def __init__(self, kind: str, name: object, available: list[str]) -> None:
        self.kind, self.name, self.available = kind, name, available
        self.suggestions = difflib.get_close_matches(str(name), available, n=3, cutoff=0.5)
        label = kind[:-1] if kind.endswith("s") else kind
        if kind == "losses":
            label = "loss"
        hint = ""
        if self.suggestions:
            hint = "did you mean " + " or ".join(repr(s) for s in self.suggestions) + "? "
        super().__init__(
            f"unknown {label} type {name!r}; {hint}available: {', '.join(available) or 'none'}"
        )


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


class Registry:
    """Components by kind and name, filled from plugins on first use."""

    def __init__(self, *, discover: bool = True) -> None:
        self._discover = discover
        self._loaded = False
        self._lock = threading.RLock()
        self._components: dict[str, dict[str, ComponentInfo]] = {kind: {} for kind in KINDS}
        self.plugins: dict[str, PluginRecord] = {}
        self.generation = 0  # bumped on every change; caches built from the registry key on it
        self._pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self._pm.add_hookspecs(hookspecs)

    # ----- discovery ------------------------------------------------------------------
    def ensure_loaded(self) -> None:
        """Discover entry-point plugins once."""
        if self._loaded:
            return
        with self._lock:
            if self._loaded:
                return
            self._loaded = True
            if self._discover:
                self._load_entry_points()

    def _load_entry_points(self) -> None:
        disabled = {
            item.strip()
            for item in os.environ.get("MODULAR_NN_DISABLE_PLUGINS", "").split(",")
            if item.strip()
        }
        seen: set[str] = set()
        for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=_builtins_first):
            dist = getattr(ep, "dist", None)
            provider = Provider(
                plugin=ep.name,
                distribution=dist.metadata["Name"] if dist is not None else None,
                version=dist.version if dist is not None else None,
            )
            key = f"{provider.distribution}:{ep.name}"
            if key in seen:  # the same distribution seen twice on sys.path
                continue
            seen.add(key)
            if ep.name in disabled or (provider.distribution or "") in disabled:
                self.plugins[ep.name] = PluginRecord(provider, status="disabled")
                continue
            try:
                plugin = ep.load()
            except Exception as exc:  # noqa: BLE001 - isolate any plugin failure
                self._fail(provider, f"could not import {ep.value}: {type(exc).__name__}: {exc}")
                continue
            self.register_plugin(plugin, provider=provider)

    def _fail(self, provider: Provider, message: str) -> None:
        self.plugins[provider.plugin] = PluginRecord(provider, status="failed", error=message)
        who = provider.distribution or provider.plugin
        text = f"modular_nn plugin {provider.plugin!r} from {who} failed and was skipped: {message}"
        if _flag("MODULAR_NN_STRICT_PLUGINS"):
            raise PluginError(text)
        warnings.warn(text, RuntimeWarning, stacklevel=3)

    # ----- registration -----------------------------------------------------------------
    def register_plugin(self, plugin: Any, *, provider: Provider | str | None = None) -> bool:
        """Register a plugin object or module and run its hooks.

        Returns False (after a warning, or ``PluginError`` in strict mode) when
        the plugin fails; nothing it registered is kept in that case. Two
        providers registering one name raise ``PluginError`` naming both.
        """
        self.ensure_loaded()
        if provider is None or isinstance(provider, str):
            name = provider or getattr(plugin, "__name__", None) or type(plugin).__name__
            provider = Provider(plugin=name)
        with self._lock:
            try:
                self._pm.register(plugin, name=provider.plugin)
            except Exception as exc:  # noqa: BLE001
                self._fail(provider, f"invalid hook implementation: {exc}")
                return False
            staged: list[ComponentInfo] = []
            try:
                for kind in KINDS:
                    caller = getattr(self._pm.hook, f"register_{kind}")
                    for impl in caller.get_hookimpls():
                        if impl.plugin is plugin:
                            impl.function(register=self._stager(kind, provider, staged))
            except PluginError as exc:
                self._pm.unregister(plugin)
                self._fail(provider, str(exc))
                return False
            except Exception as exc:  # noqa: BLE001
                self._pm.unregister(plugin)
                self._fail(provider, f"a hook raised {type(exc).__name__}: {exc}")
                return False
            self._commit(plugin, provider, staged)
            return True

    def _stager(
        self, kind: str, provider: Provider, staged: list[ComponentInfo]
    ) -> Callable[..., None]:
        base = KIND_BASES[kind]

        def register(cls: Any, name: str | None = None) -> None:
            if not isinstance(cls, type) or not issubclass(cls, base):
                raise PluginError(
                    f"register_{kind} expected a subclass of modular_nn.{base.__name__}, "
                    f"received: {cls!r}"
                )
            type_name = name or cls.type_name
            if not isinstance(type_name, str) or not type_name:
                raise PluginError(f"{cls.__name__} has no type_name and no name was given")
            staged.append(ComponentInfo(kind, type_name, cls, provider))

        return register

    def _commit(self, plugin: Any, provider: Provider, staged: list[ComponentInfo]) -> None:
        for info in staged:
            existing = self._components[info.kind].get(info.name)
            if existing is not None and existing.provider != provider:
                self._pm.unregister(plugin)
                raise PluginError(
                    f"{info.kind[:-1]} name {info.name!r} is registered twice: by "
                    f"{_describe(existing.provider)} and by {_describe(provider)}; "
                    "uninstall or disable one of them (MODULAR_NN_DISABLE_PLUGINS)"
                )
        record = PluginRecord(provider)
        for info in staged:
            self._components[info.kind][info.name] = info
            record.components.setdefault(info.kind, []).append(info.name)
        self.plugins[provider.plugin] = record
        self.generation += 1

    def unregister_plugin(self, name: str) -> None:
        """Remove a plugin (by its provider's plugin name) and everything it registered."""
        with self._lock:
            plugin = self._pm.get_plugin(name)
            if plugin is not None:
                self._pm.unregister(plugin)
            for kind in KINDS:
                for comp_name, info in list(self._components[kind].items()):
                    if info.provider.plugin == name:
                        del self._components[kind][comp_name]
            self.plugins.pop(name, None)
            self.generation += 1

    # ----- lookup ------------------------------------------------------------------------
    def names(self, kind: str) -> list[str]:
        """Sorted names of every registered component of ``kind``."""
        self.ensure_loaded()
        return sorted(self._kind(kind))

    def get(self, kind: str, name: str) -> ComponentInfo:
        """The component ``name`` of ``kind``, or ``UnknownComponentError`` (a PluginError)."""
        self.ensure_loaded()
        components = self._kind(kind)
        info = components.get(name) if isinstance(name, str) else None
        if info is None:
            raise UnknownComponentError(kind, name, sorted(components))
        return info

    def create(self, kind: str, ref: str | dict[str, Any]) -> Any:
        """Instantiate a component from a name or ``{"type": name, **options}``."""
        if isinstance(ref, str):
            ref = {"type": ref}
        options = dict(ref)
        info = self.get(kind, options.pop("type"))
        return info.cls(**options)

    def _kind(self, kind: str) -> dict[str, ComponentInfo]:
        if kind not in self._components:
            raise PluginError(
                f"unknown component kind {kind!r}; expected one of {', '.join(KINDS)}"
            )
        return self._components[kind]


def _describe(provider: Provider) -> str:
    if provider.distribution:
        return f"{provider.distribution} {provider.version or ''}".strip()
    return f"plugin {provider.plugin!r}"


def _builtins_first(ep: metadata.EntryPoint) -> tuple[int, str]:
    return (0 if ep.value == "modular_nn.builtins" else 1, ep.name)


_registry: Registry | None = None


def get_registry() -> Registry:
    """The process-wide registry (discovery runs on first use)."""
    global _registry
    if _registry is None:
        _registry = Registry()
    _registry.ensure_loaded()
    return _registry


def available(kind: str) -> list[str]:
    """Names of the registered components of ``kind`` ("layers", "activations", ...)."""
    return get_registry().names(kind)


@contextmanager
def use_registry(registry: Registry) -> Iterator[Registry]:
    """Make ``registry`` the process-wide one inside the ``with`` block (tests, schema export)."""
    global _registry
    previous = _registry
    _registry = registry
    try:
        yield registry
    finally:
        _registry = previous


def builtins_only_registry() -> Registry:
    """A registry holding only modular_nn's built-in components (no entry-point discovery)."""
    from modular_nn import builtins

    registry = Registry(discover=False)
    registry.register_plugin(builtins, provider=Provider("builtins", "modular-nn", _own_version()))
    return registry


def _own_version() -> str | None:
    try:
        return metadata.version("modular-nn")
    except metadata.PackageNotFoundError:
        return None
