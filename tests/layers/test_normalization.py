"""normalization: Keras's semantics, given or adapted statistics, streamed adaptation."""

from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.checkpoint.inspection import describe_checkpoint
from modular_nn.data import H5Source
from modular_nn.layers.normalization import Normalization
from modular_nn.testing import assert_gradients_close, check_layer_gradients


def _layer(shape: tuple[int, ...], dtype: Any = np.float64, **options: Any) -> Normalization:
    layer = Normalization(**options)
    layer.build(shape, np.random.default_rng(0), dtype)
    return layer


def _adapted_model(input_shape: list[int], dtype: str = "float64", **options: Any) -> mnn.Model:
    spec = {
        "input_shape": input_shape,
        "dtype": dtype,
        "layers": [
            {"type": "normalization", "adapt": True, **options},
            {"type": "flatten"},
            {"type": "dense", "units": 1, "activation": "sigmoid"},
        ],
        "loss": "binary_crossentropy",
        "optimizer": {"type": "sgd", "learning_rate": 0.01},
    }
    return mnn.build_model(spec)


@pytest.mark.parametrize("invert", [False, True])
@pytest.mark.parametrize(
    ("shape", "options"),
    [
        ((4,), {"mean": [0.5, -1.0, 2.0, 0.0], "variance": [4.0, 0.25, 1.0, 9.0]}),
        ((3, 2), {"axis": 1, "mean": [1.0, 2.0, 3.0], "variance": [2.0, 0.5, 3.0]}),
        ((3, 2), {"axis": [1, 2], "mean": 0.5, "variance": [1, 2, 3, 4, 5, 6]}),
        ((2, 2, 3), {"axis": None, "mean": -1.0, "variance": 2.5}),
    ],
)
def test_gradients(shape: tuple[int, ...], options: dict[str, Any], invert: bool) -> None:
    layer = Normalization(invert=invert, **options)
    assert_gradients_close(check_layer_gradients(layer, shape, batch=4))


def test_forward_is_keras_formula_per_index_along_the_axis() -> None:
    layer = _layer((3, 2), axis=1, mean=[1.0, 2.0, 3.0], variance=[4.0, 1.0, 0.25])
    x = np.random.default_rng(1).normal(size=(5, 3, 2))
    mean = np.array([1.0, 2.0, 3.0])[None, :, None]
    std = np.sqrt(np.array([4.0, 1.0, 0.25]))[None, :, None]
    np.testing.assert_allclose(layer.forward(x), (x - mean) / std, rtol=1e-15)
    inverse = _layer((3, 2), axis=1, mean=[1.0, 2.0, 3.0], variance=[4.0, 1.0, 0.25], invert=True)
    np.testing.assert_allclose(inverse.forward(layer.forward(x)), x, rtol=1e-12)


def test_zero_variance_divides_by_epsilon_not_zero() -> None:
    layer = _layer((2,), mean=[3.0, 0.0], variance=[0.0, 1.0])
    y = layer.forward(np.array([[3.0, 1.0], [3.5, 2.0]]))
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y, [[0.0, 1.0], [0.5 / 1e-7, 2.0]])
    np.testing.assert_allclose(layer.backward(np.ones((2, 2))), [[1e7, 1.0], [1e7, 1.0]])


def test_keeps_float32() -> None:
    layer = _layer((3,), np.float32, mean=1.0, variance=2.0)
    x = np.ones((2, 3), np.float32)
    assert layer.forward(x).dtype == np.float32 and layer.backward(x).dtype == np.float32
    assert layer.buffers["mean"].dtype == np.float32


@pytest.mark.parametrize(
    ("axis", "reduce", "stat_shape"),
    [(-1, (0, 1, 2), (3,)), (1, (0, 2, 3), (4,)), ([1, 2], (0, 3), (4, 5)), (None, None, (1,))],
)
def test_adapt_per_axis_equals_numpy(axis: Any, reduce: Any, stat_shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(2.0, 3.0, (50, 4, 5, 3)) * rng.uniform(0.5, 4, (1, 4, 5, 3))
    layer = _layer((4, 5, 3), axis=axis, adapt=True)
    assert layer.needs_adapting()
    for start in range(0, 50, 7):  # uneven batches
        layer.adapt_update(x[start : start + 7])
    layer.adapt_finish()
    assert not layer.needs_adapting()
    assert layer.buffers["mean"].shape == stat_shape
    mean, var = x.mean(axis=reduce), x.var(axis=reduce)
    np.testing.assert_allclose(layer.buffers["mean"], np.reshape(mean, stat_shape), rtol=1e-12)
    np.testing.assert_allclose(layer.buffers["variance"], np.reshape(var, stat_shape), rtol=1e-12)
    assert layer.buffers["count"][0] == x.size // int(np.prod(stat_shape))


def test_adapt_is_stable_far_from_zero() -> None:
    # sum and sum of squares lose every digit of a unit variance at 1e9; Chan's update does not
    x = 1e9 + np.random.default_rng(3).normal(0.0, 1.0, (4000, 2))
    layer = _layer((2,), adapt=True)
    for start in range(0, 4000, 32):
        layer.adapt_update(x[start : start + 32])
    layer.adapt_finish()
    np.testing.assert_allclose(layer.buffers["variance"], x.var(axis=0), rtol=1e-6)


def _write_h5(path: Path, x: np.ndarray, y: np.ndarray) -> Path:
    with h5py.File(path, "w") as f:
        f["X"], f["y"] = x, y
    return path


def test_fit_adapts_by_streaming_an_h5_source_larger_than_one_block(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    x = rng.normal([5.0, -3.0, 100.0], [2.0, 0.1, 30.0], (1000, 3))
    y = (x[:, 0] > 5).astype(np.float64)
    source = H5Source(_write_h5(tmp_path / "d.h5", x, y), block_rows=64)  # 16 blocks
    model = _adapted_model([3])
    model.fit(source, epochs=1, batch_size=32, verbose=0)
    layer = model.get_layer("normalization_1")
    np.testing.assert_allclose(layer.buffers["mean"], x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(layer.buffers["variance"], x.var(axis=0), rtol=1e-12)
    assert layer.buffers["count"][0] == 1000
    # the statistics then normalize what the next layer sees
    z = layer.forward(x)
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-10)
    np.testing.assert_allclose(z.std(axis=0), 1, rtol=1e-10)


def test_adapts_to_the_training_part_only_and_float32_from_float64_data() -> None:
    x = np.random.default_rng(5).normal(1.0, 2.0, (200, 2, 2))
    y = np.zeros(200)
    model = _adapted_model([2, 2], dtype="float32")
    model.fit(x, y, epochs=1, batch_size=16, validation_split=0.25, verbose=0)
    layer = model.get_layer("normalization_1")
    assert layer.buffers["mean"].dtype == np.float32
    np.testing.assert_allclose(layer.buffers["mean"], x[:150].mean(axis=(0, 1)), rtol=1e-6)
    np.testing.assert_allclose(layer.buffers["variance"], x[:150].var(axis=(0, 1)), rtol=1e-6)


def test_adapts_after_the_layers_before_it() -> None:
    spec = {
        "input_shape": [3],
        "dtype": "float64",
        "layers": [
            {"type": "rescaling", "scale": 10.0, "offset": 1.0},
            {"type": "normalization", "adapt": True},
            {"type": "dense", "units": 1},
        ],
        "loss": "mse",
        "optimizer": "sgd",
    }
    model = mnn.build_model(spec)
    x = np.random.default_rng(6).normal(size=(64, 3))
    model.fit(x, np.zeros((64, 1)), epochs=1, batch_size=8, shuffle=True, verbose=0)
    layer = model.get_layer("normalization_1")
    np.testing.assert_allclose(layer.buffers["mean"], (10 * x + 1).mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(layer.buffers["variance"], (10 * x + 1).var(axis=0), rtol=1e-12)


def test_save_load_keeps_the_statistics_and_does_not_adapt_again(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    x, y = rng.normal(3.0, 2.0, (120, 4)), rng.integers(0, 2, 120).astype(np.float64)
    model = _adapted_model([4])
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    saved = {k: v.copy() for k, v in model.get_layer("normalization_1").buffers.items()}
    model.save(tmp_path / "m.h5")
    loaded = mnn.load(tmp_path / "m.h5")
    layer = loaded.get_layer("normalization_1")
    for key, value in saved.items():
        np.testing.assert_array_equal(layer.buffers[key], value)
    assert not layer.needs_adapting()
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    # a further fit on other data leaves them alone (in the saved model and in memory)
    loaded.fit(x * 100 + 50, y, epochs=2, batch_size=16, verbose=0)
    model.fit(x * 100 + 50, y, epochs=1, batch_size=16, verbose=0)
    for key, value in saved.items():
        np.testing.assert_array_equal(layer.buffers[key], value)
        np.testing.assert_array_equal(model.get_layer("normalization_1").buffers[key], value)
    # inspect lists them as buffers
    text = describe_checkpoint(tmp_path / "m.h5")
    for key in ("mean", "variance", "count"):
        assert any(
            line.split()[:1] == [f"normalization_1/{key}"] and line.split()[-1] == "buffer"
            for line in text.splitlines()
        ), text
    shown = next(
        line for line in text.splitlines() if "normalization_1/mean" in line and "[" in line
    )
    assert f"[{saved['mean'][0]:.6g}, {saved['mean'][1]:.6g}," in shown


def test_given_statistics_round_trip_through_the_spec() -> None:
    spec = {
        "input_shape": [2],
        "layers": [{"type": "normalization", "mean": [1, 2], "variance": [4, 0]}],
    }
    model = mnn.build_model(spec)
    layer = model.get_layer("normalization_1")
    assert not layer.needs_adapting() and layer.buffers["count"][0] == 0
    entry = model.to_spec().model_dump(mode="json")["layers"][0]
    assert entry["mean"] == [1.0, 2.0] and entry["variance"] == [4.0, 0.0]
    assert entry["axis"] == -1 and entry["adapt"] is False
    y = mnn.build_model(model.to_spec()).predict(np.array([[3.0, 2.0]]))
    np.testing.assert_allclose(y, [[1.0, 0.0]])


def test_passes_a_mask_on() -> None:
    layer = Normalization(mean=0.0, variance=1.0)
    assert layer.supports_masking and layer.produces_mask((5, 3), True)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "expected mean and variance, or adapt: true"),
        ({"adapt": True, "mean": 0, "variance": 1}, "not both"),
        ({"mean": 0}, "variance is missing"),
        ({"variance": 1}, "mean is missing"),
        ({"mean": 0, "variance": -1}, "expected variances >= 0"),
        ({"adapt": True, "axis": 0}, "other than 0, the batch axis"),
        ({"adapt": True, "axis": [1, 1]}, "distinct axes"),
        ({"adapt": True, "axis": 3}, "axis 3 is out of range"),
        ({"adapt": True, "axis": [1, -2]}, "name the same axis twice"),
        ({"mean": [0, 1, 2], "variance": 1}, "mean has 3 values; expected 1 or 2"),
        ({"adapt": True, "epsilon": 0}, "epsilon"),
    ],
)
def test_spec_errors(options: dict[str, Any], message: str) -> None:
    spec = {"input_shape": [4, 2], "layers": [{"type": "normalization", **options}]}
    with pytest.raises(mnn.SpecError, match=message) as caught:
        mnn.build_model(spec)
    assert "layers[0]" in str(caught.value)
