"""What fit's training guard (modular_nn/model/guard.py) costs: fit timed with and without it.

    python bench/guard_overhead.py             # MLP at batch 32 and 128, XOR full batch
    python bench/guard_overhead.py --repeats 21

"Without" replaces the guard's per-epoch work (the snapshot at the start of each
epoch, the finiteness check at its end) by no-ops in this process; the per-step
check of the loss stays, as it predates the guard. Runs alternate between the two,
in one process, and CPU time is measured, so that a busy machine disturbs both alike;
the median and the minimum of the ratio are printed. On a busy machine these
ratios carry a few percent of noise either way, so the guard's own work per epoch
(one snapshot and one check, timed alone) is printed too, as a share of the epoch.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import modular_nn as mnn
from modular_nn.model import guard

HERE = Path(__file__).resolve().parent


def switched_off() -> dict[str, object]:
    """Replace the guard's per-epoch methods by no-ops; return the originals."""
    cls = guard.TrainingGuard
    saved = {name: getattr(cls, name) for name in ("__init__", "begin_epoch", "end_epoch")}
    cls.__init__ = lambda self, model, callbacks=(): None  # type: ignore[method-assign]
    cls.begin_epoch = lambda self, epoch, batches: None  # type: ignore[method-assign]
    cls.end_epoch = lambda self, steps: None  # type: ignore[method-assign]
    return saved


def time_fit(model: mnn.Model, x: np.ndarray, y: np.ndarray, epochs: int, batch: int) -> float:
    started = time.process_time()
    model.fit(x, y, epochs=epochs, batch_size=batch, verbose=0)
    return time.process_time() - started


def compare(
    name: str, spec: dict, x: np.ndarray, y: np.ndarray, epochs: int, batch: int, repeats: int
) -> None:
    model = mnn.build_model(spec)
    model.fit(x[:256], y[:256], epochs=1, batch_size=batch, verbose=0)  # warm up
    times: dict[str, list[float]] = {"on": [], "off": []}
    for round_ in range(repeats):
        for mode in ("on", "off") if round_ % 2 else ("off", "on"):
            saved = switched_off() if mode == "off" else {}
            try:
                times[mode].append(time_fit(model, x, y, epochs, batch))
            finally:
                for attr, value in saved.items():
                    setattr(guard.TrainingGuard, attr, value)
    on, off = statistics.median(times["on"]), statistics.median(times["off"])
    best = min(times["on"]) / min(times["off"]) - 1
    work = guard_work(model)
    print(
        f"{name:34s} with guard {on:.4f} s  without {off:.4f} s  "
        f"overhead {100 * (on / off - 1):+.1f}% (median), {100 * best:+.1f}% (minimum); "
        f"guard work {work * 1e6:.0f} us per epoch = {100 * work * epochs / off:.2f}% of fit"
    )


def guard_work(model: mnn.Model, rounds: int = 200) -> float:
    """CPU seconds of one epoch's guard work (snapshot and check) for ``model``, alone."""
    checker = guard.TrainingGuard(model)
    started = time.process_time()
    for epoch in range(rounds):
        checker.begin_epoch(epoch, lambda: iter(()))
        checker.end_epoch(1)
    return (time.process_time() - started) / rounds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=11)
    args = parser.parse_args(argv)
    mlp = json.loads((HERE / "specs" / "mlp.json").read_text())
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8192, 784)).astype(np.float32)
    y = rng.integers(0, 10, 8192)
    for batch in (32, 128):
        compare(f"mlp 784-512-256-10, batch {batch}", mlp, x, y, 1, batch, args.repeats)
    xor_x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float)
    xor_y = np.array([[0], [1], [1], [0]], float)
    xor = mnn.load_spec(HERE.parent / "examples" / "xor.json").model_dump()
    compare("xor, full batch, 2000 epochs", xor, xor_x, xor_y, 2000, 4, args.repeats)


if __name__ == "__main__":
    sys.exit(main())
