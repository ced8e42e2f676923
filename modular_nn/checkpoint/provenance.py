"""Provenance: which plugin distribution provided every component type a model uses.

Recorded at save time as ``/provenance/components`` (JSON), checked at load
time before the spec is validated, so a checkpoint that needs a plugin which
is not installed says which distribution and version to install.
"""

from __future__ import annotations

import typing
from typing import Any

from modular_nn.components.refs import ComponentRef
from modular_nn.errors import PluginError
from modular_nn.registry import KINDS, get_registry, kind_label

Record = dict[str, Any]
_FIELDS = ("kind", "name", "plugin", "distribution", "version")


def components_used(spec: Any) -> list[Record]:
    """One record per (kind, name) the normalized ``spec`` uses, nested references included."""
    seen: dict[tuple[str, str], Record] = {}
    from modular_nn.spec.model_spec import component_layer_entries, loss_entries

    for entry in component_layer_entries(spec):
        _collect("layers", entry.model_dump(mode="json"), seen)
    for entry in loss_entries(spec):
        _collect("losses", entry.model_dump(mode="json"), seen)
    if spec.optimizer is not None:
        _collect("optimizers", spec.optimizer.model_dump(mode="json"), seen)
    return list(seen.values())


def _collect(kind: str, options: dict[str, Any], seen: dict[tuple[str, str], Record]) -> None:
    name = options["type"]
    info = get_registry().get(kind, name)
    provider = info.provider
    seen.setdefault(
        (kind, name),
        {
            "kind": kind,
            "name": name,
            "plugin": provider.plugin,
            "distribution": provider.distribution,
            "version": provider.version,
        },
    )
    # Every entry's own references (two dense layers may use different activations).
    for field_name, field_info in info.cls.Config.model_fields.items():
        ref_kind = _ref_kind(field_info.metadata, field_info.annotation)
        value = options.get(field_name)
        if ref_kind and isinstance(value, dict) and isinstance(value.get("type"), str):
            _collect(ref_kind, value, seen)


def _ref_kind(metadata: list[Any], annotation: Any) -> str | None:
    """The kind named by a ``ComponentRef`` on a field (also inside ``Optional[...]``)."""
    for item in metadata:
        if isinstance(item, ComponentRef):
            return item.kind
    for arg in typing.get_args(annotation):
        found = _ref_kind(list(getattr(arg, "__metadata__", ())), arg)
        if found:
            return found
    return None


def parse_records(data: Any) -> list[Record] | None:
    """Validated records from the file's JSON, or None when malformed."""
    if not isinstance(data, list):
        return None
    records: list[Record] = []
    for item in data:
        if not isinstance(item, dict) or set(item) != set(_FIELDS):
            return None
        if item["kind"] not in KINDS or not isinstance(item["name"], str):
            return None
        if not all(item[key] is None or isinstance(item[key], str) for key in _FIELDS[2:]):
            return None
        records.append(item)
    return records


def requirement(record: Record) -> str:
    """What to install for ``record``: ``dist>=version``, or the plugin's name."""
    distribution, version = record.get("distribution"), record.get("version")
    if not distribution:
        return f"the plugin {record.get('plugin')!r}"
    return f"{distribution}>={version}" if version else str(distribution)


def missing_components(records: list[Record]) -> list[Record]:
    """The recorded components that no installed plugin registers now."""
    registry = get_registry()
    missing = []
    for record in records:
        try:
            registry.get(record["kind"], record["name"])
        except PluginError:
            missing.append(record)
    return missing


def describe_missing(records: list[Record]) -> str:
    """What is missing, grouped by provider, and what to do about each provider.

    ``activation type 'x.swish' (provided by x-dist 0.1): install x-dist>=0.1``; a
    provider that is installed but disabled or failing to load is said to be so.
    """
    groups: dict[tuple[Any, Any, Any], list[Record]] = {}
    for record in records:
        key = (record["distribution"], record["version"], record["plugin"])
        groups.setdefault(key, []).append(record)
    parts = []
    for (distribution, version, plugin), items in groups.items():
        names = ", ".join(f"{kind_label(r['kind'])} type {r['name']!r}" for r in items)
        origin = f"{distribution} {version or ''}".strip() if distribution else f"plugin {plugin!r}"
        parts.append(f"{names} (provided by {origin}): {advice(items[0])}")
    return "; ".join(parts)


def advice(record: Record) -> str:
    """Install the provider, unless it is installed and disabled or broken."""
    for seen in get_registry().plugins.values():
        provider = seen.provider
        same = (
            provider.distribution == record["distribution"]
            if record["distribution"]
            else provider.plugin == record["plugin"]
        )
        if same and seen.status == "disabled":
            return f"{_who(record)} is installed but disabled (MODULAR_NN_DISABLE_PLUGINS)"
        if same and seen.status == "failed":
            return f"{_who(record)} is installed but failed to load: {seen.error}"
    return f"install {requirement(record)}"


def _who(record: Record) -> str:
    return str(record["distribution"] or f"plugin {record['plugin']!r}")
