"""Fake installed distributions, for testing plugin discovery without pip.

``write_distribution(root, "modular-nn-demo", {"demo_plugin": source},
{"demo": "demo_plugin"})`` writes ``demo_plugin.py`` and a
``modular_nn_demo-1.0.dist-info`` (METADATA, entry_points.txt) into ``root``.
With ``root`` on ``sys.path`` (or ``PYTHONPATH`` for a subprocess),
``importlib.metadata`` finds the distribution exactly as it finds one pip
installed, so a new ``modular_nn.registry.Registry()`` discovers its plugin.
"""

from __future__ import annotations

import textwrap
from pathlib import Path


def write_distribution(
    root: Path | str,
    name: str,
    sources: dict[str, str],
    entry_points: dict[str, str],
    *,
    version: str = "1.0",
    entry_points_text: str | None = None,
) -> Path:
    """Write modules and a dist-info for distribution ``name`` into ``root``; return ``root``.

    Args:
        sources: module name -> Python source (dedented).
        entry_points: entry-point name -> ``module`` or ``module:object``, in the
            group ``modular_nn``.
        entry_points_text: the raw ``entry_points.txt``, replacing ``entry_points``
            (to write a malformed one).
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    for module, source in sources.items():
        (root / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    info = root / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8"
    )
    if entry_points_text is None:
        lines = "".join(f"{key} = {value}\n" for key, value in entry_points.items())
        entry_points_text = "[modular_nn]\n" + lines
    (info / "entry_points.txt").write_text(entry_points_text, encoding="utf-8")
    return root
