"""The installed plugin is found through its real entry point (no monkeypatched metadata):
``pip install -e plugins/modular-nn-extras`` is all it takes."""

from __future__ import annotations

import json
from importlib import metadata

import h5py
import numpy as np
from modular_nn_extras import (
    GLU,
    BalancedAccuracy,
    BinaryFocal,
    GatedSum,
    Highway,
    Lion,
    LogCosh,
    Swish,
)

import modular_nn as mnn
from modular_nn.registry import Provider

EXPECTED = {
    "layers": {"extras.highway": Highway, "extras.glu": GLU, "extras.gated_sum": GatedSum},
    "activations": {"extras.swish": Swish},
    "losses": {"extras.log_cosh": LogCosh, "extras.focal": BinaryFocal},
    "optimizers": {"extras.lion": Lion},
    "metrics": {"extras.balanced_accuracy": BalancedAccuracy},
}


def test_the_entry_point_is_installed():
    (entry_point,) = [
        ep
        for ep in metadata.entry_points(group="modular_nn")
        if ep.value == "modular_nn_extras.plugin"
    ]
    assert entry_point.name == "extras"
    assert entry_point.dist.metadata["Name"] == "modular-nn-extras"


def test_every_component_is_available_with_its_provider():
    version = metadata.version("modular-nn-extras")
    registry = mnn.get_registry()
    provider = Provider("extras", "modular-nn-extras", version)
    for kind, classes in EXPECTED.items():
        for name, cls in classes.items():
            assert name in mnn.available(kind)
            info = registry.get(kind, name)
            assert info.cls is cls and info.provider == provider
    record = registry.plugins["extras"]
    assert record.status == "loaded" and record.provider == provider
    assert {k: sorted(v) for k, v in record.components.items()} == {
        kind: sorted(classes) for kind, classes in EXPECTED.items()
    }


SPEC = """
{
  "name": "highway_xor",
  "input_shape": [2],
  "seed": 3,
  "layers": [
    {"type": "dense", "units": 8, "activation": "extras.swish"},
    {"type": "extras.highway", "activation": "tanh"},
    {"type": "dense", "units": 1, "activation": "sigmoid"}
  ],
  "loss": "binary_crossentropy",
  "optimizer": {"type": "extras.lion", "learning_rate": 0.01}
}
"""


def test_a_json_spec_using_the_plugin_validates_trains_saves_and_loads(tmp_path):
    spec = mnn.load_spec(SPEC)
    assert spec.layers[1].name == "extras.highway_1"
    model = mnn.build_model(spec)
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]] * 8, dtype=np.float32)
    y = np.array([0, 1, 1, 0] * 8)
    history = model.fit(x, y, epochs=150, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert model.evaluate(x, y)["accuracy"] == 1.0

    path = tmp_path / "xor.h5"
    model.save(path)
    with h5py.File(path, "r") as f:  # the file says which distribution the layer came from
        records = json.loads(f["provenance/components"][()].decode())
    assert {"kind": "layers", "name": "extras.highway", "plugin": "extras"}.items() <= next(
        r for r in records if r["name"] == "extras.highway"
    ).items()
    assert next(r for r in records if r["name"] == "extras.highway")["distribution"] == (
        "modular-nn-extras"
    )

    loaded = mnn.load(path)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.to_spec().model_dump() == model.to_spec().model_dump()
    model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    loaded.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    for key, value in model.get_weights().items():
        np.testing.assert_array_equal(loaded.get_weights()[key], value)
