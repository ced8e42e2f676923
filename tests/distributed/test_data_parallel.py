"""Issue 18: training on several processes equals one process on the same global batches.

One ``mpiexec -n 2`` run of ``mpi_worker.py`` (and one with 3 processes, for uneven and
empty shards) trains the worker's small models; the references are the same functions
run here, in one process.
"""

from __future__ import annotations

from pathlib import Path

import mpi_worker as w
import numpy as np
import pytest
from mpi_helpers import run_mpi

import modular_nn as mnn
from modular_nn.data import H5Source

SCENARIOS = ["equivalence", "metrics", "batch_norm", "dropout", "checkpoint", "h5", "npz", "digest"]
#: float64 within 1e-12, float32 within 1e-5 (issue 18)
TOLERANCE = {"float64": 1e-12, "float32": 1e-5}


def launch(out: Path, processes: int, scenarios: list[str]) -> list[dict[str, np.ndarray]]:
    """Run the worker on ``processes`` processes; each rank's figures."""
    out.mkdir()
    w.write_data_files(out)
    proc = run_mpi(processes, str(Path(w.__file__)), str(out), *scenarios)
    assert proc.returncode == 0, proc.stderr
    ranks = []
    for rank in range(processes):
        with np.load(out / f"rank{rank}.npz") as f:
            ranks.append({key: f[key] for key in f.files})
    return ranks


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, np.ndarray]]:
    return launch(tmp_path_factory.mktemp("mpi") / "two", 2, SCENARIOS)


@pytest.fixture(scope="module")
def three(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, np.ndarray]]:
    return launch(tmp_path_factory.mktemp("mpi") / "three", 3, ["equivalence", "metrics", "h5"])


@pytest.fixture(scope="module")
def references() -> dict[str, tuple[np.ndarray, dict, dict]]:
    """Each configuration trained and evaluated in this process: weights, logs, results."""
    result = {}
    for name in w.CONFIGS:
        model, history = w.train(name, distributed=False)
        result[name] = (w.weights(model), history, w.evaluation(model, distributed=False))
    return result


def same_on_every_rank(ranks: list[dict[str, np.ndarray]], key: str) -> np.ndarray:
    for rank in ranks[1:]:
        np.testing.assert_array_equal(rank[key], ranks[0][key], err_msg=key)
    return ranks[0][key]


@pytest.mark.slow
@pytest.mark.parametrize("processes", [2, 3])
@pytest.mark.parametrize("name", list(w.CONFIGS))
def test_training_on_several_processes_equals_one(
    name: str, processes: int, two: list, three: list, references: dict
) -> None:
    ranks = two if processes == 2 else three
    tolerance = TOLERANCE[w.CONFIGS[name][0]]
    weights, history, results = references[name]
    steps = w.EPOCHS * -(-w.SAMPLES // w.BATCH)
    assert steps >= 20
    trained = same_on_every_rank(ranks, f"{name}/weights")
    assert np.abs(trained - weights).max() <= tolerance
    assert not np.array_equal(trained, w.weights(mnn.build_model(w.spec(*w.CONFIGS[name]))))
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        logged = same_on_every_rank(ranks, f"{name}/history/{key}")
        np.testing.assert_allclose(logged, history[key], rtol=0, atol=tolerance * 10)
    for key, value in results.items():
        evaluated = same_on_every_rank(ranks, f"{name}/evaluate/{key}")
        assert abs(float(evaluated) - value) <= tolerance * 10, key
    assert int(ranks[0][f"{name}/processes"]) == processes


@pytest.mark.slow
@pytest.mark.parametrize("processes", [2, 3])
def test_metrics_with_gathered_and_summed_states_equal_one_process(
    processes: int, two: list, three: list
) -> None:
    ranks = two if processes == 2 else three
    expected = w.evaluation(mnn.build_model(w.metrics_spec()), distributed=False)
    assert {"auc", "f1"} <= set(expected)
    for key, value in expected.items():
        assert float(same_on_every_rank(ranks, f"metrics/{key}")) == pytest.approx(
            value, rel=1e-12, abs=1e-12
        ), key


@pytest.mark.slow
@pytest.mark.parametrize("processes", [2, 3])
def test_each_sample_is_seen_once_per_epoch(processes: int, two: list, three: list) -> None:
    ranks = two if processes == 2 else three
    for name in w.CONFIGS:
        for epoch in range(w.EPOCHS):
            key = f"ids/fit {name}/{epoch}"
            seen = [rank[key] for rank in ranks]
            training = np.concatenate([ids[ids < 100] for ids in seen])
            validation = np.concatenate([ids[ids >= 100] for ids in seen])
            assert sorted(training) == list(range(w.SAMPLES)), (key, seen)
            assert sorted(validation) == list(range(100, 113)), (key, seen)
            assert all(len(ids[ids < 100]) > 0 for ids in seen)
        evaluated = np.concatenate([rank[f"ids/evaluate {name}/-1"] for rank in ranks])
        assert sorted(evaluated) == list(range(w.SAMPLES))
    # the shuffling order is shared, and differs from epoch to epoch
    assert not np.array_equal(ranks[0]["ids/fit sgd64/0"], ranks[0]["ids/fit sgd64/1"])


@pytest.mark.slow
def test_sync_batch_norm_equals_one_process_and_local_statistics_differ(two: list) -> None:
    x, y = w.data()
    reference = mnn.build_model(w.batch_norm_spec(sync=True))
    reference.fit(x, y, verbose=0, distributed=False)
    synced = same_on_every_rank(two, "batch_norm/sync")
    assert np.abs(synced - w.weights(reference)).max() <= 1e-10
    local = two[0]["batch_norm/local"]  # buffers (running statistics) may differ per rank
    assert np.abs(local - w.weights(reference)).max() > 1e-6


@pytest.mark.slow
def test_dropout_draws_differ_per_rank_and_the_run_repeats(two: list) -> None:
    first, second = (rank["dropout/1/draws"] for rank in two)
    assert first.shape == (w.EPOCHS, 6)
    assert not np.allclose(first, second)  # each rank its own draws
    assert len({row.tobytes() for row in first}) == w.EPOCHS  # and each epoch
    for rank in two:
        np.testing.assert_array_equal(rank["dropout/1/draws"], rank["dropout/2/draws"])
    again = same_on_every_rank(two, "dropout/2/weights")
    np.testing.assert_array_equal(same_on_every_rank(two, "dropout/1/weights"), again)


@pytest.mark.slow
def test_a_checkpoint_of_two_processes_resumes_on_one_and_on_two(
    two: list, references: dict, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = Path(two[0]["checkpoint/path"].item())
    assert sorted(p.name for p in path.parent.glob("*.h5")) == ["adam-2-epochs.h5", "data.h5"]
    import h5py

    with h5py.File(path, "r") as f:
        assert int(f["training/processes"][()]) == 2
    uninterrupted = references["adam64"][0]
    on_two = same_on_every_rank(two, "checkpoint/resumed_weights")
    assert np.abs(on_two - uninterrupted).max() <= 1e-12
    whole = same_on_every_rank(two, "checkpoint/uninterrupted_weights")
    assert np.abs(whole - on_two).max() <= 1e-12
    model = mnn.load(path)
    assert model.processes == 2 and model.epochs_done == 2
    x, y = w.data()
    model.fit(x, y, epochs=2, validation_data=w.validation(), verbose=0, distributed=False)
    assert np.abs(w.weights(model) - uninterrupted).max() <= 1e-12
    assert model.processes == 1


@pytest.mark.slow
@pytest.mark.parametrize("processes", [2, 3])
def test_a_streamed_hdf5_source_is_read_by_shards(processes: int, two: list, three: list) -> None:
    ranks = two if processes == 2 else three
    reference = mnn.build_model(w.spec(*w.CONFIGS["sgd64"]))
    x, y = w.data()
    reference.fit(H5Source(ranks[0]["h5/path"].item(), block_rows=16), verbose=0)
    assert np.abs(same_on_every_rank(ranks, "h5/weights") - w.weights(reference)).max() <= 1e-12
    # each process read its rows only: over all of them, every row once per epoch
    per_rank = [int(rank["h5/fit_rows_read"]) for rank in ranks]
    assert sum(per_rank) == w.SAMPLES * w.EPOCHS
    assert max(per_rank) < w.SAMPLES * w.EPOCHS / processes + w.EPOCHS * 6
    assert sum(int(rank["h5/evaluate_rows_read"]) for rank in ranks) == w.SAMPLES
    expected = reference.evaluate(x, y, batch_size=w.EVAL_BATCH)
    for key, value in expected.items():
        assert abs(float(same_on_every_rank(ranks, f"h5/evaluate/{key}")) - value) <= 1e-12


@pytest.mark.slow
def test_an_npz_file_is_memory_mapped_and_read_by_shards(two: list, references: dict) -> None:
    # the source's batches are those of fit on the arrays: the same weights
    assert np.abs(same_on_every_rank(two, "npz/weights") - references["sgd64"][0]).max() <= 1e-12
    per_rank = [int(rank["npz/fit_rows_read"]) for rank in two]
    assert per_rank == [w.SAMPLES * w.EPOCHS // 2] * 2


@pytest.mark.slow
def test_different_initial_weights_are_refused_naming_the_ranks(two: list) -> None:
    for rank in two:
        message = str(rank["digest/error"])
        assert message.startswith("DistributedError: the initial weights differ"), message
        assert "rank 0 and rank 1" in message
