"""Measurements that need a fresh process; ``run.py`` starts one per measurement.

    python bench/child.py import
        seconds for ``import modular_nn`` and for the first plugin discovery.
    python bench/child.py memory {modular_nn|numpy} --samples N --batch B [--epochs E]
        peak resident memory (VmHWM, else ru_maxrss) of training the MLP on N samples, and the
        resident memory before training (interpreter, libraries, data).

Each prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time


def _rss_mb() -> float:
    """Current resident set size in MiB (Linux /proc; falls back to the peak)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        import os

        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return _peak_rss_mb()


def _peak_rss_mb() -> float:
    """Peak resident set size in MiB: VmHWM where /proc has it (ru_maxrss on Linux can
    carry the parent's peak over fork + exec), ru_maxrss elsewhere."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 2**10  # kB
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes vs KiB


def measure_import() -> dict[str, float]:
    t0 = time.perf_counter()
    import modular_nn as mnn

    t1 = time.perf_counter()
    mnn.available("layers")  # the first lookup discovers every plugin
    t2 = time.perf_counter()
    return {"import_s": t1 - t0, "discovery_s": t2 - t1, "total_s": t2 - t0}


def measure_memory(impl: str, samples: int, batch: int, epochs: int) -> dict[str, float]:
    import numpy as np
    from baselines import NumpyMLP, dense_sizes, load_spec

    spec = load_spec("mlp")
    if impl == "modular_nn":
        import modular_nn  # noqa: F401 - imported before the baseline figure, like numpy
    rng = np.random.default_rng(1)
    x = rng.random((samples, 784), dtype=np.float32)
    y = rng.integers(0, 10, samples)
    before = _rss_mb()
    if impl == "modular_nn":
        import modular_nn as mnn

        model = mnn.build_model(json.dumps(spec))
        for _ in range(epochs):
            model.fit(x, y, epochs=1, batch_size=batch, verbose=0)
    elif impl == "numpy":
        trainer = NumpyMLP(dense_sizes(spec), x, y, batch)
        for _ in range(epochs):
            trainer.train_epoch()
    else:
        raise SystemExit(f"unknown implementation {impl!r}")
    return {"rss_before_mb": before, "peak_rss_mb": _peak_rss_mb(), "data_mb": x.nbytes / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="what", required=True)
    sub.add_parser("import")
    mem = sub.add_parser("memory")
    mem.add_argument("impl")
    mem.add_argument("--samples", type=int, required=True)
    mem.add_argument("--batch", type=int, required=True)
    mem.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args()
    if args.what == "import":
        result = measure_import()
    else:
        result = measure_memory(args.impl, args.samples, args.batch, args.epochs)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
