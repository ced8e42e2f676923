"""A NaN or Inf loss stops training with the epoch, the step and the layer where it started."""

import numpy as np
import pytest

import modular_nn as mnn


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_non_finite_loss_names_epoch_step_output_layer_and_gradient() -> None:
    spec = {
        "input_shape": [2],
        "layers": [
            {"type": "dense", "units": 4, "activation": "relu", "name": "hidden"},
            {"type": "dense", "units": 1, "name": "out"},
        ],
        "loss": "mse",
        "optimizer": {"type": "sgd", "learning_rate": 0.01},
    }
    model = mnn.build_model(spec)
    model.get_layer("out").params["kernel"][...] = 1e30  # the output overflows float32
    x = np.ones((8, 2), np.float32) * 1e10
    with pytest.raises(mnn.TrainingError) as info:
        model.fit(x, np.zeros(8), epochs=3, batch_size=4, verbose=0)
    message = str(info.value)
    assert "epoch 1, step 1" in message
    assert "first non-finite output: layer 'out'" in message
    assert "first non-finite gradient going back from the loss: out/" in message
    assert "last finite" in message and "global_clipnorm" in message
    assert model.optimizer.iterations == 0  # the bad step was not applied
