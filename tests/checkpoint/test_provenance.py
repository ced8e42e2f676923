"""Provenance: every component type is recorded with its provider; missing plugins are named."""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import h5py
import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.checkpoint.inspection import describe_checkpoint
from modular_nn.checkpoint.provenance import components_used
from modular_nn.errors import CheckpointError
from modular_nn.registry import Provider, Registry, get_registry, use_registry


class Swish(mnn.Activation):
    """x * sigmoid(x), registered by a throwaway plugin."""

    type_name = "ckpttest.swish"

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x, self.s = x, 1 / (1 + np.exp(-x))
        return x * self.s

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        # d/dx x s(x) = s + x s (1 - s)
        return grad_out * (self.s + self.x * self.s * (1 - self.s))


class ExtrasPlugin:
    @mnn.hookimpl
    def register_activations(self, register: object) -> None:
        register(Swish)  # type: ignore[operator]


SPEC = {
    "input_shape": [3],
    "layers": [
        {"type": "dense", "units": 4, "activation": "ckpttest.swish"},
        {"type": "dense", "units": 1, "kernel_initializer": "glorot_uniform"},
    ],
    "loss": "mse",
    "optimizer": "sgd",
}


@pytest.fixture
def extras() -> Iterator[str]:
    """A plugin from a pretend distribution ``modular-nn-extras`` 0.1, removed afterwards."""
    registry = get_registry()
    name = "ckpttest"
    registry.register_plugin(ExtrasPlugin(), provider=Provider(name, "modular-nn-extras", "0.1"))
    try:
        yield name
    finally:
        registry.unregister_plugin(name)


def test_every_component_type_is_recorded_with_its_provider(extras: str) -> None:
    records = components_used(mnn.load_spec(SPEC))
    found = {(r["kind"], r["name"]): r for r in records}
    assert set(found) == {
        ("layers", "dense"),
        ("activations", "ckpttest.swish"),
        ("activations", "linear"),
        ("initializers", "he_normal"),
        ("initializers", "glorot_uniform"),
        ("initializers", "zeros"),
        ("losses", "mse"),
        ("optimizers", "sgd"),
    }
    swish = found[("activations", "ckpttest.swish")]
    assert (swish["distribution"], swish["version"], swish["plugin"]) == (
        "modular-nn-extras",
        "0.1",
        "ckpttest",
    )
    assert found[("layers", "dense")]["distribution"] == "modular-nn"


def test_a_missing_plugin_names_the_distribution_to_install(extras: str, tmp_path: Path) -> None:
    path = tmp_path / "run.h5"
    mnn.build_model(SPEC).save(path)
    get_registry().unregister_plugin(extras)
    with pytest.raises(CheckpointError) as info:
        mnn.load(path)
    message = str(info.value)
    assert "activation type 'ckpttest.swish'" in message
    assert "provided by modular-nn-extras 0.1" in message
    assert "install modular-nn-extras>=0.1" in message
    # inspect still works without the plugin, and says the same.
    text = describe_checkpoint(path)
    assert "activations/ckpttest.swish" in text
    assert "MISSING: install modular-nn-extras>=0.1" in text


def test_provenance_is_plain_json_in_the_file(tmp_path: Path) -> None:
    mnn.build_model(SPEC | {"layers": SPEC["layers"][1:]}).save(tmp_path / "run.h5")
    with h5py.File(tmp_path / "run.h5", "r") as file:
        records = json.loads(bytes(file["provenance/components"][()]).decode("utf-8"))
    assert {"kind": "losses", "name": "mse"}.items() <= records[-2].items()
    assert all(set(r) == {"kind", "name", "plugin", "distribution", "version"} for r in records)


def _installed(distribution: str) -> bool:
    try:
        metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return False
    return True


@pytest.mark.skipif(not _installed("modular-nn-extras"), reason="needs plugins/modular-nn-extras")
def test_a_disabled_plugin_is_named_as_disabled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = SPEC | {"layers": [{"type": "dense", "units": 2, "activation": "extras.swish"}]}
    mnn.build_model(spec).save(tmp_path / "run.h5")
    monkeypatch.setenv("MODULAR_NN_DISABLE_PLUGINS", "modular-nn-extras")
    with use_registry(Registry()), pytest.raises(CheckpointError) as info:
        mnn.load(tmp_path / "run.h5")
    message = str(info.value)
    assert "activation type 'extras.swish'" in message
    assert "modular-nn-extras is installed but disabled (MODULAR_NN_DISABLE_PLUGINS)" in message
