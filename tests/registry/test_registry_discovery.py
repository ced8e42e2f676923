"""Real entry-point discovery of fake distributions: failures are isolated, listed and
warned about with the distribution's name; strict mode makes them errors; plugins can be
disabled; two distributions registering one name make it an error naming both."""

from __future__ import annotations

import warnings

import pytest

import modular_nn as mnn
from modular_nn.registry import ComponentConflictError, PluginWarning, Provider, use_registry

HOOK_RAISES = """
import modular_nn as mnn

@mnn.hookimpl
def register_layers(register):
    raise RuntimeError("boom in the hook")
"""


def failures(caught) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, PluginWarning)]


def install_good_and_broken(make_distribution, good_plugin, broken_source: str) -> None:
    make_distribution(
        "modular-nn-good",
        {"good_plugin": good_plugin(prefix="good")},
        {"good": "good_plugin"},
    )
    make_distribution(
        "modular-nn-broken", {"broken_plugin": broken_source}, {"broken": "broken_plugin"}
    )


@pytest.mark.parametrize(
    ("source", "error"),
    [
        (
            "raise ImportError('needs torch')",
            "could not import broken_plugin: ImportError: needs torch",
        ),
        ("def broken(:\n", "could not import broken_plugin: SyntaxError"),
        (HOOK_RAISES, "a hook raised RuntimeError: boom in the hook"),
    ],
    ids=["import-error", "syntax-error", "hook-raises"],
)
def test_a_failing_plugin_is_skipped_with_a_warning_and_the_others_load(
    good_plugin, make_distribution, fresh_registry, source, error
):
    install_good_and_broken(make_distribution, good_plugin, source)
    with pytest.warns(PluginWarning) as caught:
        registry = fresh_registry()
    (message,) = failures(caught)
    assert "modular-nn-broken 1.0" in message and error in message
    record = registry.plugins["broken"]
    assert record.status == "failed" and error in record.error
    assert record.provider == Provider("broken", "modular-nn-broken", "1.0")
    assert "good.double" in registry.names("layers")
    assert "dense" in registry.names("layers")  # the built-ins are untouched
    assert registry.get("layers", "good.double").provider == Provider(
        "good", "modular-nn-good", "1.0"
    )
    assert registry.plugins["good"].components == {"layers": ["good.double"]}


def test_an_entry_point_naming_a_missing_object_fails_alone(
    good_plugin, make_distribution, fresh_registry
):
    make_distribution(
        "modular-nn-typo",
        {"typo_plugin": good_plugin(prefix="typo")},
        {"typo": "typo_plugin:nothing"},
    )
    with pytest.warns(PluginWarning, match="modular-nn-typo.*AttributeError"):
        registry = fresh_registry()
    assert registry.plugins["typo"].status == "failed"


def test_a_malformed_entry_points_file_fails_only_its_distribution(
    good_plugin, make_distribution, fresh_registry
):
    make_distribution(
        "modular-nn-good",
        {"good_plugin": good_plugin(prefix="good")},
        {"good": "good_plugin"},
    )
    make_distribution(
        "modular-nn-mangled", {}, {}, entry_points_text="[modular_nn]\nnot an entry point\n"
    )
    with pytest.warns(PluginWarning, match="modular-nn-mangled.*unreadable entry points"):
        registry = fresh_registry()
    assert registry.plugins["modular-nn-mangled"].status == "failed"
    assert "good.double" in registry.names("layers")


def test_strict_mode_turns_a_failure_into_an_error_every_time(
    good_plugin, make_distribution, fresh_registry, monkeypatch
):
    install_good_and_broken(make_distribution, good_plugin, HOOK_RAISES)
    monkeypatch.setenv("MODULAR_NN_STRICT_PLUGINS", "1")
    registry = mnn.registry.Registry()
    for _ in range(2):
        with pytest.raises(
            mnn.PluginError, match="modular-nn-broken 1.0.*boom in the hook.*STRICT"
        ):
            registry.names("layers")


@pytest.mark.parametrize("value", ["broken", "modular-nn-broken", "Modular_NN.Broken", "x, broken"])
def test_disabled_plugins_are_not_imported(
    good_plugin, make_distribution, fresh_registry, monkeypatch, value
):
    install_good_and_broken(
        make_distribution, good_plugin, "raise ImportError('must not be imported')"
    )
    monkeypatch.setenv("MODULAR_NN_DISABLE_PLUGINS", value)
    with warnings.catch_warnings():
        warnings.simplefilter("error", PluginWarning)
        registry = fresh_registry()
    assert registry.plugins["broken"].status == "disabled"
    assert registry.plugins["good"].status == "loaded"


@pytest.mark.parametrize("value", ["my_thing", "my-thing", "My.Thing"])
def test_an_entry_point_name_with_underscores_disables_its_plugin(
    good_plugin, make_distribution, fresh_registry, monkeypatch, value
):
    make_distribution(  # as `modular-nn new-plugin my-thing` names it
        "modular-nn-my-thing",
        {"my_thing_plugin": "raise ImportError('must not be imported')"},
        {"my_thing": "my_thing_plugin"},
    )
    monkeypatch.setenv("MODULAR_NN_DISABLE_PLUGINS", value)
    with warnings.catch_warnings():
        warnings.simplefilter("error", PluginWarning)
        registry = fresh_registry()
    assert registry.plugins["my_thing"].status == "disabled"


def test_two_distributions_registering_one_name_make_it_an_error_naming_both(
    good_plugin, make_distribution, fresh_registry
):
    # both entry points are named "shared": the prefix rule lets them take one name
    one = good_plugin(prefix="shared")
    make_distribution("modular-nn-one", {"one_plugin": one}, {"shared": "one_plugin"})
    make_distribution(
        "modular-nn-two", {"two_plugin": one}, {"shared": "two_plugin"}, version="2.5"
    )
    make_distribution(
        "modular-nn-good",
        {"good_plugin": good_plugin(prefix="good")},
        {"good": "good_plugin"},
    )
    with pytest.warns(PluginWarning, match="modular-nn-one 1.0.*modular-nn-two 2.5"):
        registry = fresh_registry()
    assert "shared.double" not in registry.names("layers")  # not last-one-wins, nor first
    assert "good.double" in registry.names("layers")  # everything else still works
    with pytest.raises(
        ComponentConflictError, match="modular-nn-one 1.0.*and by modular-nn-two 2.5"
    ):
        registry.get("layers", "shared.double")
    assert list(registry.conflicts()) == [("layers", "shared.double")]
    spec = {"input_shape": [3], "layers": [{"type": "shared.double"}]}
    with use_registry(registry), pytest.raises(mnn.SpecError, match="modular-nn-two 2.5"):
        mnn.load_spec(spec)
    registry.unregister_plugin("modular-nn-two:shared")  # uninstalling one of them resolves it
    assert registry.get("layers", "shared.double").provider.distribution == "modular-nn-one"


def test_a_clash_is_fatal_in_strict_mode(good_plugin, make_distribution, monkeypatch):
    one = good_plugin(prefix="shared")
    make_distribution("modular-nn-one", {"one_plugin": one}, {"shared": "one_plugin"})
    make_distribution("modular-nn-two", {"two_plugin": one}, {"shared": "two_plugin"})
    monkeypatch.setenv("MODULAR_NN_STRICT_PLUGINS", "1")
    with pytest.raises(mnn.PluginError, match="shared.double.*modular-nn-one.*modular-nn-two"):
        mnn.registry.Registry().ensure_loaded()


def test_a_plugin_cannot_take_a_builtin_name(good_plugin, make_distribution, fresh_registry):
    source = good_plugin(prefix="x").replace('"x.double"', '"dense"')
    make_distribution("modular-nn-evil", {"evil_plugin": source}, {"evil": "evil_plugin"})
    with pytest.warns(
        PluginWarning, match=r"'dense' is a built-in name \(modular-nn-evil.*'evil.dense'"
    ):
        registry = fresh_registry()
    assert registry.plugins["evil"].status == "failed"
    assert registry.get("layers", "dense").provider.plugin == "builtins"


def test_one_entry_point_name_in_two_distributions(good_plugin, make_distribution, fresh_registry):
    triple = good_plugin(prefix="extras").replace(".double", ".triple")
    make_distribution(
        "modular-nn-a", {"a_plugin": good_plugin(prefix="extras")}, {"extras": "a_plugin"}
    )
    make_distribution("modular-nn-b", {"b_plugin": triple}, {"extras": "b_plugin"})
    registry = fresh_registry()
    # the second is plugin "modular-nn-b:extras", whose prefix is still "extras."
    assert {"extras.double", "extras.triple"} <= set(registry.names("layers"))
    assert registry.plugins["extras"].provider.distribution == "modular-nn-a"
    assert registry.plugins["modular-nn-b:extras"].provider.distribution == "modular-nn-b"


def test_discovery_happens_once_and_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = mnn.registry._discover_entry_points

    def counting() -> object:
        calls.append(1)
        return real()

    monkeypatch.setattr(mnn.registry, "_discover_entry_points", counting)
    registry = mnn.registry.Registry()
    assert calls == []  # creating a registry discovers nothing
    assert "dense" in registry.names("layers")
    registry.names("activations")
    registry.get("layers", "dense")
    assert calls == [1]  # the first use discovered, later uses did not


@pytest.mark.parametrize(
    ("name", "wanted"), [("maxout_dense", "mine.maxout_dense"), ("other.double", "mine.double")]
)
def test_a_name_without_the_plugins_prefix_fails_that_plugin_only(
    name, wanted, good_plugin, make_distribution, fresh_registry
):
    bad = good_plugin(prefix="x").replace('"x.double"', f'"{name}"')
    make_distribution("modular-nn-mine", {"mine_plugin": bad}, {"mine": "mine_plugin"})
    make_distribution("modular-nn-good", {"good_plugin": good_plugin(prefix="good")},
                      {"good": "good_plugin"})  # fmt: skip
    with pytest.warns(PluginWarning, match="modular-nn-mine") as caught:
        registry = fresh_registry()
    message = str(caught[0].message)
    assert f"layer name {name!r}" in message and "prefix 'mine.'" in message
    assert f"register it as {wanted!r}" in message
    assert registry.plugins["mine"].status == "failed" and name not in registry.names("layers")
    assert "good.double" in registry.names("layers")  # the other plugin still loads
    assert registry.plugins["good"].status == "loaded"


def test_the_prefix_rule_in_strict_mode_and_for_register_plugin(good_plugin, monkeypatch):
    from modular_nn.registry import builtins_only_registry

    class Plugin:
        @mnn.hookimpl
        def register_activations(self, register):
            class Cube(mnn.Activation):
                type_name = "cube"

                def forward(self, x):
                    return x**3

                def backward(self, grad_out):
                    return grad_out

            register(Cube)

    registry = builtins_only_registry()
    with pytest.warns(PluginWarning, match="register it as 'cubes.cube'"):
        assert not registry.register_plugin(Plugin(), provider="cubes")
    assert "cube" not in registry.names("activations")
    monkeypatch.setenv("MODULAR_NN_STRICT_PLUGINS", "1")
    with pytest.raises(mnn.PluginError, match="activation name 'cube'.*'cubes.cube'"):
        builtins_only_registry().register_plugin(Plugin(), provider="cubes")
