"""examples/digits_cnn.json: a small CNN on the built-in digits reaches 98% test accuracy."""

from pathlib import Path

import pytest

import modular_nn as mnn
from modular_nn.data import load_builtin

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "digits_cnn.json"


@pytest.mark.slow
def test_digits_cnn_reaches_98_percent_test_accuracy() -> None:
    spec = mnn.load_spec(EXAMPLE)
    assert spec.data == "builtin:digits"
    data = load_builtin(spec.data, spec.input_shape)  # NHWC images, the fixed split
    assert data.x_train.shape[1:] == (8, 8, 1)
    model = mnn.build_model(spec)
    assert {"conv2d", "max_pool2d", "global_avg_pool2d"} <= {
        layer.type_name for layer in model.layers
    }
    model.fit(data.x_train, data.y_train, verbose=0)
    assert model.evaluate(data.x_test, data.y_test)["accuracy"] >= 0.98
