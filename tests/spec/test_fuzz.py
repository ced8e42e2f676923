"""Property-based fuzzing of load_spec / build_model: succeed or raise SpecError, nothing else.

Random JSON values, mutations of valid specs (wrong types, missing keys, huge or
negative numbers, NaN and 1e308, unicode names, deep nesting), random layers of
every registered type with random options, every leaf of a valid spec set to
each of a list of extreme values, and a 10,000-layer spec. Every case is bounded
in time (a hard alarm that turns a hang into a failure; no hypothesis deadline,
which would be a timing assertion on a shared machine) and in memory (the
parameter limit is lowered so no case can allocate much). The number of cases
run is printed under "reliability counts".
"""

from __future__ import annotations

import copy
import json
import math
import signal
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import modular_nn as mnn
from modular_nn.registry import get_registry

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
    deadline=None,  # hangs are caught by ``bounded`` below; speed is not asserted
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(autouse=True)
def small_parameter_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODULAR_NN_MAX_PARAMS", "200000")


#: A hang guard, not a timing assertion: no case comes anywhere near it.
CASE_TIME_LIMIT = 30


@contextmanager
def bounded(seconds: int = CASE_TIME_LIMIT) -> Iterator[None]:
    """Fail (instead of hanging) when the body runs longer than ``seconds``."""

    def expire(signum: int, frame: Any) -> None:
        raise TimeoutError(f"a fuzz case ran longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def check(spec: Any, counts: Counter, label: str) -> None:
    """The property: a model or a SpecError, never another exception, within the bound."""
    counts[f"spec fuzz: {label}"] += 1
    with bounded():
        try:
            mnn.build_model(spec)
        except mnn.SpecError as exc:
            assert str(exc)  # a message, with at least one issue
            assert exc.issues
            counts["spec fuzz: cases refused with SpecError"] += 1
            return
    counts["spec fuzz: cases built into a model"] += 1


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
def test_random_json_values(reliability_counts: Counter, value: Any) -> None:
    spec = value if isinstance(value, dict) else {"layers": value, "input_shape": [2]}
    check(spec, reliability_counts, "random JSON values")


@FUZZ
@given(st.data())
def test_mutated_valid_specs(reliability_counts: Counter, data: st.DataObject) -> None:
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
    check(spec, reliability_counts, "mutated valid specs")


@FUZZ
@given(st.text(max_size=200))
def test_random_text(reliability_counts: Counter, text: str) -> None:
    reliability_counts["spec fuzz: random JSON text"] += 1
    with bounded():
        try:
            mnn.load_spec("{" + text)
        except mnn.SpecError:
            pass


@FUZZ
@given(st.lists(st.text(min_size=0, max_size=30), min_size=1, max_size=6))
def test_unicode_layer_names(reliability_counts: Counter, names: list[str]) -> None:
    layers = [{"type": "dense", "units": 2, "name": name} for name in names]
    check({"input_shape": [3], "layers": layers}, reliability_counts, "unicode layer names")


# Every registered layer type (built-ins and installed plugins alike), with a random
# subset of its own options set to random, often absurd, values.
option_values = st.one_of(
    scalars,
    st.integers(-3, 40),
    st.sampled_from(["same", "valid", "relu", "glorot_uniform", "zeros", "nope"]),
    st.lists(st.integers(-2, 6), max_size=4),
    st.just({"type": "constant", "value": math.nan}),
)


@st.composite
def random_layers(draw: st.DrawFn) -> dict[str, Any]:
    registry = get_registry()
    kind = draw(st.sampled_from(registry.names("layers")))
    fields = list(registry.get("layers", kind).cls.Config.model_fields)
    chosen = draw(st.lists(st.sampled_from(fields), unique=True)) if fields else []
    return {"type": kind, **{field: draw(option_values) for field in chosen}}


@FUZZ
@given(
    st.lists(st.integers(-1, 12), max_size=4),
    st.lists(random_layers(), min_size=1, max_size=4),
    st.sampled_from([None, "mse", "binary_crossentropy", "sparse_categorical_crossentropy"]),
)
def test_random_layers_of_every_registered_type(
    reliability_counts: Counter, input_shape: list[int], layers: list[Any], loss: str | None
) -> None:
    spec = {"input_shape": input_shape, "layers": layers, "loss": loss}
    check(spec, reliability_counts, "random layers of every registered type")


EXTREME_VALUES = [
    None, True, 0, -1, 2**31, 2**63, -(2**63), 2**70, 10**12, 1e308, -1e308, 5e-324,
    math.nan, math.inf, -math.inf, 0.5, "", "5", "ünïcødé 名前", "\x00", "dense_1",
    [], {}, [10**6] * 3, {"type": "dense"},
]  # fmt: skip


def test_every_field_of_a_valid_spec_set_to_each_extreme_value(
    reliability_counts: Counter,
) -> None:
    """Deterministic companion of the random mutations: no (place, value) pair is left to luck."""
    for path in paths(VALID):
        for value in EXTREME_VALUES:
            spec = set_path(copy.deepcopy(VALID), path, copy.deepcopy(value))
            check(spec, reliability_counts, "extreme values in every field of a valid spec")


def test_deep_nesting_in_json_text_and_dicts(reliability_counts: Counter) -> None:
    text = '{"input_shape": [2], "layers": ' + "[" * 50_000 + "]" * 50_000 + "}"
    with pytest.raises(mnn.SpecError), bounded():
        mnn.load_spec(text)
    deep: dict = {}
    cursor = deep
    for _ in range(20_000):
        cursor["a"] = {}
        cursor = cursor["a"]
    check({"input_shape": [2], "layers": [deep]}, reliability_counts, "deep nesting")
    spec = {"input_shape": [2], "layers": [{"type": "dense", "units": 2}], "data": deep}
    check(spec, reliability_counts, "deep nesting")


def test_ten_thousand_layers() -> None:
    layers = [{"type": "dense", "units": 2, "activation": "tanh"}] * 10_000
    with bounded():
        model = mnn.build_model({"input_shape": [2], "layers": layers})
    assert len(model.layers) == 10_000 and model.layers[-1].name == "dense_10000"
    bad = [*layers[:9_999], {"type": "dense", "units": 0}]
    with pytest.raises(mnn.SpecError, match=r"layers\[9999\]\.units"):
        mnn.load_spec({"input_shape": [2], "layers": bad})


HUGE_LAYERS = {
    "dense": ([10**6], {"type": "dense", "units": 10**6}, "'dense_1' would have 1,000,001,000,000"),
    "embedding": (
        [8],
        {"type": "embedding", "input_dim": 10**9, "output_dim": 1000},
        "'embedding_1' would have 1,000,000,000,000",
    ),
    "named-conv2d": (
        [64, 64, 10**6],
        {"type": "conv2d", "filters": 10**6, "kernel_size": 1, "name": "wide"},
        "'wide' would have 1,000,001,000,000",
    ),
}


@pytest.mark.parametrize(
    ("input_shape", "layer", "expected"), HUGE_LAYERS.values(), ids=HUGE_LAYERS
)
def test_a_trillion_parameter_layer_is_refused_at_validation_before_allocation(
    input_shape: list[int], layer: dict[str, Any], expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MODULAR_NN_MAX_PARAMS")  # the default limit, one billion
    spec = {"input_shape": input_shape, "layers": [layer, {"type": "flatten"}]}
    tracemalloc.start()
    try:
        with pytest.raises(mnn.SpecError) as info:
            mnn.load_spec(spec)  # validation alone refuses it, naming the layer and the count
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert f"{expected} parameters, more than the limit of 1,000,000,000" in str(info.value)
    assert info.value.issues[0].path == "layers[0]"
    assert peak < 50_000_000  # nothing of the layer's size was allocated (it would be >= 4 TB)
    with pytest.raises(mnn.SpecError, match=expected):
        mnn.build_model(spec)


def test_the_parameter_limit_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MODULAR_NN_MAX_PARAMS")
    spec = {"input_shape": [1_000_000], "layers": [{"type": "dense", "units": 1_000_000}]}
    monkeypatch.setenv("MODULAR_NN_MAX_PARAMS", str(10**13))
    assert mnn.load_spec(spec).layers[0].units == 1_000_000  # validated, not built
    monkeypatch.setenv("MODULAR_NN_MAX_PARAMS", "100")
    small = {"input_shape": [10], "layers": [{"type": "dense", "units": 10}]}
    with pytest.raises(mnn.SpecError, match="'dense_1' would have 110 parameters.*limit of 100"):
        mnn.build_model(small)
    monkeypatch.setenv("MODULAR_NN_MAX_PARAMS", "80")
    two = {
        "input_shape": [4],
        "layers": [{"type": "dense", "units": 10}, {"type": "dense", "units": 4}],
    }
    with pytest.raises(mnn.SpecError, match="the model would have 94 parameters.*limit of 80"):
        mnn.build_model(two)  # each layer fits, the total does not


def test_spec_json_round_trip_is_stable() -> None:
    spec = mnn.load_spec(json.dumps(VALID))
    again = mnn.load_spec(spec.to_json())
    assert again.model_dump() == spec.model_dump()
