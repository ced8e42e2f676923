"""ELU: values, continuity at zero, saturation at -alpha."""

import numpy as np

from modular_nn.activations.elu import ELU


def test_values_and_derivative() -> None:
    act = ELU(alpha=2.0)
    x = np.array([-50.0, -1.0, -1e-9, 0.0, 1.5])
    y = act(x)
    np.testing.assert_allclose(y, [-2.0, 2 * np.expm1(-1), 2 * np.expm1(-1e-9), 0.0, 1.5])
    np.testing.assert_allclose(
        act.backward(np.ones(5)),
        [2 * np.exp(-50), 2 * np.exp(-1), 2.0, 2, 1],
        rtol=1e-8,
        atol=1e-20,
    )
    assert ELU().get_config() == {"alpha": 1.0}
