"""Property-based fuzzing of load_spec / build_model: succeed or raise SpecError, nothing else.

Random JSON values, mutations of valid specs (wrong types, missing keys, huge or
negative numbers, NaN and 1e308, unicode names, deep nesting) and a
10,000-layer spec. Every case is bounded in time (hypothesis deadline) and in
memory (the parameter limit is lowered so no case can allocate much).
"""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import modular_nn as mnn

VALID = {
    "name": "fuzz",
    "input_shape": [6],
    "seed": 1,
    "layers": [
        {"type": "dense", "units": 4, "activation": "relu"},
        {"type": "batch_norm"},
        {"type": "dropout", "rate": 0.2},
        {"type": "dense", "units": 3, "activation": "softmax"},
    ],
    "loss": "sparse_categorical_crossentropy",
    "optimizer": {"type": "adam", "learning_rate": 0.01},
    "training": {"epochs": 2, "batch_size": 8},
}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 1, 2**31, 2**63, 10**12, 10**30]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -1e308, 5e-324]),
    st.text(max_size=20),
    st.sampled_from(["dense", "relu", "adam", "", "ünïcødé 名前", "a/b", "\x00", "dense_1"]),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)

FUZZ = settings(
    max_examples=150,
    deadline=3000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(autouse=True)
def small_parameter_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODULAR_NN_MAX_PARAMS", "200000")


def check(spec: Any) -> None:
    """The property: a model or a SpecError, never another exception."""
    try:
        mnn.build_model(spec)
    except mnn.SpecError as exc:
        assert str(exc)  # a message, with at least one issue
        assert exc.issues


def paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            found += paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += paths(value, (*prefix, index))
    return found


def set_path(data: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = value
    return data


def delete_path(data: Any, path: tuple) -> Any:
    if not path:
        return data
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    del parent[path[-1]]
    return data


@FUZZ
@given(json_values)
def test_random_json_values(value: Any) -> None:
    check(value if isinstance(value, dict) else {"layers": value, "input_shape": [2]})


@FUZZ
@given(st.data())
def test_mutated_valid_specs(data: st.DataObject) -> None:
    spec = copy.deepcopy(VALID)
    for _ in range(data.draw(st.integers(1, 4))):
        targets = paths(spec)
        path = data.draw(st.sampled_from(targets))
        action = data.draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            spec = set_path(spec, path, data.draw(json_values))
        elif action == "delete" and path:
            spec = delete_path(spec, path)
        elif action == "add":
            parent = spec
            for part in path:
                parent = parent[part]
            if isinstance(parent, dict):
                parent[data.draw(st.text(max_size=8))] = data.draw(json_values)
            elif isinstance(parent, list):
                parent.append(data.draw(json_values))
        if not isinstance(spec, dict):
            break
    check(spec)


@FUZZ
@given(st.text(max_size=200))
def test_random_text(text: str) -> None:
    try:
        mnn.load_spec("{" + text)
    except mnn.SpecError:
        pass


@FUZZ
@given(st.lists(st.text(min_size=0, max_size=30), min_size=1, max_size=6))
def test_unicode_layer_names(names: list[str]) -> None:
    layers = [{"type": "dense", "units": 2, "name": name} for name in names]
    check({"input_shape": [3], "layers": layers})


def test_deep_nesting_in_json_text_and_dicts() -> None:
    text = '{"input_shape": [2], "layers": ' + "[" * 50_000 + "]" * 50_000 + "}"
    with pytest.raises(mnn.SpecError):
        mnn.load_spec(text)
    deep: dict = {}
    cursor = deep
    for _ in range(20_000):
        cursor["a"] = {}
        cursor = cursor["a"]
    check({"input_shape": [2], "layers": [deep]})
    check({"input_shape": [2], "layers": [{"type": "dense", "units": 2}], "data": deep})


def test_ten_thousand_layers() -> None:
    layers = [{"type": "dense", "units": 2, "activation": "tanh"}] * 10_000
    model = mnn.build_model({"input_shape": [2], "layers": layers})
    assert len(model.layers) == 10_000 and model.layers[-1].name == "dense_10000"
    bad = [*layers[:9_999], {"type": "dense", "units": 0}]
    with pytest.raises(mnn.SpecError, match=r"layers\[9999\]\.units"):
        mnn.load_spec({"input_shape": [2], "layers": bad})


def test_huge_layer_is_refused_before_allocation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MODULAR_NN_MAX_PARAMS")
    spec = {"input_shape": [1_000_000], "layers": [{"type": "dense", "units": 1_000_000}]}
    with pytest.raises(mnn.SpecError, match="'dense_1' would have 1,000,001,000,000 parameters"):
        mnn.build_model(spec)
    monkeypatch.setenv("MODULAR_NN_MAX_PARAMS", str(10**13))
    assert mnn.load_spec(spec).layers[0].units == 1_000_000  # the limit is configurable


def test_spec_json_round_trip_is_stable() -> None:
    spec = mnn.load_spec(json.dumps(VALID))
    again = mnn.load_spec(spec.to_json())
    assert again.model_dump() == spec.model_dump()
