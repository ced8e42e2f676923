"""AdamW: decay decoupled from the gradient, Keras defaults."""

import numpy as np

import modular_nn as mnn


def test_defaults() -> None:
    opt = mnn.get_registry().create("optimizers", "adamw")
    config = opt.get_config()
    assert config["learning_rate"] == 0.001 and config["weight_decay"] == 0.004
    assert config["epsilon"] == 1e-7


def test_decay_acts_on_the_weights_not_through_the_moments() -> None:
    # with a zero gradient Adam's step is 0: only the decay p *= 1 - lr * wd remains,
    # whereas adam's coupled L2 term would go through m / sqrt(v) (a step of about lr)
    p0 = np.array([2.0, -4.0])
    for name, expected in [("adamw", p0 * (1 - 0.1 * 0.5) ** 3), ("adam", None)]:
        param, grad = p0.copy(), np.zeros(2)
        opt = mnn.get_registry().create(
            "optimizers", {"type": name, "learning_rate": 0.1, "weight_decay": 0.5}
        )
        opt.bind({"w": param}, {"w": grad})
        for _ in range(3):
            opt.step()
        if expected is not None:
            np.testing.assert_allclose(param, expected, rtol=1e-12)
        else:
            np.testing.assert_allclose(param, p0 - 3 * 0.1 * np.sign(p0), rtol=1e-3)
    assert set(opt.state_dict()["slots"]["w"]) == {"m", "v"}
