"""The bench's gated ``fit``: one epoch of a single ``fit`` call per ``train_epoch``."""

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


def small_spec(baselines) -> dict:  # noqa: ANN001
    spec = baselines.load_spec("mlp")
    spec["input_shape"] = [12]
    spec["layers"][0]["units"] = 16
    spec["layers"][1]["units"] = 8
    return spec


def test_each_train_epoch_runs_one_epoch_of_one_fit_call(baselines) -> None:  # noqa: ANN001
    rng = np.random.default_rng(0)
    x, y = rng.random((64, 12), dtype=np.float32), rng.integers(0, 10, 64)
    trainer = baselines.ModularNN(small_spec(baselines), x, y, 16)
    model = trainer.model
    calls = []
    original = model.fit
    model.fit = lambda *a, **k: calls.append(k) or original(*a, **k)
    try:
        for expected in (1, 2, 3):
            trainer.train_epoch()
            assert model.epochs_done == expected
            assert len(model.history.history["loss"]) == expected
            assert model.global_step == 4 * expected  # 64 samples in batches of 16
        assert np.isfinite(trainer.loss)
        assert len(calls) == 1  # the same fit call all along
    finally:
        trainer.close()
    assert not trainer.gate.thread.is_alive()
    assert model.epochs_done == 3  # closing runs no further epoch


def test_the_gated_fit_gives_the_same_training_as_fit_per_epoch(baselines) -> None:  # noqa: ANN001
    rng = np.random.default_rng(1)
    x, y = rng.random((48, 12), dtype=np.float32), rng.integers(0, 10, 48)
    gated = baselines.ModularNN(small_spec(baselines), x, y, 16)
    per_call = baselines.ModularNN(small_spec(baselines), x, y, 16)
    try:
        for _ in range(2):
            gated.train_epoch()
            per_call.fit_call_epoch()
    finally:
        gated.close()
    for key, value in gated.model.params.items():
        np.testing.assert_array_equal(value, per_call.model.params[key])


def test_a_failing_fit_raises_in_the_caller(baselines) -> None:  # noqa: ANN001
    x = np.ones((8, 12), dtype=np.float32)
    x[3, 4] = np.nan  # fit refuses non-finite inputs before its first epoch
    trainer = baselines.ModularNN(small_spec(baselines), x, np.zeros(8, int), 4)
    with pytest.raises(RuntimeError, match="fit failed") as info:
        trainer.train_epoch()
    assert "NaN" in str(info.value.__cause__)
    with pytest.raises(RuntimeError, match="has ended"):
        trainer.train_epoch()
    trainer.close()


def test_a_fit_stopped_by_a_callback_is_reported_not_timed(baselines) -> None:  # noqa: ANN001
    rng = np.random.default_rng(2)
    x, y = rng.random((32, 12), dtype=np.float32), rng.integers(0, 10, 32)
    spec = small_spec(baselines)
    # early stopping that cannot see an improvement: fit ends after its second epoch
    spec["training"] = {"early_stopping": {"monitor": "loss", "patience": 1, "min_delta": 100}}
    trainer = baselines.ModularNN(spec, x, y, 16)
    try:
        trainer.train_epoch()
        trainer.train_epoch()
        assert trainer.model.epochs_done == 2
        for _ in range(2):  # never taken for an epoch, never a hang
            with pytest.raises(RuntimeError, match="has ended"):
                trainer.train_epoch()
    finally:
        trainer.close()
    assert trainer.model.epochs_done == 2
