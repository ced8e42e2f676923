"""lecun_normal, orthogonal, constant, truncated_normal: distributions, shapes, determinism."""

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.initializers.lecun_normal import _TRUNCATED_STD
from modular_nn.initializers.truncated_normal import sample_truncated_normal


def make(name: str, **options: object) -> mnn.components.initializer.Initializer:
    return mnn.get_registry().create("initializers", {"type": name, **options})


def draw(name: str, shape: tuple[int, ...], seed: int = 0, **options: object) -> np.ndarray:
    return make(name, **options)(shape, np.random.default_rng(seed), np.float64)


def test_truncated_normal_stays_within_two_stddev() -> None:
    w = draw("truncated_normal", (200, 300), mean=1.0, stddev=0.5)
    assert w.min() >= 0.0 and w.max() <= 2.0
    assert w.mean() == pytest.approx(1.0, abs=0.01)
    assert w.std() == pytest.approx(0.5 * _TRUNCATED_STD, rel=0.01)
    assert make("truncated_normal").get_config() == {"mean": 0.0, "stddev": 0.05}


def test_truncated_sampler_is_deterministic_per_generator() -> None:
    a = sample_truncated_normal(np.random.default_rng(3), (50, 50), 0.0, 1.0)
    b = sample_truncated_normal(np.random.default_rng(3), (50, 50), 0.0, 1.0)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a).max() <= 2


def test_lecun_normal_variance_is_one_over_fan_in() -> None:
    w = draw("lecun_normal", (3, 3, 20, 400))  # fan_in = 3 * 3 * 20
    assert w.var() == pytest.approx(1 / 180, rel=0.02)
    assert np.abs(w).max() <= 2 * np.sqrt(1 / 180) / _TRUNCATED_STD


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (3, 3, 2, 5), (5,)])
def test_orthogonal_rows_or_columns_are_orthonormal(shape: tuple[int, ...]) -> None:
    w = draw("orthogonal", shape, gain=2.0)
    assert w.shape == shape
    matrix = w.reshape(-1, shape[-1]) / 2.0
    gram = matrix.T @ matrix if matrix.shape[0] >= matrix.shape[1] else matrix @ matrix.T
    np.testing.assert_allclose(gram, np.eye(gram.shape[0]), atol=1e-12)


def test_constant_and_dtype() -> None:
    w = make("constant", value=0.25)((2, 3), np.random.default_rng(0), np.float32)
    assert w.dtype == np.float32
    np.testing.assert_array_equal(w, np.full((2, 3), 0.25))


@pytest.mark.parametrize("name", ["lecun_normal", "orthogonal", "truncated_normal"])
def test_seeded(name: str) -> None:
    np.testing.assert_array_equal(draw(name, (5, 4), seed=7), draw(name, (5, 4), seed=7))
    assert not np.array_equal(draw(name, (5, 4), seed=7), draw(name, (5, 4), seed=8))


def test_usable_from_a_spec() -> None:
    spec = {
        "input_shape": [6, 6, 1],
        "layers": [
            {
                "type": "conv2d",
                "filters": 3,
                "kernel_size": 3,
                "kernel_initializer": {"type": "orthogonal", "gain": 1.5},
                "bias_initializer": {"type": "constant", "value": 0.1},
            }
        ],
    }
    layer = mnn.build_model(spec).layers[0]
    np.testing.assert_allclose(layer.params["bias"], 0.1, rtol=1e-6)
    kernel = layer.params["kernel"].reshape(-1, 3).astype(np.float64) / 1.5
    np.testing.assert_allclose(kernel.T @ kernel, np.eye(3), atol=1e-5)
