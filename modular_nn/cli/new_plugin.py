"""``modular-nn new-plugin NAME``: write a ready-to-install plugin package.

``modular-nn new-plugin acme`` creates ``./modular-nn-acme/``::

    pyproject.toml                  distribution modular-nn-acme; entry point
                                    acme = modular_nn_acme.plugin (group modular_nn)
    README.md
    src/modular_nn_acme/__init__.py
    src/modular_nn_acme/plugin.py   the hook registering the layer
    src/modular_nn_acme/linear.py   layer "acme.linear": Config, shapes, build, forward, backward
    tests/test_modular_nn_acme_conformance.py   the conformance kit over the package

``--dist DIST`` names the distribution and the folder instead (the import package is
DIST in snake case); the component prefix stays NAME (``acme.linear``), since
modular_nn requires every name to start with the entry point's name and a dot.
``--kind activation|loss|optimizer|initializer|metric`` writes an example of that
kind instead of the layer (``acme.softsign``, ``acme.log_cosh``, ``acme.momentum``,
``acme.scaled_normal``, ``acme.specificity``), with the same conformance test and a
test using it in a model (the metric: named in ``training.metrics``, its value in the
history of a training step).

``pip install -e ./modular-nn-acme && python -m pytest modular-nn-acme`` passes
as generated. The templates are the ``*.tmpl`` files in ``cli/templates/new_plugin``
(``kinds/<kind>.py.tmpl`` the component, ``kinds/<kind>_test.py.tmpl`` its test).
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


@dataclass(frozen=True)
class Kind:
    """The example component written for one ``--kind``."""

    module: str  # file name in the package, and the component's name after the prefix
    class_name: str
    hook: str
    what: str  # for the README
    use_json: str  # a spec using it, for the README ($prefix substituted)


KINDS: dict[str, Kind] = {
    "layer": Kind(
        "linear", "Linear", "register_layers", "y = x W + b (edit me)",
        '{"input_shape": [4], "layers": [{"type": "$prefix.linear", "units": 3}]}',
    ),
    "activation": Kind(
        "softsign", "Softsign", "register_activations", "f(x) = x / (1 + |x|) (edit me)",
        '{"input_shape": [4], "layers": [{"type": "dense", "units": 3, '
        '"activation": "$prefix.softsign"}]}',
    ),
    "loss": Kind(
        "log_cosh", "LogCosh", "register_losses", "mean(log(cosh(y_pred - y))) (edit me)",
        '{"input_shape": [4], "layers": [{"type": "dense", "units": 1}], '
        '"loss": "$prefix.log_cosh", "optimizer": "adam"}',
    ),
    "optimizer": Kind(
        "momentum", "Momentum", "register_optimizers", "SGD with momentum (edit me)",
        '{"input_shape": [4], "layers": [{"type": "dense", "units": 1}], "loss": "mse", '
        '"optimizer": {"type": "$prefix.momentum", "learning_rate": 0.05}}',
    ),
    "initializer": Kind(
        "scaled_normal", "ScaledNormal", "register_initializers",
        "normal, stddev scale / sqrt(fan_in) (edit me)",
        '{"input_shape": [4], "layers": [{"type": "dense", "units": 3, '
        '"kernel_initializer": {"type": "$prefix.scaled_normal", "scale": 2.0}}]}',
    ),
    "metric": Kind(
        "specificity", "Specificity", "register_metrics",
        "true negative rate TN / (TN + FP) of a binary output (edit me)",
        '{"input_shape": [4], "layers": [{"type": "dense", "units": 1, '
        '"activation": "sigmoid"}], "loss": "binary_crossentropy", '
        '"training": {"metrics": ["$prefix.specificity"]}}',
    ),
}  # fmt: skip
#: What ``--kind`` accepts.
KIND_CHOICES = tuple(KINDS)


class ScaffoldError(ModularNNError):
    """The plugin package cannot be written (bad name, existing folder)."""


@dataclass(frozen=True)
class PluginNames:
    """Every name derived from the one the user gives."""

    prefix: str  # component names: "<prefix>.linear"; also the entry point's name
    distribution: str  # "modular-nn-<name>"
    package: str  # "modular_nn_<name>"

    @classmethod
    def from_name(cls, name: str, dist: str | None = None) -> PluginNames:
        raw = name.strip().lower()
        for lead in ("modular-nn-", "modular_nn_"):
            raw = raw.removeprefix(lead)
        if not _NAME.match(raw) or raw in _KEYWORDS:
            raise ScaffoldError(
                "expected a plugin name of lowercase letters and digits, words joined by "
                f"'-' or '_', starting with a letter (for example 'acme'), received: {name!r}"
            )
        snake = raw.replace("-", "_")
        if dist is None:
            return cls(
                prefix=snake,
                distribution="modular-nn-" + raw.replace("_", "-"),
                package=f"modular_nn_{snake}",
            )
        distribution = dist.strip().lower()
        package = re.sub(r"[-_.]+", "_", distribution)
        if not _NAME.match(distribution.replace(".", "-")) or package in _KEYWORDS:
            raise ScaffoldError(
                "expected a distribution name of lowercase letters and digits, words joined "
                f"by '-', '_' or '.', starting with a letter (for example 'acme-layers'), "
                f"received: {dist!r}"
            )
        return cls(prefix=snake, distribution=distribution, package=package)


def kind_named(kind: str) -> Kind:
    """The ``Kind`` for ``--kind``; ``ScaffoldError`` for an unknown kind."""
    if kind not in KINDS:
        raise ScaffoldError(f"expected --kind one of {', '.join(KIND_CHOICES)}, received: {kind!r}")
    return KINDS[kind]


def planned_files(names: PluginNames, kind: str = "layer") -> dict[str, str]:
    """Output path (relative to the package folder) for each template."""
    src = f"src/{names.package}"
    return {
        "pyproject.toml": "pyproject.toml.tmpl",
        "README.md": "README.md.tmpl",
        f"{src}/__init__.py": "__init__.py.tmpl",
        f"{src}/plugin.py": "plugin.py.tmpl",
        f"{src}/{kind_named(kind).module}.py": f"kinds/{kind}.py.tmpl",
        f"tests/test_{names.package}_conformance.py": "test_conformance.py.tmpl",
    }


def write_plugin(
    name: str,
    directory: Path | str = ".",
    *,
    force: bool = False,
    dist: str | None = None,
    kind: str = "layer",
) -> Path:
    """Write the package for plugin ``name`` (distribution and folder ``dist``, default
    ``modular-nn-NAME``) with an example component of ``kind`` into ``directory``;
    return its folder."""
    from modular_nn import __version__

    names = PluginNames.from_name(name, dist)
    example = kind_named(kind)
    target = Path(directory) / names.distribution
    if target.exists() and any(target.iterdir()) and not force:
        raise ScaffoldError(
            f"{str(target)!r} already exists and is not empty; choose another --directory "
            "or pass --force to overwrite the generated files"
        )
    values = {**asdict(names), "mnn_version": __version__}
    values.update(
        kind=kind,
        module=example.module,
        component=example.module,
        class_name=example.class_name,
        hook=example.hook,
        what=example.what,
    )
    values["use_json"] = Template(example.use_json).substitute(values)
    templates = resources.files("modular_nn.cli") / "templates" / "new_plugin"
    usage = templates.joinpath(f"kinds/{kind}_test.py.tmpl").read_text(encoding="utf-8")
    values["usage_test"] = Template(usage).substitute(values)
    for relative, template in planned_files(names, kind).items():
        text = Template(templates.joinpath(template).read_text(encoding="utf-8"))
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.substitute(values), encoding="utf-8")
    return target


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "new-plugin",
        help="write a ready-to-install plugin package with one component and its tests",
        description="Write modular-nn-NAME/ (or DIST/): a plugin distribution (pyproject.toml "
        "with the entry point NAME), one component NAME.<example> of the --kind asked for "
        "(a layer NAME.linear by default) with its config, forward and backward, and a test "
        "running the conformance kit. Then: pip install -e modular-nn-NAME && "
        "python -m pytest modular-nn-NAME",
    )
    parser.add_argument(
        "name", metavar="NAME", help="plugin name and prefix of its components, e.g. 'acme'"
    )
    parser.add_argument(
        "--dist",
        metavar="DIST",
        help="distribution and folder name (default: modular-nn-NAME); names keep NAME's prefix",
    )
    parser.add_argument(
        "--kind",
        choices=KIND_CHOICES,
        default="layer",
        help="the example component to write (default: layer)",
    )
    parser.add_argument(
        "--directory", "-d", default=".", help="where to create the package folder (default: .)"
    )
    parser.add_argument(
        "--force", action="store_true", help="overwrite the generated files if the folder exists"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    target = write_plugin(
        args.name, args.directory, force=args.force, dist=args.dist, kind=args.kind
    )
    names = PluginNames.from_name(args.name, args.dist)
    example = f"{names.prefix}.{KINDS[args.kind].module}"
    print(f"wrote {target}/ ({names.distribution}, {args.kind} {example})")
    print(f"next: pip install -e {target} && python -m pytest {target}")
    return 0
