"""LeakyReLU: Keras 3 default slope, the Keras 2 alias alpha, values."""

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.activations.leaky_relu import LeakyReLU


def test_default_slope_and_values() -> None:
    act = LeakyReLU()
    assert act.get_config() == {"negative_slope": 0.2}
    np.testing.assert_allclose(act(np.array([-2.0, 0.0, 3.0])), [-0.4, 0.0, 3.0])
    np.testing.assert_allclose(act.backward(np.ones(3)), [0.2, 1.0, 1.0])


def test_alpha_is_an_alias_in_specs() -> None:
    act = LeakyReLU(alpha=0.1)
    assert act.get_config() == {"negative_slope": 0.1}
    spec = {
        "input_shape": [3],
        "layers": [
            {"type": "dense", "units": 2, "activation": {"type": "leaky_relu", "alpha": 0.1}}
        ],
    }
    layer = mnn.build_model(spec).to_spec().model_dump()["layers"][0]
    assert layer["activation"] == {"type": "leaky_relu", "negative_slope": 0.1}
    with pytest.raises(mnn.SpecError, match="negative_slope"):
        LeakyReLU(negative_slope=-1)
