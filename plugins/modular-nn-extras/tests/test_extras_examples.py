"""The example specs in ``examples/`` validate, train (briefly) and round-trip through HDF5."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.data import load_builtin

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.json"))


def test_there_are_examples():
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_validates_trains_and_round_trips(path, tmp_path):
    spec = mnn.load_spec(path)
    types = {entry.type for entry in spec.layers}
    assert any(t.startswith("extras.") for t in types) or spec.loss.type.startswith("extras.")
    model = mnn.build_model(spec)
    if spec.data:
        data = load_builtin(spec.data.removeprefix("builtin:"))
        x, y = data.x_train[:256], data.y_train[:256]
    else:
        rng = np.random.default_rng(0)
        x = rng.standard_normal((256, *spec.input_shape)).astype(np.float32)
        y = np.tanh(x.sum(axis=1, keepdims=True))
    history = model.fit(x, y, epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    model.save(tmp_path / "model.h5")
    loaded = mnn.load(tmp_path / "model.h5")
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
