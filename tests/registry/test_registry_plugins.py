"""Registering plugin objects directly (the way tests register throwaway plugins): what a
plugin may do wrong, and how each mistake is reported."""

from __future__ import annotations

import pytest

import modular_nn as mnn
from modular_nn.layers.dense import Dense
from modular_nn.registry import (
    ComponentConflictError,
    PluginWarning,
    Provider,
    UnknownComponentError,
    builtins_only_registry,
)


class Scale(mnn.Layer):
    type_name = "test.scale"

    def forward(self, x, training=False):
        return x * 3

    def backward(self, grad_out):
        return grad_out * 3


class NotAConfig:
    pass


def plugin_with(hook_name: str, body):
    """A throwaway plugin object whose one hook is ``body(register)``."""

    class Plugin:
        pass

    def hook(self, register):
        return body(register)

    hook.__name__ = hook_name
    setattr(Plugin, hook_name, mnn.hookimpl(hook))
    return Plugin()


def _optimizer_with_option(option: str) -> type:
    config = type("Config", (mnn.OptimizerConfig,), {"__annotations__": {option: str}, option: "x"})
    return type("Opt", (mnn.Optimizer,), {"type_name": "t.opt", "Config": config})


def _layer_with_option(option: str) -> type:
    config = type("Config", (mnn.ComponentConfig,), {"__annotations__": {option: str}, option: "x"})
    return type("Lay", (Scale,), {"type_name": "t.lay", "Config": config})


@pytest.fixture
def registry():
    return builtins_only_registry()


@pytest.mark.parametrize(
    ("hook", "body", "message"),
    [
        ("register_layers", lambda r: [Scale], "register_layers returned [<class"),
        (
            "register_layers",
            lambda r: r("dense"),
            "expected a subclass of modular_nn.Layer, received: 'dense'",
        ),
        ("register_layers", lambda r: r(Dense(units=2)), "expected a subclass of modular_nn.Layer"),
        (
            "register_activations",
            lambda r: r(Scale),
            "expected a subclass of modular_nn.Activation",
        ),
        ("register_layers", lambda r: r(type("NoName", (mnn.Layer,), {})), "has no type_name"),
        (
            "register_layers",
            lambda r: r(
                type("BadConfig", (mnn.Layer,), {"type_name": "t.bad", "Config": NotAConfig})
            ),
            "Config must be a subclass of modular_nn.ComponentConfig",
        ),
        (
            "register_layers",
            lambda r: (r(Scale), r(type("Other", (Scale,), {}), name="test.scale")),
            "'test.scale' is registered twice, by Scale and by Other",
        ),
        ("register_layer", lambda r: None, "unknown hook 'register_layer'"),
        ("register_layers", lambda r: 1 / 0, "a hook raised ZeroDivisionError"),
        (
            "register_optimizers",
            lambda r: r(_optimizer_with_option("type")),
            "declares the option 'type', which specs use for the component's type name",
        ),
        (
            "register_layers",
            lambda r: r(_layer_with_option("name")),
            "declares the option 'name', which specs use for the component's layer name",
        ),
    ],
    ids=[
        "returns-garbage",
        "registers-a-string",
        "registers-an-instance",
        "wrong-base-class",
        "no-type-name",
        "config-not-a-component-config",
        "one-name-twice",
        "misspelt-hook",
        "hook-raises",
        "option-named-type",
        "layer-option-named-name",
    ],
)
def test_a_faulty_plugin_fails_alone_and_keeps_nothing(registry, hook, body, message):
    before = {kind: registry.names(kind) for kind in ("layers", "activations")}
    plugin = plugin_with(hook, body)
    with pytest.warns(PluginWarning, match="plugin 'faulty'") as caught:
        assert registry.register_plugin(plugin, provider="faulty") is False
    assert message in str(caught[0].message)
    assert registry.plugins["faulty"].status == "failed"
    assert message in registry.plugins["faulty"].error
    assert {kind: registry.names(kind) for kind in before} == before
    assert registry.register_plugin(
        plugin_with("register_layers", lambda r: r(Scale)), provider="test"
    )


def test_a_bad_hook_signature_is_an_invalid_hook_implementation(registry):
    class Plugin:
        @mnn.hookimpl
        def register_layers(self, reg):  # the argument must be called "register"
            reg(Scale)

    with pytest.warns(PluginWarning, match="invalid hook implementation"):
        assert registry.register_plugin(Plugin(), provider="bad-signature") is False


def test_a_plugin_failing_in_a_later_hook_keeps_nothing_from_earlier_ones(registry):
    class Plugin:
        @mnn.hookimpl
        def register_layers(self, register):
            register(Scale)

        @mnn.hookimpl
        def register_losses(self, register):
            raise ValueError("half-done")

    with pytest.warns(PluginWarning, match="half-done"):
        registry.register_plugin(Plugin(), provider="half")
    assert "test.scale" not in registry.names("layers")


def test_strict_mode_raises_for_a_registered_plugin(registry, monkeypatch):
    monkeypatch.setenv("MODULAR_NN_STRICT_PLUGINS", "1")
    with pytest.raises(mnn.PluginError, match="returned"):
        registry.register_plugin(plugin_with("register_layers", lambda r: [Scale]), provider="x")


def test_registering_a_taken_name_raises_naming_both_providers(registry):
    registry.register_plugin(
        plugin_with("register_layers", lambda r: r(Scale)),
        provider=Provider("test", "first-dist", "1.0"),
    )
    # another distribution's entry point "test" (plugin "second:test"): the same prefix
    with pytest.raises(
        ComponentConflictError, match="first-dist 1.0 .*and by plugin 'second:test'"
    ):
        registry.register_plugin(
            plugin_with("register_layers", lambda r: r(Scale)), provider="second:test"
        )
    with pytest.raises(ComponentConflictError, match="'dense' is a built-in name .*'third.dense'"):
        registry.register_plugin(
            plugin_with("register_layers", lambda r: r(Dense)), provider="third"
        )
    assert registry.get("layers", "test.scale").provider.plugin == "test"


def test_unregister_removes_everything_a_plugin_registered(registry):
    generation = registry.generation
    registry.register_plugin(plugin_with("register_layers", lambda r: r(Scale)), provider="test")
    assert registry.generation > generation
    try:
        assert registry.create("layers", {"type": "test.scale"}).type_name == "test.scale"
    finally:
        registry.unregister_plugin("test")
    assert "test" not in registry.plugins
    with pytest.raises(UnknownComponentError, match="unknown layer type 'test.scale'"):
        registry.get("layers", "test.scale")


def test_register_under_another_name(registry):
    registry.register_plugin(
        plugin_with("register_layers", lambda r: r(Scale, name="test.alias")), provider="test"
    )
    cls = registry.get("layers", "test.alias").cls
    assert issubclass(cls, Scale) and cls.type_name == "test.alias"
    assert Scale.type_name != "test.alias"  # the original class is left alone


def test_unknown_lookups_suggest_close_names(registry):
    with pytest.raises(UnknownComponentError, match="did you mean 'dense'"):
        registry.get("layers", "dense_")
    with pytest.raises(mnn.PluginError, match="unknown component kind 'layer'"):
        registry.names("layer")


@pytest.mark.parametrize("ref", [5, {"units": 3}, {"type": 7}, None])
def test_create_refuses_what_is_neither_a_name_nor_an_entry(ref: object) -> None:
    with pytest.raises(mnn.SpecError, match="expected one of the layers as a name or"):
        mnn.get_registry().create("layers", ref)  # type: ignore[arg-type]


def test_a_plugin_with_a_bad_option_name_leaves_specs_of_other_components_working(registry):
    plugin = plugin_with("register_optimizers", lambda r: r(_optimizer_with_option("type")))
    with pytest.warns(PluginWarning):
        registry.register_plugin(plugin, provider="faulty")
    from modular_nn.registry import use_registry

    with use_registry(registry):
        mnn.build_model(
            {"input_shape": [3], "layers": [{"type": "dense", "units": 1}], "optimizer": "sgd"}
        )


def test_a_hook_without_the_hookimpl_marker_is_a_failure_not_silence(registry):
    class Plugin:
        def register_layers(self, register):  # the @mnn.hookimpl line forgotten
            register(Scale)

    with pytest.warns(PluginWarning, match="register_layers is not marked @modular_nn.hookimpl"):
        assert registry.register_plugin(Plugin(), provider="forgetful") is False
    assert registry.plugins["forgetful"].status == "failed"


def test_conformance_cases_of_a_provider_with_no_components_raise(registry):
    from modular_nn.testing import conformance_cases

    class Empty:
        pass

    assert registry.register_plugin(Empty(), provider="empty")
    with pytest.raises(mnn.PluginError, match="registered no components"):
        conformance_cases(plugin="empty", registry=registry)


def test_did_you_mean_finds_a_prefixed_name_from_its_short_part():
    from modular_nn.registry import UnknownComponentError

    error = UnknownComponentError("layers", "glu", ["dense", "extras.glu", "extras.highway"])
    assert error.suggestions[0] == "extras.glu"
    assert "did you mean 'extras.glu'" in str(error)
