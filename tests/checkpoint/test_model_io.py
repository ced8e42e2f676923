"""model.save / mnn.load: bit-identical round trips for every layer type, exact resume."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.checkpoint.writer import write_array
from modular_nn.registry import get_registry
from modular_nn.testing.checks.layers import NO_GRAPH_MODELS, graph_models_problem
from modular_nn.testing.examples import example_for


def _layer_example_model(type_name: str) -> tuple[mnn.Model, Any]:
    info = get_registry().get("layers", type_name)
    example = example_for(info)
    assert example is not None and example.input_shape is not None, (
        f"layer {type_name!r} has no example in modular_nn.testing.examples; add one so that "
        "its checkpoint round trip is tested"
    )
    several = isinstance(example.input_shape, list)  # one shape per input: a graph spec
    shapes = example.input_shape if several else [example.input_shape]
    names = [f"input_{i + 1}" for i in range(len(shapes))]
    spec: dict[str, Any] = {
        "input_shape": list(example.input_shape),
        "dtype": "float64",
        "seed": 11,
        "layers": [{"type": type_name, **example.options}],
        "loss": "mse",
        "optimizer": {"type": "adam", "learning_rate": 0.05},
    }
    if several:
        problem = graph_models_problem()
        if problem:
            pytest.skip(f"{type_name} takes several inputs: {NO_GRAPH_MODELS} ({problem})")
        del spec["input_shape"]
        spec["inputs"] = {name: list(shape) for name, shape in zip(names, shapes)}
        spec["layers"][0]["inputs"] = names
    model = mnn.build_model(spec)
    rng = np.random.default_rng(5)
    low, high = example.input_range or (-1.0, 1.0)
    xs = []
    for shape in shapes:
        if model.layers[0].accepts_integer_input:
            xs.append(rng.integers(int(low), int(high), size=(6, *shape)))
        else:
            xs.append(rng.uniform(low, high, size=(6, *shape)))
    return model, dict(zip(names, xs)) if several else xs[0]


@pytest.mark.parametrize("type_name", mnn.available("layers"))
def test_round_trip_for_every_layer_type(
    type_name: str, tmp_path: Path, assert_same_state: Callable[[mnn.Model, mnn.Model], None]
) -> None:
    model, x = _layer_example_model(type_name)
    y = np.random.default_rng(6).standard_normal((6, *model.output_shape))
    if model.params:
        model.fit(x, y, epochs=2, batch_size=4, verbose=0)  # moves weights, stats and slots
    path = tmp_path / f"{type_name}.h5"
    model.save(path)
    loaded = mnn.load(path)
    assert loaded.to_spec().model_dump() == model.to_spec().model_dump()
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x), strict=True)
    assert_same_state(loaded, model)


OPTIMIZERS = {
    "sgd_momentum": {"type": "sgd", "learning_rate": 0.1, "momentum": 0.9},
    "adam": {"type": "adam", "learning_rate": 0.01},
}


def _check_resume(
    spec: dict[str, Any],
    xy: Any,
    path: Path,
    before: int,
    after: int,
    assert_same_state: Callable[[mnn.Model, mnn.Model], None],
    how: str = "plain",
) -> mnn.Model:
    """Train ``before`` epochs, save, load, train ``after`` more; compare with no break."""
    uninterrupted = mnn.build_model(spec)
    uninterrupted.fit(*xy, epochs=before + after, verbose=0)
    first = mnn.build_model(spec)
    first.fit(*xy, epochs=before, verbose=0)
    first.save(path)
    resumed = mnn.load(path)
    if how == "plain":
        resumed.fit(*xy, epochs=after, verbose=0)
    else:
        resumed.fit(*xy, epochs=before + after, initial_epoch=before, verbose=0)
    assert_same_state(resumed, uninterrupted)
    return resumed


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("how", ["plain", "initial_epoch"])
def test_resume_is_bit_identical_to_uninterrupted_training(
    optimizer: str,
    how: str,
    tiny_spec: Any,
    xy: Any,
    tmp_path: Path,
    assert_same_state: Callable[[mnn.Model, mnn.Model], None],
) -> None:
    spec = tiny_spec(optimizer=OPTIMIZERS[optimizer])  # dropout and shuffling included
    resumed = _check_resume(spec, xy, tmp_path / "run.h5", 2, 3, assert_same_state, how)
    assert resumed.history.epoch == [1, 2, 3, 4, 5]
    assert resumed.optimizer.slots  # momentum / moments really were carried over


@pytest.mark.parametrize("optimizer", mnn.available("optimizers"))
def test_resume_with_every_optimizer(
    optimizer: str,
    tiny_spec: Any,
    xy: Any,
    tmp_path: Path,
    assert_same_state: Callable[[mnn.Model, mnn.Model], None],
) -> None:
    info = get_registry().get("optimizers", optimizer)
    options = example_for(info).options  # type: ignore[union-attr]
    spec = tiny_spec(optimizer={"type": optimizer, **options})
    _check_resume(spec, xy, tmp_path / "run.h5", 1, 2, assert_same_state)


def test_load_restores_training_state_and_history(
    trained: mnn.Model, checkpoint: Path, assert_same_state: Callable[[mnn.Model, mnn.Model], None]
) -> None:
    loaded = mnn.load(checkpoint)
    assert_same_state(loaded, trained)
    assert loaded.rng.bit_generator.state == trained.rng.bit_generator.state
    # The dropout layer draws from the restored generator itself, not a copy.
    assert loaded.layers[1].rng is loaded.rng
    assert loaded.dtype == trained.dtype == np.float32


def test_model_without_loss_and_optimizer_round_trips(tmp_path: Path) -> None:
    model = mnn.build_model({"input_shape": [3], "layers": [{"type": "dense", "units": 2}]})
    model.save(tmp_path / "bare.h5")
    loaded = mnn.load(tmp_path / "bare.h5")
    assert loaded.optimizer is None and loaded.loss is None
    x = np.ones((2, 3))
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x), strict=True)


def test_save_overwrites_an_existing_checkpoint(
    trained: mnn.Model, checkpoint: Path, xy: Any
) -> None:
    trained.fit(*xy, epochs=1, verbose=0)
    trained.save(checkpoint)
    assert mnn.load(checkpoint).epochs_done == 3
    assert [p.name for p in checkpoint.parent.iterdir()] == ["run.h5"]  # no temp file left


def test_save_accepts_str_paths_and_load_accepts_pathlike(
    trained: mnn.Model, tmp_path: Path
) -> None:
    trained.save(str(tmp_path / "a.h5"))
    assert mnn.load(tmp_path / "a.h5").global_step == trained.global_step


def test_load_casts_arrays_to_the_spec_dtype(checkpoint: Path, trained: mnn.Model) -> None:
    """A float64 array in a float32 checkpoint is cast to float32; the dtype never changes."""
    wide = np.random.default_rng(0).standard_normal((4, 6))
    with h5py.File(checkpoint, "r+") as file:
        del file["weights/dense_1/kernel"]
        write_array(file, "weights/dense_1/kernel", wide)
    loaded = mnn.load(checkpoint)
    assert loaded.dtype == np.float32
    kernel = loaded.params["dense_1/kernel"]
    assert kernel.dtype == np.float32
    np.testing.assert_array_equal(kernel, wide.astype(np.float32))
    assert loaded.predict(np.ones((2, 4))).dtype == np.float32


def test_a_spec_bigger_than_its_file_is_refused_before_anything_is_built(
    checkpoint: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hashlib
    import json

    with h5py.File(checkpoint, "r+") as f:
        spec = json.loads(bytes(f["spec"][()]).decode())
        spec["input_shape"], spec["layers"][0]["units"] = [30000], 30000  # 900M parameters
        raw = json.dumps(spec).encode()
        del f["spec"]
        f["spec"] = np.array(raw, dtype=f"S{len(raw)}")
        f["spec"].attrs["sha256"] = np.bytes_(hashlib.sha256(raw).hexdigest())

    def no_building(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the model was built")

    monkeypatch.setattr("modular_nn.checkpoint.model_io._build", no_building)
    with pytest.raises(mnn.CheckpointError, match=r"describes [\d,]+ parameters .* more than"):
        mnn.load(checkpoint)


@pytest.mark.parametrize("keys", [[1, ["a"]], "loss", [None]])
def test_history_keys_that_are_not_names_are_ignored(checkpoint: Path, keys: object) -> None:
    import hashlib
    import json

    raw = json.dumps(keys).encode()
    with h5py.File(checkpoint, "r+") as f:
        del f["training/history/keys"]
        f["training/history/keys"] = np.array(raw, dtype=f"S{len(raw)}")
        f["training/history/keys"].attrs["sha256"] = np.bytes_(hashlib.sha256(raw).hexdigest())
    history = mnn.load(checkpoint).history.history
    assert sorted(history) == list(history)  # the stored (sorted) order, keys ignored


def test_early_stopping_weights_are_saved_and_checked(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(40, 4)), rng.normal(size=(40, 1))
    run = {
        "input_shape": [4],
        "layers": [{"type": "dense", "units": 1}],
        "loss": "mse",
        "optimizer": {"type": "sgd", "learning_rate": 0.05},
        "training": {"validation_split": 0.25,
                     "early_stopping": {"patience": 50, "restore_best_weights": True}},
    }  # fmt: skip
    model = mnn.build_model(run)
    model.fit(x, y, epochs=3, verbose=0)
    assert model.early_stopping_best is not None
    model.save(tmp_path / "es.h5")
    loaded = mnn.load(tmp_path / "es.h5")
    assert loaded.early_stopping_best is not None
    assert loaded.early_stopping_best[0] == model.early_stopping_best[0]
    for key, value in model.early_stopping_best[1].items():
        np.testing.assert_array_equal(loaded.early_stopping_best[1][key], value)
    with h5py.File(tmp_path / "es.h5", "r+") as f:
        del f["training/early_stopping/best_weights/dense_1/bias"]
    with pytest.raises(mnn.CheckpointError, match="early-stopping weights do not match"):
        mnn.load(tmp_path / "es.h5")


def test_a_float32_file_whose_spec_asks_for_float64_still_loads(tmp_path: Path) -> None:
    import hashlib
    import json

    model = mnn.build_model(
        {"input_shape": [1000], "layers": [{"type": "dense", "units": 500}], "dtype": "float32"}
    )
    model.save(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "r+") as f:
        spec = json.loads(bytes(f["spec"][()]).decode())
        spec["dtype"] = "float64"  # the weights are float32: 4 bytes each, not 8
        raw = json.dumps(spec).encode()
        del f["spec"]
        f["spec"] = np.array(raw, dtype=f"S{len(raw)}")
        f["spec"].attrs["sha256"] = np.bytes_(hashlib.sha256(raw).hexdigest())
    loaded = mnn.load(tmp_path / "m.h5")
    assert loaded.dtype == np.float64
    np.testing.assert_array_equal(loaded.get_weights()["dense_1/kernel"],
                                  model.get_weights()["dense_1/kernel"])  # fmt: skip
