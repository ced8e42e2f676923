"""``Activation.apply``: in place only when the layer allows it, never when fused."""

from __future__ import annotations

import numpy as np

from modular_nn.activations.relu import ReLU
from modular_nn.activations.tanh import Tanh


def test_an_activation_without_an_in_place_forward_leaves_its_input_alone() -> None:
    tanh = Tanh()
    z = np.array([[0.5, -1.0]])
    before = z.copy()
    y = tanh.apply_owned(z)  # the default forward_in_place is forward
    np.testing.assert_allclose(y, np.tanh(before))
    np.testing.assert_array_equal(z, before)


def test_a_fused_activation_keeps_the_logits_even_when_the_layer_owns_them() -> None:
    relu = ReLU()
    relu.fused = True
    z = np.array([[-1.0, 2.0]])
    y = relu.apply_owned(z)
    assert relu.logits is z and y is not z
    np.testing.assert_array_equal(z, [[-1.0, 2.0]])


def _dense_with(activation: str | dict, registry_classes: tuple = ()):  # noqa: ANN202
    """A built Dense(2) on 3 inputs, kernel all 10, using ``activation`` from a registry
    holding the built-ins and ``registry_classes``."""
    import modular_nn as mnn
    from modular_nn.layers.dense import Dense
    from modular_nn.registry import builtins_only_registry, use_registry

    class Plugin:
        @mnn.hookimpl
        def register_activations(self, register):  # noqa: ANN001, ANN202
            for cls in registry_classes:
                register(cls)

    registry = builtins_only_registry()
    registry.register_plugin(Plugin(), provider="test")
    with use_registry(registry):
        layer = Dense(units=2, activation=activation)
    layer.build((3,), np.random.default_rng(0), np.float64)
    layer.params["kernel"][...] = 10.0
    return layer


class ReLU6(ReLU):
    """A relu subclass with a forward of its own: relu's in-place forward must not replace it."""

    type_name = "test.relu6"

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.y = np.clip(x, 0, 6)
        return self.y


class LoggingTanh(Tanh):
    """Overrides ``apply`` (the old one-argument signature)."""

    type_name = "test.logging_tanh"
    calls = 0

    def apply(self, x: np.ndarray) -> np.ndarray:
        LoggingTanh.calls += 1
        return super().apply(x)


def test_a_relu_subclass_with_its_own_forward_keeps_it_inside_dense() -> None:
    layer = _dense_with("test.relu6", (ReLU6,))
    np.testing.assert_array_equal(layer.forward(np.ones((1, 3))), [[6.0, 6.0]])


def test_an_activation_overriding_apply_is_still_called_by_dense() -> None:
    layer = _dense_with("test.logging_tanh", (LoggingTanh,))
    before = LoggingTanh.calls
    np.testing.assert_allclose(layer.forward(np.full((1, 3), 0.01)), np.tanh([[0.3, 0.3]]))
    assert LoggingTanh.calls == before + 1


def test_a_dense_subclass_overriding_activate_keeps_it() -> None:
    from modular_nn.layers.dense import Dense

    class Halving(Dense):
        def activate(self, z: np.ndarray) -> np.ndarray:  # the old one-argument signature
            return super().activate(z) / 2

    layer = Halving(units=2, activation="relu")
    layer.build((3,), np.random.default_rng(0), np.float64)
    layer.params["kernel"][...] = 1.0
    np.testing.assert_array_equal(layer.forward(np.ones((1, 3))), [[1.5, 1.5]])
