"""The part ``distributed`` of the suite: the MLP trained data-parallel (issue 18).

    mpiexec -n P python bench/distributed.py --samples N --batch B --epochs E
    python bench/distributed.py ...          # one process: today's training

Each process trains the bench's MLP (``bench/specs/mlp.json``) on its rows of every
global batch of ``B``; after a warm-up epoch the run is timed for ``E`` epochs. Rank 0
prints one JSON object: steps per second, the seconds per step spent in reductions
(``World.comm_seconds / steps``) and the bytes reduced per step (``World.bytes_reduced /
World.reductions``: the gradients and losses in one buffer). ``run.py`` starts it with 1
and 2 processes, each with cores / processes BLAS threads; on a 2-core machine this
shows that the run works and what it exchanges, not a speed-up.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def mpiexec() -> str | None:
    """The mpiexec to start processes with (None without mpi4py or mpiexec)."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return None
    beside = Path(sys.executable).with_name("mpiexec")
    return str(beside) if beside.exists() else shutil.which("mpiexec")


def measure(processes: int, samples: int, batch: int, epochs: int) -> dict[str, Any]:
    """Run this script on ``processes`` processes (cores / processes BLAS threads each)."""
    threads = str(max(1, (os.cpu_count() or 1) // processes))
    env = {**os.environ, **{name: threads for name in THREAD_VARIABLES}}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))
    script = [sys.executable, str(Path(__file__)), "--samples", str(samples), "--batch",
              str(batch), "--epochs", str(epochs)]  # fmt: skip
    launcher = mpiexec()
    if processes > 1:
        if launcher is None:
            raise RuntimeError("no mpi4py or mpiexec (the [mpi] extra)")
        script = [launcher, "-n", str(processes), *script]
    proc = subprocess.run(script, capture_output=True, text=True, env=env, timeout=600, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"bench/distributed.py on {processes} processes failed:\n{proc.stderr}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    result["blas_threads"] = int(threads)
    return result


def train(samples: int, batch: int, epochs: int) -> dict[str, Any]:
    from baselines import dense_sizes, load_spec

    import modular_nn as mnn

    spec = load_spec("mlp")
    sizes = dense_sizes(spec)
    rng = np.random.default_rng(1)
    x = rng.random((samples, sizes[0]), dtype=np.float32)
    y = rng.integers(0, sizes[-1], samples)
    from modular_nn.model.callbacks import Callback

    class RunOf(Callback):
        """Keeps the ``World`` of the fit (None on one process): its counters are that
        fit's reductions."""

        world: Any = None

        def on_train_begin(self, logs: Any = None) -> None:
            self.world = None if self.model._run is None else self.model._run.world

    model = mnn.build_model(json.dumps(spec))
    model.fit(x, y, epochs=1, batch_size=batch, verbose=0)  # warm-up
    run = RunOf()
    started = time.perf_counter()
    model.fit(x, y, epochs=epochs, batch_size=batch, verbose=0, callbacks=[run])
    seconds = time.perf_counter() - started
    steps = epochs * -(-samples // batch)
    world = run.world
    if world is not None:  # the slowest process sets the pace
        seconds = world.comm.allreduce(seconds, op=world._mpi.MAX)
    return {
        "processes": 1 if world is None else world.size,
        "rank": 0 if world is None else world.rank,
        "steps": steps,
        "steps_per_s": steps / seconds,
        "comm_ms_per_step": 0.0 if world is None else world.comm_seconds / steps * 1e3,
        "reductions_per_step": 0 if world is None else world.reductions / steps,
        "bytes_per_step": 0 if world is None else world.bytes_reduced / steps,
        "parameters": model.count_params(),
    }


def render(rows: list[dict[str, Any]], batch: int) -> list[str]:
    """The part's table: one line per number of processes."""
    lines = [
        f"distributed MLP (issue 18): global batch {batch}, BLAS threads = cores / processes;",
        "comm = seconds in the allreduce per step (World.comm_seconds / steps), bytes = bytes",
        "reduced per step (gradients and losses in one buffer)",
    ]
    for row in rows:
        lines.append(
            f"  {row['processes']} process(es), {row['blas_threads']} BLAS thread(s) each: "
            f"{row['steps_per_s']:.1f} steps/s, comm {row['comm_ms_per_step']:.2f} ms/step, "
            f"{row['bytes_per_step'] / 2**20:.2f} MiB/step "
            f"({row['reductions_per_step']:.0f} reduction(s)/step)"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, required=True)
    parser.add_argument("--batch", type=int, required=True)
    parser.add_argument("--epochs", type=int, required=True)
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    result = train(args.samples, args.batch, args.epochs)
    if result["rank"] == 0:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
