"""The registry sits below the components that look names up in it: nothing it imports,
directly or through other modules, at module level or inside a function, imports the
built-ins, the layers or ``components.refs`` (which import the registry)."""

from __future__ import annotations

import ast
from pathlib import Path

import modular_nn

PACKAGE_DIR = Path(modular_nn.__file__).parent


def _module_files() -> dict[str, Path]:
    """Every module of modular_nn by dotted name (a package by its ``__init__``)."""
    files = {}
    for path in PACKAGE_DIR.rglob("*.py"):
        parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        files[".".join(parts)] = path
    return files


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The modular_nn modules that ``path`` imports anywhere in its body; ``from pkg
    import sub`` counts as importing ``pkg.sub`` only (a package's ``__init__`` is
    counted when something that is not a submodule is taken from it)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in modules else node.module)
    return {name for name in found if name in modules}


def _reachable(start: str) -> dict[str, str]:
    """Every module ``start`` reaches through imports, each with the module importing it."""
    modules = _module_files()
    via = {start: ""}
    todo = [start]
    while todo:
        name = todo.pop()
        for target in sorted(_imports(modules[name], modules)):
            if target not in via:
                via[target] = name
                todo.append(target)
    return via


def test_the_registry_never_imports_what_imports_it() -> None:
    via = _reachable("modular_nn.registry")
    users = [
        name
        for name in via
        if name == "modular_nn"
        or name == "modular_nn.builtins"
        or name == "modular_nn.components.refs"
        or name.startswith("modular_nn.layers")
    ]
    chains = []
    for name in users:
        chain = [name]
        while via[chain[-1]]:
            chain.append(via[chain[-1]])
        chains.append(" <- ".join(chain))
    assert not chains, "the registry imports modules that import it:\n" + "\n".join(chains)


def test_the_components_that_look_names_up_import_the_registry() -> None:
    """The other half of the rule: the arrows exist, and run toward the registry."""
    modules = _module_files()
    for name in (
        "modular_nn.components.refs",
        "modular_nn.layers.activated",
        "modular_nn.layers.kernel_layer",
        "modular_nn.layers.embedding",
    ):
        assert "modular_nn.registry" in _imports(modules[name], modules), name


def test_builtins_only_registry_loads_the_builtins_module() -> None:
    from modular_nn import builtins
    from modular_nn.registry import builtins_only_registry

    registry = builtins_only_registry()
    assert registry.plugins["builtins"].status == "loaded"
    assert registry._pm.get_plugin("builtins") is builtins
    assert registry.names("layers") == sorted(cls.type_name for cls in builtins.LAYERS)
