"""The benchmark suite runs end to end at tiny sizes (no timing is asserted)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def run_quick_bench(*options: str, env: dict[str, str] | None = None) -> dict:
    """``bench/run.py --quick --json *options`` in a subprocess: its report."""
    proc = subprocess.run(
        [sys.executable, str(BENCH / "run.py"), "--quick", "--json", *options],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def report() -> dict:
    # PyTorch and JAX are left out here (their imports and compilations are slow); the
    # tests below run their trainers directly, at tiny sizes, where they are installed.
    return run_quick_bench("--baselines", "numpy,seed")


def test_every_workload_reports_a_figure(report: dict) -> None:
    rows = {row["workload"]: row for row in report["results"]}
    for workload in (
        "mlp_train_b32",
        "mlp_train_b128",
        "mlp_train_b512",
        "mlp_train_b512_fit_per_call",
        "mlp_train_b128_cce",
        "mlp_predict_b1024",
        "mlp_memory_b512",
        "import_and_discovery",
    ):
        assert rows[workload]["values"]["modular_nn"] > 0, workload
    for workload in ("mlp_train_b32", "mlp_predict_b1024", "mlp_memory_b512"):
        assert rows[workload]["values"]["numpy"] > 0
        assert rows[workload]["ratios"]["numpy"] > 0
    assert rows["mlp_train_b32"]["values"]["seed"] > 0
    # the CNN runs once its layers are registered, and is skipped with a note before
    assert "cnn_train_b64" in rows or "cnn" in report["notes"]


def test_graph_path_is_timed_against_the_plain_layer_loop(report: dict) -> None:
    """Issue 14's goal: the graph engine's train step over the plain loop it replaced."""
    rows = {row["workload"]: row for row in report["graph_vs_loop"]}
    assert set(rows) == {"mlp_train_b32", "mlp_train_b128", "mlp_train_b512", "cnn_train_b64"}
    for row in rows.values():
        assert row["graph_s"] > 0 and row["loop_s"] > 0, row["workload"]
        assert row["ratio"] == pytest.approx(row["graph_s"] / row["loop_s"])
        assert len(row["rounds"]) == len(row["samples"]["graph"]) == len(row["samples"]["loop"])
    goals = {g["goal"]: g for g in report["goals"]}
    for workload in rows:
        goal = goals[f"graph path / plain layer loop, {workload} (time)"]
        assert goal["op"] == "<=" and goal["target"] == 1.03
        assert goal["value"] == rows[workload]["ratio"]
    assert "graph/loop" in _bench_module("run").render(report)


def test_distributed_mlp_reports_steps_communication_and_bytes(report: dict) -> None:
    """Issue 18: the MLP on 1 and 2 processes (skipped, with the reason, without MPI)."""
    goal = next(g for g in report["goals"] if g["goal"].startswith("distributed MLP b512"))
    if not report["distributed"]:
        assert "[mpi]" in report["notes"]["distributed"] and goal["value"] is None
        return
    by = {row["processes"]: row for row in report["distributed"]}
    assert sorted(by) == [1, 2]
    assert by[1]["comm_ms_per_step"] == 0 and by[1]["bytes_per_step"] == 0
    assert by[2]["comm_ms_per_step"] > 0
    # the gradients travel as float32 in one buffer per step, with the losses
    assert by[2]["bytes_per_step"] >= 4 * by[2]["parameters"]
    assert by[1]["blas_threads"] == 2 * by[2]["blas_threads"] or by[2]["blas_threads"] == 1
    assert goal["value"] == pytest.approx(by[2]["steps_per_s"] / by[1]["steps_per_s"])
    assert "distributed MLP" in _bench_module("run").render(report)


def test_distributed_mlp_is_skipped_without_mpi(tmp_path: Path) -> None:
    (tmp_path / "mpi4py.py").write_text("raise ImportError('hidden for this test')\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    report = run_quick_bench("--only", "distributed", "--baselines", "numpy", env=env)
    assert report["distributed"] == []
    assert "[mpi]" in report["notes"]["distributed"]


SEQUENCE_WORKLOADS = ("lstm_train_b64", "gru_train_b64", "attention_train_b32")


def test_sequence_workloads_report_a_figure_and_a_goal(report: dict) -> None:
    """Issue 15: LSTM, GRU and self-attention training steps, each against PyTorch."""
    rows = {row["workload"]: row for row in report["results"]}
    goals = {g["goal"]: g for g in report["goals"]}
    for workload in SEQUENCE_WORKLOADS:
        assert rows[workload]["values"]["modular_nn"] > 0, workload
        assert "torch" not in rows[workload]["values"]  # not selected in this run
        goal = goals[f"{workload} vs torch"]
        assert goal["op"] == ">=" and goal["target"] == 0.5 and goal["value"] is None
    text = _bench_module("run").render(report)
    assert "lstm_train_b64: lstm 256 units over 32 steps" in text


def test_sequence_goals_without_torch_say_why(tmp_path: Path) -> None:
    (tmp_path / "torch.py").write_text("raise ImportError('hidden for this test')\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    report = run_quick_bench("--only", "sequences", "--baselines", "torch", env=env)
    goals = {g["goal"]: g for g in report["goals"]}
    for workload in SEQUENCE_WORKLOADS:
        assert goals[f"{workload} vs torch"]["value"] is None
        assert "not installed" in goals[f"{workload} vs torch"]["note"]
    assert "lstm_train_b64 vs torch: - (target >= 0.5)  (PyTorch not installed" in (
        _bench_module("run").render(report)
    )


SEQUENCE_TORCH_CHECK = """
import sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import sequence_workloads as sw
for work in sw.WORKLOADS:
    x, y = work.data(4)
    trainer = sw.torch_trainer(work, x, y)
    trainer.train_epoch()
    assert np.isfinite(trainer.loss), (work.name, trainer.loss)
    p = trainer.predict(x, 4)
    assert p.shape == (4, 10), p.shape
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-5)
print("ok")
"""


def test_sequence_torch_networks_train_and_predict() -> None:
    if importlib.util.find_spec("torch") is None:
        pytest.skip("torch is not installed")
    proc = subprocess.run(
        [sys.executable, "-c", SEQUENCE_TORCH_CHECK, str(BENCH)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


def test_baselines_not_selected_are_named_in_the_notes(report: dict) -> None:
    row = next(r for r in report["results"] if r["workload"] == "mlp_train_b32")
    for name in ("torch", "jax"):
        assert name not in row["values"] and name in report["notes"], name


# Run in a fresh process: PyTorch and JAX start thread pools, and tests that fork
# (checkpoint crash safety) must not inherit them.
FRAMEWORK_CHECK = """
import sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import baselines as bl
framework = sys.argv[2]
rng = np.random.default_rng(0)
x, y = rng.random((16, 784), dtype=np.float32), rng.integers(0, 10, 16)
images = rng.random((8, 28, 28, 1), dtype=np.float32)
mlp = getattr(bl, framework + "_mlp")([784, 16, 10], x, y, 8)
cnn = getattr(bl, framework + "_cnn")(images, y[:8], 4)
for trainer, data in ((mlp, x), (cnn, images)):
    trainer.train_epoch()
    assert np.isfinite(trainer.loss), trainer.loss
    p = trainer.predict(data, 8)
    assert p.shape == (len(data), 10), p.shape
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-5)
print("ok")
"""


@pytest.mark.parametrize("framework", ["torch", "jax"])
def test_optional_baselines_train_and_predict(framework: str) -> None:
    if importlib.util.find_spec(framework) is None:
        pytest.skip(f"{framework} is not installed")
    proc = subprocess.run(
        [sys.executable, "-c", FRAMEWORK_CHECK, str(BENCH), framework],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


def _bench_module(name: str):  # noqa: ANN202 - a module from bench/, a folder of scripts
    sys.path.insert(0, str(BENCH))
    try:
        return __import__(name)
    finally:
        sys.path.remove(str(BENCH))


def test_report_names_the_blas_and_the_goals(report: dict) -> None:
    env = report["environment"]
    assert "blas" in env and "OPENBLAS_CORETYPE" in env
    assert report["extra"]["gemm_gflops"] > 0
    assert report["extra"]["gemm_gflops_interleaved"] > 0  # timed in the MLP b512 rounds
    assert {g["goal"] for g in report["goals"]} >= {"CNN vs torch", "import + discovery (s)"}


def test_text_table_renders(report: dict) -> None:
    text = _bench_module("run").render(report)
    assert "mlp_train_b512" in text and "goals:" in text


def test_seed_reference_and_numpy_baseline_learn() -> None:
    """The baselines compute what they claim: a few epochs on separable data lower the loss."""
    bl = _bench_module("baselines")
    rng = np.random.default_rng(0)
    x = rng.random((256, 784), dtype=np.float32)
    y = (x[:, :392].sum(axis=1) > x[:, 392:].sum(axis=1)).astype(np.int64)
    sizes = [784, 32, 16, 10]
    for trainer in (bl.NumpyMLP(sizes, x, y, 32), bl.SeedMLP(sizes, x, y, 32)):
        before = _cross_entropy(trainer.predict(x, 1024), y)
        for _ in range(5):
            trainer.train_epoch()
        assert _cross_entropy(trainer.predict(x, 1024), y) < before, trainer.name


def _cross_entropy(p: np.ndarray, y: np.ndarray) -> float:
    return float(-np.log(np.clip(p[np.arange(y.size), y], 1e-12, None)).mean())


def test_a_missing_framework_is_skipped_with_a_note(tmp_path: Path) -> None:
    """Without PyTorch and JAX the suite still runs, naming what it skipped and why."""
    for name in ("torch", "jax"):  # shadow the installed packages, if any
        (tmp_path / f"{name}.py").write_text("raise ImportError('hidden for this test')\n")
    report = run_quick_bench("--only", "mlp", env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert "not installed" in report["notes"]["torch"]
    assert "not installed" in report["notes"]["jax"]
    for row in report["results"]:
        assert "torch" not in row["values"] and "jax" not in row["values"], row["workload"]
        assert row["values"]["modular_nn"] > 0


def test_goals_report_the_ratio_of_each_round() -> None:
    run = _bench_module("run")
    row = run.Row("w", "throughput", "samples/s")
    row.values = {"modular_nn": 100.0, "torch": 100.0}
    row.samples = {"modular_nn": [90.0, 100.0, 110.0], "torch": [100.0, 100.0, 100.0]}
    assert row.round_ratios("torch") == pytest.approx([0.9, 1.0, 1.1])
    assert row.round_ratios("jax") == []  # no samples: nothing to pair
    goal = {"goal": "g", "value": 1.0, "target": 1.0, "op": ">=", "met": True, "note": None}
    goal["rounds"] = row.round_ratios("torch")
    assert run._rounds_text(goal) == "; rounds 0.90-1.10, 2 of 3 at target"
    assert run._rounds_text({**goal, "rounds": [1.2]}) == ""  # one round: no spread to show
    at_most = {**goal, "op": "<=", "target": 1.03, "rounds": [0.99, 1.02, 1.05]}
    assert run._rounds_text(at_most) == "; rounds 0.99-1.05, 2 of 3 at target"
