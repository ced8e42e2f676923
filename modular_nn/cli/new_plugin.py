"""``modular-nn new-plugin NAME``: write a ready-to-install plugin package.

``modular-nn new-plugin acme`` creates ``./modular-nn-acme/``::

    pyproject.toml                  distribution modular-nn-acme; entry point
                                    acme = modular_nn_acme.plugin (group modular_nn)
    README.md
    src/modular_nn_acme/__init__.py
    src/modular_nn_acme/plugin.py   the hook registering the layer
    src/modular_nn_acme/linear.py   layer "acme.linear": Config, shapes, build, forward, backward
    tests/test_modular_nn_acme_conformance.py   the conformance kit over the package

``pip install -e ./modular-nn-acme && python -m pytest modular-nn-acme`` passes
as generated. The templates are the ``*.tmpl`` files in ``cli/templates/new_plugin``.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from string import Template

from modular_nn.errors import ModularNNError

_NAME = re.compile(r"^[a-z][a-z0-9]*([-_][a-z0-9]+)*$")
_KEYWORDS = {"builtins", "modular_nn", "modular-nn"}


class ScaffoldError(ModularNNError):
    """The plugin package cannot be written (bad name, existing folder)."""


@dataclass(frozen=True)
class PluginNames:
    """Every name derived from the one the user gives."""

    prefix: str  # component names: "<prefix>.linear"; also the entry point's name
    distribution: str  # "modular-nn-<name>"
    package: str  # "modular_nn_<name>"

    @classmethod
    def from_name(cls, name: str) -> PluginNames:
        raw = name.strip().lower()
        for lead in ("modular-nn-", "modular_nn_"):
            raw = raw.removeprefix(lead)
        if not _NAME.match(raw) or raw in _KEYWORDS:
            raise ScaffoldError(
                "expected a plugin name of lowercase letters and digits, words joined by "
                f"'-' or '_', starting with a letter (for example 'acme'), received: {name!r}"
            )
        snake = raw.replace("-", "_")
        return cls(
            prefix=snake,
            distribution="modular-nn-" + raw.replace("_", "-"),
            package=f"modular_nn_{snake}",
        )


def planned_files(names: PluginNames) -> dict[str, str]:
    """Output path (relative to the package folder) for each template."""
    src = f"src/{names.package}"
    return {
        "pyproject.toml": "pyproject.toml.tmpl",
        "README.md": "README.md.tmpl",
        f"{src}/__init__.py": "__init__.py.tmpl",
        f"{src}/plugin.py": "plugin.py.tmpl",
        f"{src}/linear.py": "linear.py.tmpl",
        f"tests/test_{names.package}_conformance.py": "test_conformance.py.tmpl",
    }


def write_plugin(name: str, directory: Path | str = ".", *, force: bool = False) -> Path:
    """Write the package for plugin ``name`` into ``directory``; return its folder."""
    from modular_nn import __version__

    names = PluginNames.from_name(name)
    target = Path(directory) / names.distribution
    if target.exists() and any(target.iterdir()) and not force:
        raise ScaffoldError(
            f"{str(target)!r} already exists and is not empty; choose another --directory "
            "or pass --force to overwrite the generated files"
        )
    values = {**asdict(names), "mnn_version": __version__}
    templates = resources.files("modular_nn.cli") / "templates" / "new_plugin"
    for relative, template in planned_files(names).items():
        text = Template(templates.joinpath(template).read_text(encoding="utf-8"))
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.substitute(values), encoding="utf-8")
    return target


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "new-plugin",
        help="write a ready-to-install plugin package with one layer and its tests",
        description="Write modular-nn-NAME/: a plugin distribution (pyproject.toml with the "
        "entry point), one layer NAME.linear with its config, forward and backward, and a "
        "test running the conformance kit. Then: pip install -e modular-nn-NAME && "
        "python -m pytest modular-nn-NAME",
    )
    parser.add_argument("name", metavar="NAME", help="plugin name, for example 'acme'")
    parser.add_argument(
        "--directory", "-d", default=".", help="where to create the package folder (default: .)"
    )
    parser.add_argument(
        "--force", action="store_true", help="overwrite the generated files if the folder exists"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    target = write_plugin(args.name, args.directory, force=args.force)
    names = PluginNames.from_name(args.name)
    print(f"wrote {target}/ ({names.distribution}, layer {names.prefix}.linear)")
    print(f"next: pip install -e {target} && python -m pytest {target}")
    return 0
