"""modular_nn's benchmark suite (issue 8).

    python bench/run.py            # the full suite, a table on stdout (about eight minutes)
    python bench/run.py --json     # the same figures as one JSON object
    python bench/run.py --quick    # tiny sizes, one repeat: checks that everything runs

Every workload is built from a JSON spec in ``bench/specs`` through the public
API (``mnn.build_model``) and timed beside its baselines on the same data, in
the same process: a hand-written NumPy loop, the seed notebook's class
(``bench/seed_reference.py``), PyTorch and JAX where installed (skipped with a
note otherwise). Implementations are timed in turn, round-robin, a short pause
before each (so no thread pool of the one before is still spinning), and each
figure is the median of the repeats, so that the ratios printed beside the
figures hold on a shared, noisy machine even when the absolute numbers drift.
modular_nn's epochs are those of one ``fit`` call, as users train (see
``baselines.ModularNN``); the row ``mlp_train_b512_fit_per_call`` gives one
``fit`` call per epoch instead. The GEMM rate the MLP is compared with is timed
in the same rounds as the MLP at batch 512. Peak memory and import time are
measured in fresh subprocesses (``bench/child.py``). The part ``graph`` times the
graph engine's train step (``Model._train_step``, as ``fit`` runs every batch) against
the plain layer loop of the sequential model it replaced (``baselines.PlainLoop``), on
one model and the same batches, in the same rounds (issue 14: at most 3 % more).

The part ``sequences`` (issue 15, ``bench/sequence_workloads.py``) times training
steps of an LSTM and a GRU (batch 64, 32 steps, 128 features, 256 units) and of
self-attention (batch 32, 64 steps, d 128, 4 heads) against the same networks in
PyTorch, round-robin as everything else (goal: at least 0.5x PyTorch's speed).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import baselines as bl  # noqa: E402 - bench/ is a folder of scripts, not a package
import distributed as dist  # noqa: E402
import sequence_workloads as sw  # noqa: E402

IMPLS = ("modular_nn", "numpy", "seed", "torch", "jax")
BASELINES = IMPLS[1:]
PARTS = ("mlp", "predict", "cnn", "sequences", "graph", "distributed", "memory", "import")
#: Seconds between timed calls (see ``round_robin``).
PAUSE = 0.2


@dataclass
class Settings:
    mlp_samples: int = 8192
    mlp_batches: tuple[int, ...] = (32, 128, 512)
    cnn_samples: int = 1024
    cnn_batch: int = 64
    seq_samples: int = 512  # per epoch of each sequence workload
    predict_samples: int = 16384
    predict_batch: int = 1024
    repeats: int = 7
    gemm_size: int = 2048
    memory_samples: int = 60000
    memory_batch: int = 512
    import_runs: int = 5
    distributed_batch: int = 512
    distributed_epochs: int = 3
    baselines: tuple[str, ...] = BASELINES
    parts: tuple[str, ...] = PARTS
    stat: str = "median"

    def summary(self, values: Any) -> float:
        """The figure kept from repeated timings: their median, or with ``--stat min`` the
        fastest (noise on a shared machine only ever slows a run down)."""
        return min(values) if self.stat == "min" else statistics.median(values)

    @classmethod
    def quick(cls, **options: Any) -> Settings:
        return cls(
            mlp_samples=512, cnn_samples=64, seq_samples=64, predict_samples=1024, repeats=1,
            gemm_size=128, memory_samples=1024, import_runs=1, distributed_epochs=1, **options,
        )  # fmt: skip


@dataclass
class Row:
    """One workload: a figure per implementation, and modular_nn's ratio to each."""

    workload: str
    metric: str
    unit: str
    higher_is_better: bool = True
    values: dict[str, float] = field(default_factory=dict)
    samples: dict[str, list[float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def ratio(self, baseline: str) -> float | None:
        """modular_nn's figure over ``baseline``'s (> 1 means modular_nn does more/uses more)."""
        mine, theirs = self.values.get("modular_nn"), self.values.get(baseline)
        if mine is None or not theirs:
            return None
        return mine / theirs

    def round_ratios(self, baseline: str) -> list[float]:
        """modular_nn's figure over ``baseline``'s in each round (the round-robin times
        both in every round, so each pair shared the machine's state of that moment)."""
        mine, theirs = self.samples.get("modular_nn", []), self.samples.get(baseline, [])
        if len(mine) != len(theirs):
            return []
        return [m / t for m, t in zip(mine, theirs) if t]

    def as_dict(self) -> dict[str, Any]:
        return {
            "workload": self.workload,
            "metric": self.metric,
            "unit": self.unit,
            "higher_is_better": self.higher_is_better,
            "values": self.values,
            "samples": self.samples,
            "ratios": {b: self.ratio(b) for b in BASELINES if self.ratio(b) is not None},
            "notes": self.notes,
        }


# ----- environment -------------------------------------------------------------------------
def environment() -> dict[str, Any]:
    env: dict[str, Any] = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "loadavg_start": _loadavg(),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE"),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
    }
    try:
        from threadpoolctl import threadpool_info

        env["blas"] = [
            {k: info.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
            for info in threadpool_info()
            if info.get("user_api") == "blas"
        ]
    except ImportError:
        env["blas"] = "threadpoolctl not installed: kernel unknown (pip install threadpoolctl)"
    return env


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _loadavg() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


# ----- timing --------------------------------------------------------------------------------
def round_robin(
    runners: dict[str, Callable[[], Any]], repeats: int, stat: Callable[[Any], float]
) -> tuple[dict[str, float], dict[str, list[float]]]:
    """Seconds per call of each runner: one warm-up each, then ``repeats`` rounds in turn
    (the order rotates every round); returns ``stat`` of each runner's times, and all.

    Each call starts after a pause of ``PAUSE`` seconds, so that the thread pools of the
    call before (OpenBLAS, OpenMP, XLA's) have stopped spinning and gone to sleep:
    otherwise whichever runner comes next pays for them. (OpenBLAS's worker threads
    spin for about 0.11 s after a matrix product here.)
    """
    for run in runners.values():
        run()
    names = list(runners)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            time.sleep(PAUSE)
            t0 = time.perf_counter()
            runners[name]()
            samples[name].append(time.perf_counter() - t0)
    return {name: stat(s) for name, s in samples.items()}, samples


def gemm_runner(n: int) -> Callable[[], Any]:
    """One float32 n x n matrix product per call (numpy's BLAS, its default threads)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    out = np.empty((n, n), dtype=np.float32)
    return lambda: np.matmul(a, b, out=out)


def gemm_gflops(n: int, repeats: int, stat: Callable[[Any], float]) -> float:
    """float32 GFLOP/s of an n x n matrix product, timed on its own."""
    run = gemm_runner(n)
    run()
    times = []
    for _ in range(max(repeats, 3)):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return 2 * n**3 / stat(times) / 1e9


def mlp_flops_per_sample(sizes: list[int]) -> int:
    """Matrix-product FLOPs of one training sample: forward x W, backward x^T dz and
    dz W^T (no input gradient for the first layer)."""
    products = [a * b for a, b in zip(sizes[:-1], sizes[1:])]
    return 2 * (2 * sum(products) + sum(products[1:]))


# ----- workloads ------------------------------------------------------------------------------
def _mlp_factories(
    spec: dict[str, Any], x: np.ndarray, y: np.ndarray, batch: int
) -> dict[str, Callable[[], Any]]:
    sizes = bl.dense_sizes(spec)
    return {
        "modular_nn": lambda: bl.ModularNN(spec, x, y, batch),
        "numpy": lambda: bl.NumpyMLP(sizes, x, y, batch),
        "seed": lambda: bl.SeedMLP(sizes, x, y, batch),
        "torch": lambda: bl.torch_mlp(sizes, x, y, batch),
        "jax": lambda: bl.jax_mlp(sizes, x, y, batch),
    }


class Bench:
    def __init__(self, settings: Settings, log: Callable[[str], None]) -> None:
        self.s = settings
        self.log = log
        self.rows: list[Row] = []
        self.notes: dict[str, str] = {}
        self.extra: dict[str, Any] = {}
        self.extra_samples: dict[str, list[float]] = {}  # seconds per round of extra runners
        self.distributed_rows: list[dict[str, Any]] = []  # the MLP on 1 and 2 processes
        self.graph_rows: list[dict[str, Any]] = []  # the graph path against the plain loop

    def _make(self, name: str, factory: Callable[[], Any]) -> Any | None:
        if name != "modular_nn" and name not in self.s.baselines:
            return None
        try:
            return factory()
        except bl.Unavailable as exc:
            self.notes[name] = str(exc)
            return None

    def _trainers(self, factories: dict[str, Callable[[], Any]]) -> dict[str, Any]:
        made = {name: self._make(name, f) for name, f in factories.items()}
        return {name: t for name, t in made.items() if t is not None}

    def mlp_data(self) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
        spec = bl.load_spec("mlp")
        sizes = bl.dense_sizes(spec)
        rng = np.random.default_rng(1)
        x = rng.random((self.s.mlp_samples, sizes[0]), dtype=np.float32)
        y = rng.integers(0, sizes[-1], self.s.mlp_samples)
        return spec, x, y

    def mlp(self) -> None:
        s = self.s
        spec, x, y = self.mlp_data()
        sizes = bl.dense_sizes(spec)
        flops = mlp_flops_per_sample(sizes)
        self.extra["mlp_mflop_per_sample"] = flops / 1e6
        # timed in the same rounds as a batch size's row, so that the ratios compare
        # figures of the same moments: the categorical (one-hot) loss at batch 128
        # (modular_nn only, against that row's baselines: their maths is the same); at the
        # largest batch, the GEMM the goal compares with and fit called once per epoch
        cce_batch = 128 if 128 in s.mlp_batches else s.mlp_batches[0]
        cspec = bl.load_spec("mlp", loss="categorical_crossentropy")
        for batch in s.mlp_batches:
            self.log(f"MLP training, batch {batch} ...")
            trainers = self._trainers(_mlp_factories(spec, x, y, batch))
            extra: dict[str, Callable[[], Any]] = {}
            if batch == cce_batch:
                cce = bl.ModularNN(cspec, x, bl.one_hot(y, sizes[-1]), batch)
                trainers["cce"] = cce  # closed with the others; its row is split off below
            if batch == max(s.mlp_batches):
                extra["fit_per_call"] = bl.ModularNN(spec, x, y, batch).fit_call_epoch
                extra["gemm"] = gemm_runner(s.gemm_size)
            row, times = self._time_epochs(f"mlp_train_b{batch}", trainers, s.mlp_samples, extra)
            row.notes.append(f"MLP 784-512-256-10 training, batch {batch}, sparse CE")
            if "cce" in row.values:
                cce_value, cce_samples = row.values.pop("cce"), row.samples.pop("cce")
                self._derived_row(row, f"mlp_train_b{batch}_cce", s.mlp_samples / cce_value,
                                  "categorical CE with one-hot targets, in the same rounds",
                                  cce_samples)  # fmt: skip
            if "gemm" in times:
                self.extra["mlp_gflops"] = {n: v * flops / 1e9 for n, v in row.values.items()}
                self.extra["gemm_gflops_interleaved"] = 2 * s.gemm_size**3 / times["gemm"] / 1e9
                per_call = [round(s.mlp_samples / t, 1) for t in self.extra_samples["fit_per_call"]]
                self._derived_row(
                    row, f"mlp_train_b{batch}_fit_per_call", times["fit_per_call"],
                    "modular_nn called as fit(x, y, epochs=1) once per epoch, in the same "
                    "rounds: each call checks the arrays again", per_call,
                )  # fmt: skip

    def _derived_row(
        self,
        base: Row,
        workload: str,
        seconds: float,
        note: str,
        samples: list[float] | None = None,
    ) -> None:
        """A row of another modular_nn figure (``seconds`` per epoch, ``samples`` its
        samples/s per round) against ``base``'s baselines, timed in the same rounds."""
        row = Row(workload, base.metric, base.unit)
        row.values = {k: v for k, v in base.values.items() if k != "modular_nn"}
        row.values["modular_nn"] = self.s.mlp_samples / seconds
        row.samples = {k: v for k, v in base.samples.items() if k != "modular_nn"}
        if samples is not None:
            row.samples["modular_nn"] = samples
        row.notes.append(note)
        self.rows.append(row)

    def predict(self) -> None:
        s = self.s
        spec, x, y = self.mlp_data()
        self.log("MLP predict ...")
        rng = np.random.default_rng(3)
        xp = rng.random((s.predict_samples, x.shape[1]), dtype=np.float32)
        trainers = self._trainers(_mlp_factories(spec, x, y, 32))
        pb = s.predict_batch
        runners = {name: (lambda t=t: t.predict(xp, pb)) for name, t in trainers.items()}
        medians, samples = round_robin(runners, s.repeats, s.summary)
        row = self._row(f"mlp_predict_b{pb}", "predict throughput", medians, samples, len(xp))
        row.notes.append(f"MLP inference (softmax probabilities), batch {pb}")

    def cnn(self) -> None:
        import modular_nn as mnn

        s = self.s
        needed = {"conv2d", "max_pool2d", "flatten"}
        missing = sorted(needed - set(mnn.available("layers")))
        if missing:
            missing_text = ", ".join(missing)
            self.notes["cnn"] = f"CNN skipped: layer type(s) {missing_text} not registered yet"
            return
        self.log(f"CNN training, batch {s.cnn_batch} ...")
        spec, x, y = self.cnn_data()
        b = s.cnn_batch
        try:
            trainers = self._trainers(
                {
                    "modular_nn": lambda: bl.ModularNN(spec, x, y, b),
                    "numpy": lambda: bl.NumpyCNN(x, y, b),
                    "torch": lambda: bl.torch_cnn(x, y, b),
                    "jax": lambda: bl.jax_cnn(x, y, b),
                }
            )
        except mnn.ModularNNError as exc:
            self.notes["cnn"] = f"CNN skipped: the spec does not build yet ({exc})"
            return
        row, _ = self._time_epochs(f"cnn_train_b{b}", trainers, s.cnn_samples)
        row.notes.append(
            "conv3x3x16 same, relu, maxpool2, conv3x3x32 same, relu, maxpool2, dense10"
        )

    def cnn_data(self) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
        spec = bl.load_spec("cnn")
        rng = np.random.default_rng(2)
        x = rng.random((self.s.cnn_samples, 28, 28, 1), dtype=np.float32)
        y = rng.integers(0, 10, self.s.cnn_samples)
        return spec, x, y

    def graph(self) -> None:
        """The train step through the graph engine against the plain layer loop it replaced
        (``baselines.GraphVsLoop``): one model per workload, the same prepared batches, an
        epoch of each in turn, round-robin with the suite's pauses."""
        import modular_nn as mnn

        s = self.s
        spec, x, y = self.mlp_data()
        work = [(f"mlp_train_b{b}", spec, x, y, b) for b in s.mlp_batches]
        work.append((f"cnn_train_b{s.cnn_batch}", *self.cnn_data(), s.cnn_batch))
        for workload, spec, x, y, batch in work:
            self.log(f"graph path vs plain layer loop, {workload} ...")
            try:
                pair = bl.GraphVsLoop(spec, x, y, batch)
            except mnn.ModularNNError as exc:
                self.notes[f"graph {workload}"] = f"skipped: the spec does not build ({exc})"
                continue
            runners = {"graph": pair.graph_epoch, "loop": pair.loop_epoch}
            medians, samples = round_robin(runners, s.repeats, s.summary)
            self.graph_rows.append(
                {
                    "workload": workload,
                    "steps_per_epoch": len(pair.batches),
                    "graph_s": medians["graph"],
                    "loop_s": medians["loop"],
                    "ratio": medians["graph"] / medians["loop"],
                    "rounds": [g / p for g, p in zip(samples["graph"], samples["loop"])],
                    "samples": samples,
                }
            )

    def sequences(self) -> None:
        """LSTM, GRU and self-attention training (``sequence_workloads``) against PyTorch."""
        import modular_nn as mnn

        n = self.s.seq_samples
        for work in sw.WORKLOADS:
            if work.layer not in mnn.available("layers"):
                self.notes[work.name] = f"skipped: layer type {work.layer} not registered yet"
                continue
            self.log(f"{work.name} ...")
            spec, (x, y) = bl.load_spec(work.spec), work.data(n)
            trainers = self._trainers(
                {
                    "modular_nn": functools.partial(bl.ModularNN, spec, x, y, work.batch),
                    "torch": functools.partial(sw.torch_trainer, work, x, y),
                }
            )
            row, _ = self._time_epochs(work.name, trainers, n)
            row.notes.append(work.note)

    def _time_epochs(
        self,
        workload: str,
        trainers: dict[str, Any],
        n: int,
        extra: dict[str, Callable[[], Any]] | None = None,
    ) -> tuple[Row, dict[str, float]]:
        """The row of one epoch of each trainer, timed in rounds together with the ``extra``
        runners, whose seconds per call are returned beside it."""
        runners: dict[str, Callable[[], Any]] = {n: t.train_epoch for n, t in trainers.items()}
        runners.update(extra or {})
        try:
            medians, samples = round_robin(runners, self.s.repeats, self.s.summary)
        finally:
            for trainer in trainers.values():
                getattr(trainer, "close", lambda: None)()
        others = {name: medians.pop(name) for name in extra or {}}
        self.extra_samples = {name: samples.pop(name) for name in extra or {}}
        return self._row(workload, "training throughput", medians, samples, n), others

    def _row(
        self,
        workload: str,
        metric: str,
        medians: dict[str, float],
        samples: dict[str, list[float]],
        n: int,
    ) -> Row:
        row = Row(workload, metric, "samples/s")
        row.values = {name: n / t for name, t in medians.items()}
        row.samples = {name: [round(n / t, 1) for t in ts] for name, ts in samples.items()}
        self.rows.append(row)
        return row

    def memory(self) -> None:
        s = self.s
        self.log(f"peak memory, MLP batch {s.memory_batch}, {s.memory_samples} samples ...")
        row = Row(
            f"mlp_memory_b{s.memory_batch}", "peak RSS of a training run", "MiB",
            higher_is_better=False,
        )  # fmt: skip
        for impl in ("modular_nn", "numpy"):
            out = _child(
                "memory", impl, "--samples", str(s.memory_samples), "--batch", str(s.memory_batch)
            )
            row.values[impl] = out["peak_rss_mb"]
            row.samples[impl] = [out["peak_rss_mb"]]
            row.notes.append(
                f"{impl}: {out['rss_before_mb']:.0f} MiB before training "
                f"(data {out['data_mb']:.0f} MiB)"
            )
        self.rows.append(row)

    def import_time(self) -> None:
        self.log("import + plugin discovery ...")
        runs = [_child("import") for _ in range(self.s.import_runs)]
        row = Row("import_and_discovery", "import modular_nn + discovery", "s", False)
        row.values["modular_nn"] = self.s.summary([r["total_s"] for r in runs])
        row.samples["modular_nn"] = [round(r["total_s"], 4) for r in runs]
        row.notes.append(
            f"import {self.s.summary([r['import_s'] for r in runs]):.3f} s, "
            f"discovery {self.s.summary([r['discovery_s'] for r in runs]):.3f} s"
        )
        self.rows.append(row)

    def distributed(self) -> None:
        """The MLP trained data-parallel on 1 and 2 processes (``bench/distributed.py``):
        steps/s, communication per step, bytes reduced per step."""
        s = self.s
        if dist.mpiexec() is None:
            self.notes["distributed"] = "skipped: no mpi4py or mpiexec (install the [mpi] extra)"
            return
        for processes in (1, 2):
            self.log(f"distributed MLP, {processes} process(es), batch {s.distributed_batch} ...")
            self.distributed_rows.append(
                dist.measure(processes, s.mlp_samples, s.distributed_batch, s.distributed_epochs)
            )

    def gemm(self) -> None:
        self.log(f"float32 GEMM {self.s.gemm_size}^3 ...")
        self.extra["gemm_gflops"] = gemm_gflops(self.s.gemm_size, self.s.repeats, self.s.summary)

    def run(self) -> dict[str, Any]:
        env = environment()
        try:
            import torch

            env["torch"] = f"{torch.__version__}, {torch.get_num_threads()} threads"
        except ImportError:
            pass
        try:
            import jax

            env["jax"] = jax.__version__
        except ImportError:
            pass
        self.gemm()
        for part in PARTS:
            if part in self.s.parts:
                getattr(self, part if part != "import" else "import_time")()
        after = gemm_gflops(self.s.gemm_size, self.s.repeats, self.s.summary)
        self.extra["gemm_gflops_after"] = after
        self.extra["gemm_gflops_best"] = max(
            after, self.extra["gemm_gflops"], self.extra.get("gemm_gflops_interleaved", 0)
        )
        env["loadavg_end"] = _loadavg()
        return {
            "environment": env,
            "settings": {k: v for k, v in vars(self.s).items()},
            "results": [row.as_dict() for row in self.rows],
            "extra": self.extra,
            "distributed": self.distributed_rows,
            "graph_vs_loop": self.graph_rows,
            "goals": self.goals(),
            "notes": self.notes,
        }

    # ----- goals ---------------------------------------------------------------------------
    def goals(self) -> list[dict[str, Any]]:
        rows = {row.workload: row for row in self.rows}
        goals: list[dict[str, Any]] = []

        def ratio_goal(label: str, workload: str, baseline: str, target: float) -> None:
            row = rows.get(workload)
            value = row.ratio(baseline) if row else None
            goal = _goal(label, value, target, ">=", self.notes.get(baseline))
            if row and value is not None:
                goal["rounds"] = row.round_ratios(baseline)
            goals.append(goal)

        b_small, *rest = self.s.mlp_batches
        ratio_goal(f"MLP b{b_small} vs torch", f"mlp_train_b{b_small}", "torch", 1.1)
        for b in rest:
            ratio_goal(f"MLP b{b} vs torch", f"mlp_train_b{b}", "torch", 1.0)
        b_big = max(self.s.mlp_batches)
        ratio_goal(f"MLP b{b_big} vs jax", f"mlp_train_b{b_big}", "jax", 1.0)
        for b in self.s.mlp_batches:
            ratio_goal(f"MLP b{b} vs seed", f"mlp_train_b{b}", "seed", 2.0)
        achieved = self.extra.get("mlp_gflops", {}).get("modular_nn")
        # the GEMM timed in the same rounds as the MLP, with the same statistic
        gemm = self.extra.get("gemm_gflops_interleaved")
        goals.append(
            _goal(
                f"MLP b{b_big} GFLOP/s / GEMM GFLOP/s",
                achieved / gemm if achieved and gemm else None, 0.75, ">=",
            )
        )  # fmt: skip
        cnn = f"cnn_train_b{self.s.cnn_batch}"
        if cnn in rows:
            ratio_goal("CNN vs torch", cnn, "torch", 0.6)
        else:
            goals.append(_goal("CNN vs torch", None, 0.6, ">=", self.notes.get("cnn")))
        for work in sw.WORKLOADS:
            if work.name in rows:
                ratio_goal(f"{work.name} vs torch", work.name, "torch", SEQUENCE_TARGET)
            else:
                note = self.notes.get(work.name) or (
                    None if "sequences" in self.s.parts else "not selected (--only)"
                )
                goals.append(_goal(f"{work.name} vs torch", None, SEQUENCE_TARGET, ">=", note))
        ratio_goal("predict vs torch", f"mlp_predict_b{self.s.predict_batch}", "torch", 1.0)
        imp = rows.get("import_and_discovery")
        goals.append(
            _goal("import + discovery (s)", imp.values["modular_nn"] if imp else None, 0.5, "<")
        )
        ratio_goal(
            f"peak RSS b{self.s.memory_batch} vs numpy", f"mlp_memory_b{self.s.memory_batch}",
            "numpy", 1.3,
        )  # fmt: skip
        goals[-1]["op"] = "<="
        value = goals[-1]["value"]
        goals[-1]["met"] = None if value is None else value <= 1.3
        # issue 18: on 2 cores this proves the run works; a speed-up needs more cores
        by = {row["processes"]: row for row in self.distributed_rows}
        speedup = by[2]["steps_per_s"] / by[1]["steps_per_s"] if len(by) == 2 else None
        goals.append(
            _goal(
                f"distributed MLP b{self.s.distributed_batch}: steps/s 2 processes / 1",
                speedup, 1.0, ">=",
                self.notes.get("distributed") or (
                    None if "distributed" in self.s.parts else "not selected (--only)"
                ),
            )
        )  # fmt: skip
        graph_rows = {row["workload"]: row for row in self.graph_rows}
        for workload in graph_workloads(self.s):
            row = graph_rows.get(workload)
            note = self.notes.get(f"graph {workload}") or (
                None if "graph" in self.s.parts else "not selected (--only)"
            )
            goal = _goal(
                f"graph path / plain layer loop, {workload} (time)",
                row["ratio"] if row else None, GRAPH_TARGET, "<=", note,
            )  # fmt: skip
            if row:
                goal["rounds"] = row["rounds"]
            goals.append(goal)
        return goals


#: issue 14: training a chain through the graph engine costs at most 3 % more than the
#: plain layer loop did (time per epoch of train steps, graph over loop)
GRAPH_TARGET = 1.03


def graph_workloads(settings: Settings) -> list[str]:
    """The workloads of the part ``graph``: the MLP at each batch size, the CNN."""
    return [f"mlp_train_b{b}" for b in settings.mlp_batches] + [f"cnn_train_b{settings.cnn_batch}"]


#: issue 15: LSTM, GRU and self-attention training at least half as fast as PyTorch's
SEQUENCE_TARGET = 0.5


def _goal(
    label: str, value: float | None, target: float, op: str, note: str | None = None
) -> dict[str, Any]:
    met = None
    if value is not None:
        met = value >= target if op == ">=" else value < target if op == "<" else value <= target
    return {"goal": label, "value": value, "target": target, "op": op, "met": met, "note": note}


def _child(*args: str) -> dict[str, Any]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, str(HERE / "child.py"), *args],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        raise RuntimeError(f"bench/child.py {' '.join(args)} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ----- output ---------------------------------------------------------------------------------
def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if unit == "samples/s":
        return f"{value / 1000:.1f}k" if value >= 1000 else f"{value:.0f}"
    if unit == "s":
        return f"{value:.3f}s"
    if unit == "MiB":
        return f"{value:.0f}M"
    return f"{value:.2f}"


def render(report: dict[str, Any]) -> str:
    env, extra = report["environment"], report["extra"]
    lines = ["modular_nn benchmark (bench/run.py)", ""]
    blas = env.get("blas")
    if isinstance(blas, list):
        blas = "; ".join(
            f"{b['internal_api']} {b['version']} kernel {b['architecture']}, "
            f"{b['num_threads']} threads"
            for b in blas
        )
    lines += [
        f"machine : {env['cpu']}, {env['cores']} cores; load average {env['loadavg_start']} at "
        f"start, {env.get('loadavg_end')} at end",
        f"python {env['python']}, numpy {env['numpy']}; BLAS: {blas}",
        f"OPENBLAS_CORETYPE={env['OPENBLAS_CORETYPE']} OPENBLAS_L2_SIZE={env['OPENBLAS_L2_SIZE']}"
        f"; torch {env.get('torch', '-')}; jax {env.get('jax', '-')}",
        f"settings: repeats {report['settings']['repeats']} ({report['settings']['stat']} of "
        "each, round-robin), "
        f"MLP {report['settings']['mlp_samples']} samples/epoch, "
        f"CNN {report['settings']['cnn_samples']}, predict {report['settings']['predict_samples']}",
        "",
    ]
    busy = max(env["loadavg_start"] or 0, env.get("loadavg_end") or 0)
    if env["cores"] and busy > env["cores"] / 2:
        lines += [
            f"NOTE: the machine was busy (load average up to {busy} on {env['cores']} cores):",
            "multi-threaded BLAS slows down badly when its threads must share cores, so",
            "absolute figures are low and ratios noisy; rerun on a quiet machine.",
            "",
        ]
    header = ["workload", "unit", *IMPLS, *(f"x{b}" for b in BASELINES)]
    table = [header]
    for row in report["results"]:
        values, ratios = row["values"], row["ratios"]
        table.append(
            [row["workload"], row["unit"]]
            + [_fmt(values.get(i), row["unit"]) for i in IMPLS]
            + [f"{ratios[b]:.2f}" if b in ratios else "-" for b in BASELINES]
        )
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for i, r in enumerate(table):
        lines.append("  ".join(c.rjust(w) if j > 1 else c.ljust(w) for j, (c, w) in
                               enumerate(zip(r, widths))))  # fmt: skip
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines.append("")
    lines.append("x<baseline> = modular_nn's figure / the baseline's (throughput: higher is")
    lines.append("better; memory: lower is better).")
    lines.append("")
    gemm = extra.get("gemm_gflops")
    gflops = extra.get("mlp_gflops", {})
    interleaved = extra.get("gemm_gflops_interleaved")
    if gemm:
        lines.append(
            f"float32 GEMM {report['settings']['gemm_size']}^3 (GFLOP/s): "
            + (f"{interleaved:.1f} timed in the MLP b{max(report['settings']['mlp_batches'])} "
               "rounds; " if interleaved else "")
            + f"{gemm:.1f} alone at the start, {extra.get('gemm_gflops_after', 0):.1f} at the end"
        )  # fmt: skip
    if gflops:
        mflop = extra["mlp_mflop_per_sample"]
        parts = ", ".join(f"{k} {v:.1f}" for k, v in gflops.items())
        lines.append(f"MLP b{max(report['settings']['mlp_batches'])} achieved GFLOP/s "
                     f"({mflop:.2f} MFLOP/sample): {parts}")  # fmt: skip
        best = extra.get("gemm_gflops_best")
        if interleaved and "modular_nn" in gflops:
            lines.append(
                f"  modular_nn = {gflops['modular_nn'] / interleaved:.0%} of the GEMM rate timed "
                f"in the same rounds ({gflops['modular_nn'] / best:.0%} of the highest of the "
                f"three, {best:.1f})"
            )
    for row in report["results"]:
        for note in row["notes"]:
            lines.append(f"{row['workload']}: {note}")
    if report.get("graph_vs_loop"):
        lines += ["", *render_graph_vs_loop(report["graph_vs_loop"])]
    if report.get("distributed"):
        lines += ["", *dist.render(report["distributed"], report["settings"]["distributed_batch"])]
    lines.append("")
    lines.append("goals:")
    for g in report["goals"]:
        status = {True: "MET ", False: "MISS", None: "n/a "}[g["met"]]
        value = "-" if g["value"] is None else f"{g['value']:.2f}"
        note = f"  ({g['note']})" if g["note"] and g["value"] is None else ""
        line = f"  [{status}] {g['goal']}: {value} (target {g['op']} {g['target']}){note}"
        lines.append(line + _rounds_text(g))
    if any(_rounds_text(g) for g in report["goals"]):
        lines.append("  (rounds: the ratio within each round-robin round, where both were timed")
        lines.append("  in turn; the figure before them is the ratio of the medians)")
    if report["notes"]:
        lines.append("")
        lines.append("skipped:")
        lines += [f"  {name}: {note}" for name, note in report["notes"].items()]
    return "\n".join(lines)


def render_graph_vs_loop(rows: list[dict[str, Any]]) -> list[str]:
    """The part ``graph``: time per train step of each path, and their ratio."""
    table = [["workload", "steps", "graph ms/step", "loop ms/step", "graph/loop", "rounds"]]
    for row in rows:
        steps, rounds = row["steps_per_epoch"], row["rounds"]
        table.append([
            row["workload"], str(steps), f"{row['graph_s'] / steps * 1e3:.3f}",
            f"{row['loop_s'] / steps * 1e3:.3f}", f"{row['ratio']:.3f}",
            f"{min(rounds):.3f}-{max(rounds):.3f}" if rounds else "-",
        ])  # fmt: skip
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    lines = [
        "graph path vs plain layer loop (issue 14): one model, the same prepared batches;",
        "graph = Model._train_step through the graph engine, loop = the sequential step it",
        "replaced (bench/baselines.py PlainLoop); an epoch of each in turn, round-robin",
    ]
    for i, r in enumerate(table):
        lines.append("  ".join(c.ljust(w) if j == 0 else c.rjust(w)
                               for j, (c, w) in enumerate(zip(r, widths))))  # fmt: skip
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def _rounds_text(goal: dict[str, Any]) -> str:
    """How the goal fared round by round, e.g. ``; rounds 0.93-1.04, 4 of 7 at target``."""
    rounds = goal.get("rounds")
    if not rounds or len(rounds) < 2:
        return ""
    if goal["op"] in ("<=", "<"):
        hits = sum(r <= goal["target"] for r in rounds)
    else:
        hits = sum(r >= goal["target"] for r in rounds)
    return f"; rounds {min(rounds):.2f}-{max(rounds):.2f}, {hits} of {len(rounds)} at target"


def _choice(
    parser: argparse.ArgumentParser, what: str, text: str, allowed: tuple[str, ...]
) -> tuple[str, ...]:
    chosen = tuple(item.strip() for item in text.split(",") if item.strip())
    unknown = sorted(set(chosen) - set(allowed))
    if unknown:
        parser.error(f"unknown {what}(s): {', '.join(unknown)}; expected some of {allowed}")
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one repeat")
    parser.add_argument("--repeats", type=int, help="timed rounds per workload (default 7)")
    parser.add_argument(
        "--baselines",
        default=",".join(BASELINES),
        help=f"comma-separated subset of {','.join(BASELINES)}",
    )
    parser.add_argument(
        "--only", default=",".join(PARTS), help=f"comma-separated subset of {','.join(PARTS)}"
    )
    parser.add_argument(
        "--stat",
        choices=("median", "min"),
        default="median",
        help="figure kept from the repeats: median (default) or min time (best run)",
    )
    args = parser.parse_args(argv)
    chosen = _choice(parser, "baseline", args.baselines, BASELINES)
    parts = _choice(parser, "part", args.only, PARTS)
    options = {"baselines": chosen, "parts": parts, "stat": args.stat}
    settings = Settings.quick(**options) if args.quick else Settings(**options)
    if args.repeats:
        settings.repeats = args.repeats
    bench = Bench(settings, log=lambda m: print(m, file=sys.stderr, flush=True))
    report = bench.run()
    for name in BASELINES:
        if name not in chosen:
            report["notes"].setdefault(name, "not selected (--baselines)")
    print(json.dumps(report, indent=1) if args.json else render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
