"""``Activation.apply``: in place only when the layer allows it, never when fused."""

from __future__ import annotations

import numpy as np

from modular_nn.activations.relu import ReLU
from modular_nn.activations.tanh import Tanh


def test_an_activation_without_an_in_place_forward_leaves_its_input_alone() -> None:
    tanh = Tanh()
    z = np.array([[0.5, -1.0]])
    before = z.copy()
    y = tanh.apply(z, overwrite=True)  # the default forward_in_place is forward
    np.testing.assert_allclose(y, np.tanh(before))
    np.testing.assert_array_equal(z, before)


def test_a_fused_activation_keeps_the_logits_even_when_overwrite_is_allowed() -> None:
    relu = ReLU()
    relu.fused = True
    z = np.array([[-1.0, 2.0]])
    y = relu.apply(z, overwrite=True)
    assert relu.logits is z and y is not z
    np.testing.assert_array_equal(z, [[-1.0, 2.0]])
