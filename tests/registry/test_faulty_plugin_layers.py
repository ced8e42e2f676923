"""Installed plugins whose layer classes are faulty, used from a JSON spec like any layer:
each fault is reported where it shows, naming the layer, its type and the distribution
that provides it, never as a bare exception from inside the plugin's code.

(Hooks that raise, return values or register non-classes: test_registry_plugins.py and
test_registry_discovery.py. A layer whose backward is wrong, built in Python:
tests/model/test_layer_checks.py; here it comes through discovery and a spec.)
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.registry import use_registry

#: One plugin module with a working layer and one faulty layer per method.
FAULTY_PLUGIN = """
import numpy as np
import modular_nn as mnn

class Twice(mnn.Layer):
    type_name = "faulty.twice"

    def forward(self, x, training=False):
        return x * 2

    def backward(self, grad_out):
        return grad_out * 2

class WrongBackward(Twice):
    type_name = "faulty.wrong_backward"

    def backward(self, grad_out):
        return grad_out[:, :-1] * 2

class ShapeRaises(Twice):
    type_name = "faulty.shape_raises"

    def compute_output_shape(self, input_shape):
        return input_shape + 1

class ShapeGarbage(Twice):
    type_name = "faulty.shape_garbage"

    def compute_output_shape(self, input_shape):
        return (-3,)

class InitRaises(Twice):
    type_name = "faulty.init_raises"

    def __init__(self, **options):
        raise KeyError("units")

@mnn.hookimpl
def register_layers(register):
    for cls in [Twice, WrongBackward, ShapeRaises, ShapeGarbage, InitRaises]:
        register(cls)
"""

PROVIDER = "modular-nn-faulty 1.0 (plugin 'faulty')"


@pytest.fixture
def faulty(make_distribution, fresh_registry):
    sources, entry_points = {"faulty_plugin": FAULTY_PLUGIN}, {"faulty": "faulty_plugin"}
    make_distribution("modular-nn-faulty", sources, entry_points)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the plugin itself loads cleanly
        registry = fresh_registry()
    with use_registry(registry):
        yield registry


def spec_with(layer_type: str) -> dict:
    return {
        "input_shape": [3],
        "layers": [
            {"type": "dense", "units": 4},
            {"type": layer_type},
            {"type": "dense", "units": 1},
        ],
        "loss": "mse",
        "optimizer": "sgd",
    }


def test_a_working_plugin_layer_trains(faulty) -> None:
    model = mnn.build_model(spec_with("faulty.twice"))
    x, y = np.ones((5, 3)), np.zeros((5, 1))
    before = model.evaluate(x, y)["loss"]
    history = model.fit(x, y, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and model.optimizer.iterations == 2
    assert model.evaluate(x, y)["loss"] < before  # its backward carried a useful gradient
    hidden = np.arange(8.0).reshape(2, 4).astype(model.dtype)
    np.testing.assert_array_equal(model.layers[1].forward(hidden), 2 * hidden)


def test_a_backward_of_the_wrong_shape_is_named_at_the_first_step(faulty) -> None:
    model = mnn.build_model(spec_with("faulty.wrong_backward"))  # builds: shapes agree
    with pytest.raises(mnn.ShapeError) as info:
        model.fit(np.ones((5, 3)), np.zeros((5, 1)), epochs=2, verbose=0)
    message = str(info.value)
    assert "layer 'faulty.wrong_backward_1' (faulty.wrong_backward)" in message
    assert "backward returned a gradient of shape (5, 3)" in message
    assert "expected the shape of its input (5, 4)" in message
    assert model.optimizer.iterations == 0


@pytest.mark.parametrize(
    ("layer_type", "expected"),
    [
        ("faulty.shape_raises", "its shape methods raised TypeError: can only concatenate tuple"),
        ("faulty.shape_garbage", "compute_output_shape returned (-3,)"),
        ("faulty.init_raises", "creating it raised KeyError: 'units'"),
    ],
)
def test_faulty_shape_methods_and_constructors_are_spec_errors_naming_the_plugin(
    faulty, layer_type: str, expected: str
) -> None:
    for attempt in (mnn.load_spec, mnn.build_model):
        with pytest.raises(mnn.SpecError) as info:
            attempt(spec_with(layer_type))
        issue = info.value.issues[0]
        assert issue.path == "layers[1]"
        assert f"layer '{layer_type}_1' ({layer_type}, from {PROVIDER})" in issue.message
        assert expected in issue.message
        assert "bug in that component" in issue.hint
