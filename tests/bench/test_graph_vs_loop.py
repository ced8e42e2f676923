"""The bench's plain layer loop computes what the graph path computes, bit for bit.

``bench/run.py``'s part ``graph`` times ``Model._train_step`` (the graph engine) against
``baselines.PlainLoop`` (the sequential train step before the engine); the ratio means
something only if both do the same maths. No timing here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="module")
def baselines():  # noqa: ANN201 - bench/ is a folder of scripts, not a package
    sys.path.insert(0, str(BENCH))
    try:
        import baselines

        yield baselines
    finally:
        sys.path.remove(str(BENCH))


def tiny_mlp(baselines, optimizer: str = "sgd", dropout: bool = False) -> dict:  # noqa: ANN001
    spec = baselines.load_spec("mlp")
    spec["input_shape"] = [12]
    spec["layers"][0]["units"] = 16
    spec["layers"][1]["units"] = 8
    if dropout:
        spec["layers"].insert(1, {"type": "dropout", "rate": 0.25})
    spec["optimizer"] = {"type": optimizer, "learning_rate": 0.05}
    return spec


def tiny_cnn(baselines) -> dict:  # noqa: ANN001
    spec = baselines.load_spec("cnn")
    spec["input_shape"] = [8, 8, 1]
    return spec


@pytest.mark.parametrize("case", ["mlp_sgd", "mlp_adam_dropout", "mlp_mse", "cnn"])
def test_three_steps_give_identical_weights(baselines, case: str) -> None:  # noqa: ANN001
    rng = np.random.default_rng(0)
    if case == "cnn":
        spec = tiny_cnn(baselines)
        x = rng.random((24, 8, 8, 1), dtype=np.float32)
    else:
        spec = tiny_mlp(baselines, "adam" if "adam" in case else "sgd", "dropout" in case)
        x = rng.random((24, 12), dtype=np.float32)
    y = rng.integers(0, 10, len(x))
    if case == "mlp_mse":  # no fused activation: the loss's own forward and backward
        spec["loss"] = {"type": "mse"}
        y = baselines.one_hot(y, 10)
    graph = baselines.GraphVsLoop(spec, x, y, 8)
    loop = baselines.GraphVsLoop(spec, x, y, 8)
    start = graph.model.get_weights()
    assert all(np.array_equal(v, loop.model.get_weights()[k]) for k, v in start.items())
    assert len(graph.batches) == 3
    assert (graph.loop.fused is not None) == (case != "mlp_mse")

    graph.graph_epoch()
    loop.loop_epoch()

    after, expected = graph.model.get_weights(), loop.model.get_weights()
    assert after.keys() == expected.keys()
    for key, value in after.items():
        assert value.dtype == expected[key].dtype
        assert np.array_equal(value, expected[key]), key
        if key.endswith("kernel"):
            assert not np.array_equal(value, start[key]), f"{key} did not train"
    assert graph.model.global_step == loop.model.global_step == 3
    graph_metrics, loop_metrics = graph.metrics[0], loop.metrics[0]
    assert [m.result() for m in graph_metrics] == [m.result() for m in loop_metrics]


def test_the_plain_loop_refuses_graphs(baselines) -> None:  # noqa: ANN001
    import modular_nn as mnn

    spec = {
        "inputs": {"a": [4], "b": [4]},
        "layers": [
            {"name": "da", "type": "dense", "units": 3, "inputs": ["a"]},
            {"name": "db", "type": "dense", "units": 3, "inputs": ["b"]},
            {"name": "sum", "type": "add", "inputs": ["da", "db"]},
        ],
        "loss": "mse",
        "optimizer": "sgd",
    }
    with pytest.raises(ValueError, match="chains"):
        baselines.PlainLoop(mnn.build_model(spec))
