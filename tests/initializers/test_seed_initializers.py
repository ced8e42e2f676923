"""The core initializers: shapes, dtype, scale, determinism."""

import numpy as np
import pytest

import modular_nn as mnn

SHAPE = (200, 300)


def draw(name: str, seed: int = 0, dtype: type = np.float32, **options: object) -> np.ndarray:
    init = mnn.get_registry().create("initializers", {"type": name, **options})
    return init(SHAPE, np.random.default_rng(seed), dtype)


@pytest.mark.parametrize(
    ("name", "std"),
    [
        ("he_normal", np.sqrt(2 / 200)),
        ("he_uniform", np.sqrt(6 / 200) / np.sqrt(3)),
        ("glorot_normal", np.sqrt(2 / 500)),
        ("glorot_uniform", np.sqrt(6 / 500) / np.sqrt(3)),
        ("normal", 0.05),
    ],
)
def test_scale(name: str, std: float) -> None:
    w = draw(name)
    assert w.shape == SHAPE and w.dtype == np.float32
    assert w.std() == pytest.approx(std, rel=0.03)
    assert abs(w.mean()) < 0.1 * std
    np.testing.assert_array_equal(w, draw(name))


def test_constants() -> None:
    assert not draw("zeros").any()
    assert (draw("ones", dtype=np.float64) == 1).all()


def test_conv_kernel_fans() -> None:
    from modular_nn.components.initializer import compute_fans

    assert compute_fans((3, 3, 16, 32)) == (144, 288)
    assert compute_fans((10, 20)) == (10, 20)
