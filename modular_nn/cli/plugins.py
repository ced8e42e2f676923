"""``modular-nn plugins``: every plugin distribution, its version, what it provides, what failed.

A failed plugin is listed with its error (it never stops the command); names
registered by two distributions are listed as conflicts. ``--json`` prints the
same as one JSON object::

    {"plugins": [{"plugin", "distribution", "version", "status", "error",
                  "components": {"layers": [...], ...}}, ...],
     "conflicts": [{"kind", "name", "providers": [{"plugin", "distribution", "version"}]}],
     "disabled": [...], "strict": false}
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from modular_nn.registry import (
    KINDS,
    PluginRecord,
    Provider,
    Registry,
    disabled_plugins,
    get_registry,
    kind_label,
    strict_plugins,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "plugins",
        help="list plugin distributions, their components and failures",
        description="List every modular_nn plugin (built-ins included): distribution, "
        "version, components by kind, and plugins that failed or were disabled. "
        "MODULAR_NN_DISABLE_PLUGINS=a,b skips plugins; MODULAR_NN_STRICT_PLUGINS=1 "
        "makes a failing plugin an error.",
    )
    parser.add_argument("--json", action="store_true", help="print JSON for machines")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    report = plugins_report(get_registry())
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(format_report(report))
    return 0


def _provider(provider: Provider) -> dict[str, Any]:
    return {
        "plugin": provider.plugin,
        "distribution": provider.distribution,
        "version": provider.version,
    }


def _plugin(record: PluginRecord) -> dict[str, Any]:
    return {
        **_provider(record.provider),
        "status": record.status,
        "error": record.error or None,
        "components": {
            kind: sorted(record.components[kind]) for kind in KINDS if kind in record.components
        },
    }


def plugins_report(registry: Registry) -> dict[str, Any]:
    """What ``--json`` prints: plugins (built-ins first), conflicts, and the settings."""
    records = sorted(
        registry.plugins.values(),
        key=lambda r: (r.provider.plugin != "builtins", r.provider.plugin),
    )
    return {
        "plugins": [_plugin(record) for record in records],
        "conflicts": [
            {"kind": kind, "name": name, "providers": [_provider(p) for p in providers]}
            for (kind, name), providers in sorted(registry.conflicts().items())
        ],
        "disabled": sorted(disabled_plugins()),
        "strict": strict_plugins(),
    }


def format_report(report: dict[str, Any]) -> str:
    """The report as text: one block per plugin, then conflicts."""
    lines: list[str] = []
    for plugin in report["plugins"]:
        origin = plugin["distribution"] or "(no distribution)"
        version = f" {plugin['version']}" if plugin["version"] else ""
        status = {"loaded": "", "failed": "  FAILED", "disabled": "  disabled"}[plugin["status"]]
        lines.append(f"{origin}{version}  [plugin {plugin['plugin']!r}]{status}")
        if plugin["error"]:
            lines.append(f"  error: {plugin['error']}")
        for kind, names in plugin["components"].items():
            lines.append(f"  {kind} ({len(names)}): {', '.join(names)}")
        if plugin["status"] == "loaded" and not plugin["components"]:
            lines.append("  (no components)")
    if report["conflicts"]:
        lines.append("")
        lines.append("conflicts (unusable until one provider is uninstalled or disabled):")
        for conflict in report["conflicts"]:
            who = ", ".join(
                f"{p['distribution'] or p['plugin']} {p['version'] or ''}".strip()
                for p in conflict["providers"]
            )
            lines.append(f"  {kind_label(conflict['kind'])} {conflict['name']!r}: {who}")
    if report["disabled"]:
        lines.append("")
        lines.append(f"disabled by MODULAR_NN_DISABLE_PLUGINS: {', '.join(report['disabled'])}")
    failed = sum(p["status"] == "failed" for p in report["plugins"])
    lines.append("")
    lines.append(
        f"{len(report['plugins'])} plugin(s), {failed} failed"
        + ("; strict mode is on" if report["strict"] else "")
    )
    return "\n".join(lines)
