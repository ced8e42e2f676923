"""The registry: what components exist, and which plugin provides each.

Plugins are found once, lazily, from the entry-point group ``modular_nn``
(modular_nn's own built-ins included: they are the ``builtins`` entry point,
loaded first). Each plugin is loaded and its hooks are called one plugin at a
time, so a plugin that fails to import, whose hook raises or returns something,
or that registers something invalid is skipped with a ``PluginWarning`` naming
its distribution and the error, is listed as failed (``registry.plugins``), and
the others still load.

Imports run one way: of modular_nn, this module imports only ``hookspecs``,
``errors`` and the component base classes. Components that look other
components up by name (``components.refs``, the layers) import the registry, so
it never imports them, nor ``modular_nn.builtins``: that module is loaded by
name, as any plugin is.

Third-party names carry their plugin's prefix: every name a plugin registers must
start with its entry-point name and a dot (plugin ``extras``: ``extras.highway``).
A name without it (``maxout_dense``, or another plugin's ``other.highway``) makes
that plugin fail as above, with a message giving the name to use; the built-ins are
exempt.

Name clashes are never resolved silently. A third-party plugin may not take a
built-in name (it fails as above). When two third-party distributions register
the same name, the name becomes unusable: looking it up raises ``PluginError``
naming both providers, until one of them is uninstalled or disabled.

Environment:
    MODULAR_NN_STRICT_PLUGINS=1      a plugin failure or clash raises ``PluginError``
                                     instead of warning.
    MODULAR_NN_DISABLE_PLUGINS=a,b   skip the plugins listed, by entry-point name or
                                     distribution name (``modular-nn-extras``).
"""

from __future__ import annotations

import difflib
import os
import re
import sys
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import import_module, metadata
from typing import Any

import pluggy

from modular_nn import hookspecs
from modular_nn.components.activation import Activation
from modular_nn.components.component import Component, ComponentConfig
from modular_nn.components.initializer import Initializer
from modular_nn.components.layer import Layer
from modular_nn.components.loss import Loss
from modular_nn.components.metric import Metric
from modular_nn.components.optimizer import Optimizer
from modular_nn.errors import PluginError, SpecError

ENTRY_POINT_GROUP = "modular_nn"
BUILTINS_MODULE = "modular_nn.builtins"
KIND_BASES: dict[str, type[Component]] = {
    "layers": Layer,
    "activations": Activation,
    "losses": Loss,
    "optimizers": Optimizer,
    "initializers": Initializer,
    "metrics": Metric,
}
KINDS = tuple(KIND_BASES)
HOOK_NAMES = tuple(f"register_{kind}" for kind in KINDS)
#: Kind -> what one component of it is called in messages.
KIND_LABELS = {
    "activations": "activation",
    "initializers": "initializer",
    "losses": "loss",
    "optimizers": "optimizer",
    "layers": "layer",
    "metrics": "metric",
}


class PluginWarning(RuntimeWarning):
    """A plugin failed and was skipped, or two plugins registered one name."""


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

    def describe(self) -> str:
        """``modular-nn-extras 0.1.0 (plugin 'extras')``, for messages."""
        if not self.distribution:
            return f"plugin {self.plugin!r}"
        version = f" {self.version}" if self.version else ""
        return f"{self.distribution}{version} (plugin {self.plugin!r})"


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
        self.suggestions = _suggestions(str(name), available)
        hint = ""
        if self.suggestions:
            hint = "did you mean " + " or ".join(repr(s) for s in self.suggestions) + "? "
        super().__init__(
            f"unknown {kind_label(kind)} type {name!r}; {hint}"
            f"available: {', '.join(available) or 'none'}"
        )


#: a suggestion needs this similarity (difflib's ratio) to the name given ...
SUGGESTION_CUTOFF = 0.6
#: ... and to be within this of the best suggestion's ("dnese": dense 0.8, reshape 0.5)
SUGGESTION_WINDOW = 0.1


def _suggestions(name: str, available: list[str]) -> list[str]:
    """Close matches of ``name``, also by the part after a plugin prefix (``glu`` ->
    ``extras.glu``): at most three, each at least ``SUGGESTION_CUTOFF`` similar and
    nearly as close as the best one, so that a typo suggests the name meant, not
    names that merely share letters."""

    def ranked(candidates: Iterable[str], cutoff: float) -> list[tuple[float, str]]:
        scored = [(difflib.SequenceMatcher(None, name, c).ratio(), c) for c in candidates]
        return [(ratio, c) for ratio, c in scored if ratio >= cutoff]

    short = {entry.rsplit(".", 1)[-1]: entry for entry in available if "." in entry}
    scored = ranked(available, SUGGESTION_CUTOFF) + [
        (ratio, short[s]) for ratio, s in ranked(short, 0.75)
    ]
    if not scored:
        return []
    best = max(ratio for ratio, _ in scored)
    kept = [(-ratio, c) for ratio, c in scored if ratio >= best - SUGGESTION_WINDOW]
    ordered = [c for _, c in sorted(kept)]
    return list(dict.fromkeys(ordered))[:3]


class ComponentConflictError(PluginError):
    """A name registered by two third-party distributions: neither is used."""

    def __init__(self, kind: str, name: str, providers: list[Provider]) -> None:
        self.kind, self.name, self.providers = kind, name, providers
        who = " and by ".join(p.describe() for p in providers)
        plugins = " or ".join(f"MODULAR_NN_DISABLE_PLUGINS={p.plugin}" for p in providers)
        super().__init__(
            f"{kind_label(kind)} name {name!r} is registered by {who}; uninstall one of them "
            f"or disable it with {plugins}"
        )


class BuiltinNameError(ComponentConflictError):
    """A plugin registering a built-in name: refused, the built-in keeps it."""

    def __init__(self, kind: str, name: str, providers: list[Provider]) -> None:
        super().__init__(kind, name, providers)
        plugin = providers[-1].plugin
        self.args = (
            f"{kind_label(kind)} name {name!r} is a built-in name ({providers[-1].describe()} "
            f"registers it too); third-party components take their package's prefix, "
            f"such as '{plugin}.{name}'",
        )


def plugin_prefix(provider: Provider) -> str:
    """The prefix of a plugin's names: its entry-point name and a dot (``extras.``)."""
    return provider.plugin.rsplit(":", 1)[-1] + "."  # "dist:name" when names repeat


def check_prefix(info: ComponentInfo, provider: Provider) -> None:
    """``PluginError`` giving the name to use when ``info``'s name lacks the prefix."""
    prefix = plugin_prefix(provider)
    if info.name.startswith(prefix) and len(info.name) > len(prefix):
        return
    wanted = prefix + (info.name.split(".", 1)[-1] or info.cls.__name__.lower())
    raise PluginError(
        f"{kind_label(info.kind)} name {info.name!r} ({info.cls.__name__}) does not start "
        f"with the plugin's prefix {prefix!r}: third-party names start with the plugin's "
        f"entry-point name and a dot; register it as {wanted!r}"
    )


def kind_label(kind: str) -> str:
    """``"layers"`` -> ``"layer"``, ``"losses"`` -> ``"loss"``."""
    return KIND_LABELS.get(kind, kind)


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no", "off")


def strict_plugins() -> bool:
    """True when ``MODULAR_NN_STRICT_PLUGINS`` asks for plugin failures to be errors."""
    return _flag("MODULAR_NN_STRICT_PLUGINS")


def normalize_distribution(name: str) -> str:
    """PEP 503 normal form: ``Modular_NN.Extras`` -> ``modular-nn-extras``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def disabled_plugins() -> set[str]:
    """The names listed in ``MODULAR_NN_DISABLE_PLUGINS`` (normalized)."""
    raw = os.environ.get("MODULAR_NN_DISABLE_PLUGINS", "")
    return {normalize_distribution(item.strip()) for item in raw.split(",") if item.strip()}


class Registry:
    """Components by kind and name, filled from plugins on first use."""

    def __init__(self, *, discover: bool = True) -> None:
        self._discover = discover
        self._loaded = False
        self._loading = False
        self._load_error: PluginError | None = None
        self._lock = threading.RLock()
        self._components: dict[str, dict[str, ComponentInfo]] = {kind: {} for kind in KINDS}
        self._conflicts: dict[tuple[str, str], list[ComponentInfo]] = {}
        self._builtin_plugins: set[str] = set()
        self.plugins: dict[str, PluginRecord] = {}
        self.generation = 0  # bumped on every change; caches built from the registry key on it
        self._pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self._pm.add_hookspecs(hookspecs)

    # ----- discovery ------------------------------------------------------------------
    def ensure_loaded(self) -> None:
        """Discover entry-point plugins once (a strict-mode failure is raised every time)."""
        if not self._loaded:
            with self._lock:
                if not self._loaded and not self._loading:
                    self._loading = True
                    try:
                        if self._discover:
                            self._load_entry_points()
                    except PluginError as exc:
                        self._load_error = exc
                    finally:
                        self._loading = False
                        self._loaded = True
        if self._load_error is not None:
            raise self._load_error

    def _load_entry_points(self) -> None:
        disabled = disabled_plugins()
        for dist_name, dist, entry_points, error in _discover_entry_points():
            if error is not None:
                provider = Provider(dist_name, dist_name, dist.version if dist else None)
                self._fail(provider, f"unreadable entry points: {error}")
                continue
            for ep in entry_points:
                provider = self._unique_provider(ep, dist_name, dist)
                names = (normalize_distribution(ep.name), normalize_distribution(dist_name))
                if any(name in disabled for name in names):
                    self.plugins[provider.plugin] = PluginRecord(provider, status="disabled")
                    continue
                try:
                    plugin = ep.load()
                except (Exception, SystemExit) as exc:  # noqa: BLE001 - isolate any plugin failure
                    self._fail(
                        provider, f"could not import {ep.value}: {type(exc).__name__}: {exc}"
                    )
                    continue
                self._register(plugin, provider, discovering=True)

    def _unique_provider(
        self, ep: metadata.EntryPoint, dist_name: str, dist: metadata.Distribution
    ) -> Provider:
        """The provider of ``ep``; its plugin name is made unique across distributions."""
        name = ep.name
        if name in self.plugins:
            name = f"{dist_name}:{ep.name}"
        return Provider(plugin=name, distribution=dist_name, version=dist.version)

    def _fail(self, provider: Provider, message: str) -> None:
        self.plugins[provider.plugin] = PluginRecord(provider, status="failed", error=message)
        who = provider.describe()
        self._warn(f"modular_nn plugin from {who} failed and was skipped: {message}")

    def _warn(self, text: str) -> None:
        if strict_plugins():
            raise PluginError(text + " (MODULAR_NN_STRICT_PLUGINS is set)")
        warnings.warn(text, PluginWarning, stacklevel=_outside_modular_nn())

    # ----- registration -----------------------------------------------------------------
    def register_plugin(self, plugin: Any, *, provider: Provider | str | None = None) -> bool:
        """Register a plugin object or module and run its hooks.

        Returns False (after a ``PluginWarning``, or ``PluginError`` in strict
        mode) when the plugin fails; nothing it registered is kept in that
        case. A name that another plugin already registered raises
        ``PluginError`` naming both providers.
        """
        self.ensure_loaded()
        if provider is None or isinstance(provider, str):
            name = provider or getattr(plugin, "__name__", None) or type(plugin).__name__
            provider = Provider(plugin=name)
        return self._register(plugin, provider, discovering=False)

    def _register(self, plugin: Any, provider: Provider, *, discovering: bool) -> bool:
        with self._lock:
            if provider.plugin in self.plugins and self.plugins[provider.plugin].status == "loaded":
                raise PluginError(
                    f"a plugin named {provider.plugin!r} is already registered "
                    f"({self.plugins[provider.plugin].provider.describe()})"
                )
            try:
                self._pm.register(plugin, name=provider.plugin)
            except pluggy.PluginValidationError as exc:
                self._fail(provider, f"invalid hook implementation: {exc}")
                return False
            except Exception as exc:  # noqa: BLE001 - the same object registered twice, ...
                self._fail(provider, f"cannot register it: {type(exc).__name__}: {exc}")
                return False
            try:
                staged = self._run_hooks(plugin, provider)
                if provider.plugin == "builtins" and getattr(plugin, "__name__", "") == (
                    BUILTINS_MODULE
                ):
                    self._builtin_plugins.add(provider.plugin)
                self._check_clashes(staged, provider, discovering)
            except PluginError as exc:
                self._pm.unregister(plugin)
                if not discovering and isinstance(exc, ComponentConflictError):
                    raise
                self._fail(provider, str(exc))
                return False
            except Exception as exc:  # noqa: BLE001 - isolate any plugin failure
                self._pm.unregister(plugin)
                self._fail(provider, f"a hook raised {type(exc).__name__}: {exc}")
                return False
            clashes = self._commit(provider, staged)
        for info in clashes:
            self._warn(str(self.conflict_error(info.kind, info.name)))
        return True

    def _run_hooks(self, plugin: Any, provider: Provider) -> list[ComponentInfo]:
        """Call the plugin's hooks, collecting what they register (nothing is kept yet)."""
        staged: list[ComponentInfo] = []
        callers = self._pm.get_hookcallers(plugin) or []
        for caller in callers:
            if caller.name not in HOOK_NAMES:
                raise PluginError(
                    f"unknown hook {caller.name!r}; modular_nn hooks are {', '.join(HOOK_NAMES)}"
                )
        marked = {caller.name for caller in callers}
        for hook_name in HOOK_NAMES:
            if hook_name not in marked and callable(getattr(plugin, hook_name, None)):
                raise PluginError(
                    f"{hook_name} is not marked @modular_nn.hookimpl, so it would never be "
                    "called; add the decorator"
                )
        for kind, hook_name in zip(KINDS, HOOK_NAMES):
            for impl in getattr(self._pm.hook, hook_name).get_hookimpls():
                if impl.plugin is not plugin:
                    continue
                result = impl.function(register=self._stager(kind, provider, staged))
                if result is not None:
                    raise PluginError(
                        f"{hook_name} returned {_short(result)}; a hook must call "
                        "register(cls) once per component and return None"
                    )
        return staged

    def _stager(
        self, kind: str, provider: Provider, staged: list[ComponentInfo]
    ) -> Callable[..., None]:
        base = KIND_BASES[kind]
        hook_name = f"register_{kind}"

        def register(cls: Any, name: str | None = None) -> None:
            if not isinstance(cls, type) or not issubclass(cls, base):
                raise PluginError(
                    f"{hook_name} expected a subclass of modular_nn.{base.__name__}, "
                    f"received: {_short(cls)}"
                )
            config = getattr(cls, "Config", None)
            if not isinstance(config, type) or not issubclass(config, ComponentConfig):
                raise PluginError(
                    f"{cls.__name__}.Config must be a subclass of modular_nn.ComponentConfig, "
                    f"received: {_short(config)}"
                )
            reserved = [f for f in ("type", "name") if f in config.model_fields]
            if reserved and (reserved != ["name"] or kind in ("layers", "metrics")):
                raise PluginError(
                    f"{cls.__name__}.Config declares the option {reserved[0]!r}, which specs "
                    "use for the component's "
                    + ("type" if reserved[0] == "type" else kind_label(kind))
                    + " name; rename the option"
                )
            type_name = name or cls.type_name
            if not isinstance(type_name, str) or not type_name:
                raise PluginError(f"{cls.__name__} has no type_name and no name was given")
            if type_name != cls.type_name:
                # registered under another name: a subclass carrying it, so that
                # to_spec() writes back the name the spec used
                cls = type(
                    cls.__name__, (cls,), {"type_name": type_name, "__module__": cls.__module__}
                )
            for info in staged:
                if info.kind == kind and info.name == type_name and info.cls is not cls:
                    raise PluginError(
                        f"{kind_label(kind)} name {type_name!r} is registered twice, by "
                        f"{info.cls.__name__} and by {cls.__name__}"
                    )
            staged.append(ComponentInfo(kind, type_name, cls, provider))

        return register

    def _check_clashes(
        self, staged: list[ComponentInfo], provider: Provider, discovering: bool
    ) -> None:
        """Raise for names this plugin may not take; conflicts between third parties are
        allowed while discovering (``_commit`` records them)."""
        for info in staged:
            holders = [i.provider for i in self._conflicts.get((info.kind, info.name), [])]
            existing = self._components[info.kind].get(info.name)
            if existing is not None:
                holders.append(existing.provider)
            holders = [p for p in holders if p != provider]
            if not holders:
                continue
            if any(p.plugin in self._builtin_plugins for p in holders):
                raise BuiltinNameError(info.kind, info.name, [*holders, provider])
            if not discovering:
                raise ComponentConflictError(info.kind, info.name, [*holders, provider])
        if provider.plugin not in self._builtin_plugins:
            for info in staged:  # after the built-in names, whose error says more
                check_prefix(info, provider)

    def _commit(self, provider: Provider, staged: list[ComponentInfo]) -> list[ComponentInfo]:
        """Keep what a plugin registered; return the components that now clash."""
        record = PluginRecord(provider)
        clashes: list[ComponentInfo] = []
        for info in staged:
            key = (info.kind, info.name)
            existing = self._components[info.kind].get(info.name)
            if key in self._conflicts:
                self._conflicts[key].append(info)
                clashes.append(info)
            elif existing is not None and existing.provider != provider:
                del self._components[info.kind][info.name]
                self._conflicts[key] = [existing, info]
                clashes.append(info)
            else:
                self._components[info.kind][info.name] = info
            names = record.components.setdefault(info.kind, [])
            if info.name not in names:
                names.append(info.name)
        self.plugins[provider.plugin] = record
        self.generation += 1
        return clashes

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
            for key, infos in list(self._conflicts.items()):
                left = [info for info in infos if info.provider.plugin != name]
                if len(left) == 1:
                    del self._conflicts[key]
                    self._components[key[0]][key[1]] = left[0]
                elif len(left) != len(infos):
                    self._conflicts[key] = left
            self.plugins.pop(name, None)
            self._builtin_plugins.discard(name)
            self.generation += 1

    # ----- lookup ------------------------------------------------------------------------
    def names(self, kind: str) -> list[str]:
        """Sorted names of every usable component of ``kind`` (clashing names excluded)."""
        self.ensure_loaded()
        return sorted(self._kind(kind))

    def get(self, kind: str, name: str) -> ComponentInfo:
        """The component ``name`` of ``kind``.

        Raises ``UnknownComponentError`` or, for a name two distributions
        registered, ``ComponentConflictError`` (both ``PluginError``).
        """
        self.ensure_loaded()
        components = self._kind(kind)
        info = components.get(name) if isinstance(name, str) else None
        if info is None:
            if isinstance(name, str) and (kind, name) in self._conflicts:
                raise self.conflict_error(kind, name)
            raise UnknownComponentError(kind, name, sorted(components))
        return info

    def create(self, kind: str, ref: str | dict[str, Any]) -> Any:
        """Instantiate a component from a name or ``{"type": name, **options}``."""
        if isinstance(ref, str):
            ref = {"type": ref}
        if not isinstance(ref, dict) or not isinstance(ref.get("type"), str):
            raise SpecError(
                f"expected one of the {kind} as a name or {{'type': name, ...options}}, "
                f"received: {ref!r}"
            )
        options = dict(ref)
        info = self.get(kind, options.pop("type"))
        return info.cls(**options)

    def conflicts(self) -> dict[tuple[str, str], list[Provider]]:
        """Names registered by more than one distribution: ``{(kind, name): providers}``."""
        self.ensure_loaded()
        return {key: [i.provider for i in infos] for key, infos in self._conflicts.items()}

    def conflict_error(self, kind: str, name: str) -> ComponentConflictError:
        """The error raised when the clashing ``name`` is looked up."""
        return ComponentConflictError(
            kind, name, [i.provider for i in self._conflicts.get((kind, name), [])]
        )

    def components(self, kind: str) -> list[ComponentInfo]:
        """Every usable component of ``kind``, sorted by name."""
        self.ensure_loaded()
        return [info for _, info in sorted(self._kind(kind).items())]

    def _kind(self, kind: str) -> dict[str, ComponentInfo]:
        if kind not in self._components:
            raise PluginError(
                f"unknown component kind {kind!r}; expected one of {', '.join(KINDS)}"
            )
        return self._components[kind]


def _outside_modular_nn() -> int:
    """The ``stacklevel`` of the first caller outside modular_nn (where a warning points)."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith("modular_nn."):
        frame, level = frame.f_back, level + 1
    return level


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


DiscoveredEntryPoints = tuple[
    str, metadata.Distribution | None, list[metadata.EntryPoint], Exception | None
]


def _discover_entry_points() -> Iterable[DiscoveredEntryPoints]:
    """``(distribution name, distribution, entry points, error)`` per distribution declaring
    entry points in our group; the first copy of a distribution on ``sys.path`` wins, and
    modular_nn's built-ins come first."""
    found: list[DiscoveredEntryPoints] = []
    seen: set[str] = set()
    for dist in metadata.distributions():
        try:
            name = dist.metadata["Name"] or ""
        except Exception:  # noqa: BLE001 - unreadable metadata: not ours to judge
            continue
        key = normalize_distribution(name) if name else ""
        if not key or key in seen:
            continue
        seen.add(key)
        try:
            eps = sorted(dist.entry_points.select(group=ENTRY_POINT_GROUP), key=lambda e: e.name)
        except Exception as exc:  # noqa: BLE001 - a malformed entry_points.txt
            found.append((name, dist, [], exc))
            continue
        if eps:
            found.append((name, dist, eps, None))

    def order(item: DiscoveredEntryPoints) -> tuple[int, str]:
        builtin = any(ep.value == BUILTINS_MODULE for ep in item[2])
        return (0 if builtin else 1, normalize_distribution(item[0]))

    return sorted(found, key=order)


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
    """A registry holding only modular_nn's built-in components (no entry-point discovery).

    The built-ins are loaded by module name, as discovery loads their entry point: they
    import the layers, which import this module.
    """
    builtins = import_module(BUILTINS_MODULE)
    registry = Registry(discover=False)
    registry.register_plugin(builtins, provider=Provider("builtins", "modular-nn", _own_version()))
    return registry


def _own_version() -> str | None:
    try:
        return metadata.version("modular-nn")
    except metadata.PackageNotFoundError:
        return None
