"""Format-1 checkpoints written by commit 21784e6 keep working, bit for bit.

The files in ``tests/fixtures/format1`` were made once by the code of commit 21784e6
(see ``make_fixtures.py`` there, which must not be re-run to "update" them). Later code
must load them, predict exactly the stored outputs, continue training to exactly the
stored weights and history, load the weights-only file by name, describe the loaded
models with the embedded spec, and save them again without loss.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

import modular_nn as mnn

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "format1"
CHECKPOINTS = ["xor_sgd", "mlp_adam_bn_dropout", "cnn_rmsprop_f64"]

# examples/xor.json as of 21784e6: the model of xor_sgd.h5 and weights_only.h5.
XOR_SPEC: dict[str, Any] = {
    "name": "xor",
    "input_shape": [2],
    "seed": 42,
    "layers": [
        {"type": "dense", "units": 5, "activation": "relu"},
        {"type": "dense", "units": 1, "activation": "sigmoid"},
    ],
    "loss": "binary_crossentropy",
    "optimizer": {"type": "sgd", "learning_rate": 0.5},
    "training": {"epochs": 2000, "batch_size": 4},
    "data": "builtin:xor",
}


def _expected(name: str) -> dict[str, np.ndarray]:
    with np.load(FIXTURES / f"{name}.npz") as data:
        return {key: data[key] for key in data.files}


def _stored(expected: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    """The arrays under ``prefix|``, by their original key (``|`` written back as ``/``)."""
    start = prefix + "|"
    return {
        key[len(start) :].replace("|", "/"): value
        for key, value in expected.items()
        if key.startswith(start)
    }


def _assert_same_arrays(actual: dict[str, np.ndarray], expected: dict[str, np.ndarray]) -> None:
    assert sorted(actual) == sorted(expected)
    for key, value in expected.items():
        assert actual[key].dtype == value.dtype, key
        assert actual[key].shape == value.shape, key
        assert np.array_equal(actual[key], value), f"{key} differs"


def _embedded_spec(path: Path) -> dict[str, Any]:
    with h5py.File(path, "r") as file:
        raw = file["spec"][()]
    return json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)


def test_fixtures_are_present() -> None:
    names = {path.name for path in FIXTURES.iterdir()}
    for name in CHECKPOINTS:
        assert {f"{name}.h5", f"{name}.npz"} <= names
    assert "weights_only.h5" in names


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_loaded_model_predicts_identically(name: str) -> None:
    expected = _expected(name)
    model = mnn.load(str(FIXTURES / f"{name}.h5"))
    predict = model.predict(expected["x"])
    assert predict.dtype == expected["predict"].dtype
    assert np.array_equal(predict, expected["predict"])


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_continued_training_is_identical(name: str) -> None:
    expected = _expected(name)
    model = mnn.load(str(FIXTURES / f"{name}.h5"))
    history = model.fit(
        expected["x"],
        expected["y"],
        epochs=int(expected["epochs"]),
        batch_size=int(expected["batch_size"]),
        verbose=0,
    )
    _assert_same_arrays(model.get_weights(), _stored(expected, "weights"))
    assert history.epoch == expected["history_epoch"].tolist()
    _assert_same_arrays(
        {key: np.asarray(values, dtype=np.float64) for key, values in history.history.items()},
        _stored(expected, "history"),
    )


def test_weights_only_file_loads_strictly_into_a_fresh_xor_model() -> None:
    expected = _expected("xor_sgd")
    model = mnn.build_model(XOR_SPEC)
    model.load_weights(FIXTURES / "weights_only.h5", strict=True)
    assert np.array_equal(model.predict(expected["x"]), expected["predict"])
    reference = mnn.load(str(FIXTURES / "xor_sgd.h5")).get_weights()
    _assert_same_arrays(model.get_weights(), reference)


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_loaded_model_describes_itself_with_the_embedded_spec(name: str) -> None:
    path = FIXTURES / f"{name}.h5"
    spec = mnn.load(str(path)).to_spec()
    embedded = mnn.load_spec(_embedded_spec(path))
    assert spec.model_dump(mode="json") == embedded.model_dump(mode="json")
    assert spec == embedded


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_saving_a_loaded_fixture_again_keeps_it(name: str, tmp_path: Path) -> None:
    expected = _expected(name)
    model = mnn.load(str(FIXTURES / f"{name}.h5"))
    model.save(str(tmp_path / "again.h5"))
    again = mnn.load(str(tmp_path / "again.h5"))
    assert np.array_equal(again.predict(expected["x"]), expected["predict"])
    _assert_same_arrays(again.get_weights(), model.get_weights())
