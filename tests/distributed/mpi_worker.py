"""The worker the distributed tests start under ``mpiexec -n N`` (and import, for the
single-process references): small models trained on small data, every figure written
to ``OUT/rank<R>.npz`` so that the test compares ranks with each other and with one
process.

    mpiexec -n 2 python worker.py OUT [SCENARIO ...]

Scenarios: ``equivalence`` (SGD and Adam, float64 and float32, fit and evaluate, the
ids of the rows each process trained on), ``batch_norm`` (sync and per process),
``dropout`` (per-process draws, twice the same run), ``checkpoint`` (rank 0 writes,
resumed on every process), ``h5`` (a streamed HDF5 source, rows read per process),
``npz`` (a memory-mapped .npz source), ``digest`` (a different seed on one rank).
Nothing here is production code: the recording is done by wrapping, in this process.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

import modular_nn as mnn
from modular_nn.distributed.run import DistributedRun
from modular_nn.model.callbacks import Callback

#: samples, features, classes; batch 8 leaves a last batch of 2 rows (empty on a 3rd rank)
SAMPLES, FEATURES, CLASSES, BATCH = 42, 5, 3, 8
#: 4 epochs of 6 steps: more than the 20 steps the equivalence needs
EPOCHS = 4
#: evaluation batch: a last batch of 2 rows, so with 3 processes one has none
EVAL_BATCH = 4

CONFIGS = {
    "sgd64": ("float64", {"type": "sgd", "learning_rate": 0.2, "momentum": 0.5}),
    "adam64": ("float64", {"type": "adam", "learning_rate": 0.02}),
    "sgd32": ("float32", {"type": "sgd", "learning_rate": 0.2, "momentum": 0.5}),
    "adam32": ("float32", {"type": "adam", "learning_rate": 0.02}),
}


def data(samples: int = SAMPLES, first: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Inputs whose first column is the sample's id / 64 (exact in float32; ids from
    ``first``), and labels."""
    rng = np.random.default_rng(11 + first)
    x = rng.standard_normal((samples, FEATURES))
    x[:, 0] = (first + np.arange(samples)) / 64
    y = (x[:, 1] + x[:, 2] > 0).astype(np.int64) + (x[:, 3] > 0.5)
    return x, y


def validation() -> tuple[np.ndarray, np.ndarray]:
    """13 validation samples, ids from 100."""
    return data(13, first=100)


def spec(
    dtype: str, optimizer: dict[str, Any], middle: list[dict] | None = None, seed: int = 7
) -> dict[str, Any]:
    layers = [{"type": "dense", "units": 8, "activation": "tanh"}]
    layers += middle or []
    layers.append({"type": "dense", "units": CLASSES, "activation": "softmax"})
    return {
        "input_shape": [FEATURES],
        "dtype": dtype,
        "seed": seed,
        "layers": layers,
        "loss": "sparse_categorical_crossentropy",
        "optimizer": optimizer,
        "training": {"epochs": EPOCHS, "batch_size": BATCH, "metrics": ["accuracy"]},
    }


def weights(model: Any) -> np.ndarray:
    """Every parameter and buffer, flattened into one float64 vector."""
    arrays = list(model.params.values()) + list(model.buffers.values())
    return np.concatenate([np.asarray(a, dtype=np.float64).ravel() for a in arrays])


def train(name: str, distributed: bool, epochs: int = EPOCHS) -> tuple[Any, dict]:
    """One of ``CONFIGS`` trained on ``data()`` with validation; the model and its logs."""
    dtype, optimizer = CONFIGS[name]
    model = mnn.build_model(spec(dtype, optimizer))
    x, y = data()
    xv, yv = validation()
    history = model.fit(
        x, y, epochs=epochs, validation_data=(xv, yv), verbose=0, distributed=distributed
    )
    return model, history.history


def evaluation(model: Any, distributed: bool) -> dict[str, float]:
    x, y = data()
    return model.evaluate(x, y, batch_size=EVAL_BATCH, distributed=distributed)


class EpochTag(Callback):
    """Keeps the epoch in progress, for the recording of rows below."""

    epoch = -1

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        EpochTag.epoch = epoch


class DropoutDraws(Callback):
    """The first draws of each epoch's dropout generator of this process (from a copy:
    the run's draws are untouched)."""

    def __init__(self) -> None:
        self.draws: list[np.ndarray] = []

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        layer = next(s.layer for s in self.model.engine.steps if s.layer.name.startswith("dropout"))
        self.draws.append(copy.deepcopy(layer.rng).random(6))


def record_rows(phase: list[str], seen: list[tuple[str, int, np.ndarray]]) -> None:
    """Wrap ``DistributedRun.shard`` so that this process records the ids (first input
    column * 64) of the rows it is given, with the phase and epoch they belong to."""
    original = DistributedRun.shard

    def shard(self: DistributedRun, batches: Any) -> Any:
        for xs, ys in original(self, batches):
            seen.append((phase[0], EpochTag.epoch, np.rint(xs[0][:, 0] * 64).astype(int)))
            yield xs, ys

    DistributedRun.shard = shard  # type: ignore[method-assign]


# ----- scenarios ---------------------------------------------------------------------------
def equivalence(out: dict[str, Any], world: Any) -> None:
    phase = ["fit"]
    seen: list[tuple[str, int, np.ndarray]] = []
    record_rows(phase, seen)
    for name, (dtype, optimizer) in CONFIGS.items():
        model = mnn.build_model(spec(dtype, optimizer))
        x, y = data()
        xv, yv = validation()
        phase[0] = f"fit {name}"
        history = model.fit(
            x, y, validation_data=(xv, yv), verbose=0, callbacks=[EpochTag()], distributed=True
        )
        out[f"{name}/weights"] = weights(model)
        for key, values in history.history.items():
            out[f"{name}/history/{key}"] = np.asarray(values)
        phase[0] = f"evaluate {name}"
        EpochTag.epoch = -1
        for key, value in evaluation(model, distributed=True).items():
            out[f"{name}/evaluate/{key}"] = np.asarray(value)
        out[f"{name}/processes"] = np.asarray(model.processes)
    for phase_name, epoch, ids in seen:
        key = f"ids/{phase_name}/{epoch}"
        out[key] = np.concatenate([out.get(key, np.zeros(0, int)), ids])


def batch_norm(out: dict[str, Any], world: Any) -> None:
    for sync in (True, False):
        model = mnn.build_model(batch_norm_spec(sync))
        x, y = data()
        model.fit(x, y, verbose=0, distributed=True)
        out[f"batch_norm/{'sync' if sync else 'local'}"] = weights(model)


def batch_norm_spec(sync: bool) -> dict[str, Any]:
    return spec("float64", CONFIGS["sgd64"][1], [{"type": "batch_norm", "sync": sync}])


def dropout_spec() -> dict[str, Any]:
    return spec("float64", CONFIGS["adam64"][1], [{"type": "dropout", "rate": 0.5}])


def dropout(out: dict[str, Any], world: Any) -> None:
    for run in (1, 2):
        model = mnn.build_model(dropout_spec())
        draws = DropoutDraws()
        x, y = data()
        model.fit(x, y, verbose=0, callbacks=[draws], distributed=True)
        out[f"dropout/{run}/weights"] = weights(model)
        out[f"dropout/{run}/draws"] = np.stack(draws.draws)


def checkpoint(out: dict[str, Any], world: Any, path: Path) -> None:
    """Two epochs, rank 0 saves, every process resumes for two more; and the uninterrupted
    run of four epochs."""
    model, _ = train("adam64", distributed=True, epochs=2)
    if world.rank == 0:
        model.save(path)
    out["checkpoint/path"] = np.asarray(str(path))
    world.comm.Barrier()
    resumed = mnn.load(path)
    x, y = data()
    xv, yv = validation()
    resumed.fit(x, y, epochs=2, validation_data=(xv, yv), verbose=0, distributed=True)
    out["checkpoint/resumed_weights"] = weights(resumed)
    out["checkpoint/resumed_processes"] = np.asarray(resumed.processes)
    whole, _ = train("adam64", distributed=True, epochs=4)
    out["checkpoint/uninterrupted_weights"] = weights(whole)


def write_data_files(folder: Path) -> None:
    """``data()`` as ``data.h5`` and ``data.npz`` (uncompressed) in ``folder``."""
    import h5py

    x, y = data()
    with h5py.File(folder / "data.h5", "w") as f:
        f["X"], f["y"] = x, y
    np.savez(folder / "data.npz", X=x, y=y)


def h5(out: dict[str, Any], world: Any, path: Path) -> None:
    """fit and evaluate on an H5Source; counts the rows this process read from the file."""
    from modular_nn.data.sources import H5Source

    counted = count_reads(H5Source)
    source = H5Source(path, block_rows=16)
    out["h5/path"] = np.asarray(str(path))
    model = mnn.build_model(spec(*CONFIGS["sgd64"]))
    model.fit(source, verbose=0, distributed=True)
    out["h5/weights"] = weights(model)
    out["h5/fit_rows_read"] = np.asarray(counted[0])
    counted[0] = 0
    for key, value in model.evaluate(source, batch_size=EVAL_BATCH, distributed=True).items():
        out[f"h5/evaluate/{key}"] = np.asarray(value)
    out["h5/evaluate_rows_read"] = np.asarray(counted[0])


def npz(out: dict[str, Any], world: Any, path: Path) -> None:
    from modular_nn.data.npz import NpzSource

    counted = count_reads(NpzSource)
    source = NpzSource(path)
    model = mnn.build_model(spec(*CONFIGS["sgd64"]))
    model.fit(source, verbose=0, distributed=True)
    out["npz/weights"] = weights(model)
    out["npz/fit_rows_read"] = np.asarray(counted[0])


def count_reads(source_type: type) -> list[int]:
    """Wrap the readers ``source_type`` opens: count the rows they read (input rows)."""
    counted = [0]
    original = source_type._open

    def _open(self: Any) -> Any:
        reader = original(self)
        read, take = reader.read, getattr(reader, "take", None)

        def counting_read(start: int, stop: int) -> Any:
            counted[0] += stop - start
            return read(start, stop)

        def counting_take(index: np.ndarray) -> Any:
            counted[0] += len(index)
            return take(index)  # type: ignore[misc]

        reader.read = counting_read
        if take is not None:
            reader.take = counting_take
        return reader

    source_type._open = _open  # type: ignore[method-assign]
    return counted


def digest(out: dict[str, Any], world: Any) -> None:
    """A different seed on rank 1: the start of fit refuses, naming the ranks."""
    model = mnn.build_model(spec("float64", CONFIGS["sgd64"][1], seed=7 + world.rank))
    x, y = data()
    try:
        model.fit(x, y, verbose=0, distributed=True)
    except mnn.ModularNNError as exc:
        out["digest/error"] = np.asarray(f"{type(exc).__name__}: {exc}")


def metrics_spec() -> dict[str, Any]:
    """The sgd64 model reporting AUC (a growing state, gathered) and macro F1 (summed)."""
    spec_ = spec(*CONFIGS["sgd64"])
    spec_["training"]["metrics"] = ["accuracy", "auc", {"type": "f1", "average": "macro"}]
    return spec_


def metrics(out: dict[str, Any], world: Any) -> None:
    """evaluate's AUC and F1 over processes, uneven and empty shards included."""
    model = mnn.build_model(metrics_spec())
    for key, value in evaluation(model, distributed=True).items():
        out[f"metrics/{key}"] = np.asarray(value)


SCENARIOS = {
    "equivalence": equivalence,
    "metrics": metrics,
    "batch_norm": batch_norm,
    "dropout": dropout,
    "checkpoint": lambda out, world: checkpoint(out, world, OUT / "adam-2-epochs.h5"),
    "h5": lambda out, world: h5(out, world, OUT / "data.h5"),
    "npz": lambda out, world: npz(out, world, OUT / "data.npz"),
    "digest": digest,
}
OUT = Path(".")


def main(argv: list[str]) -> None:
    global OUT
    from modular_nn.distributed.world import get_world

    OUT = Path(argv[0])
    world = get_world(required=True)
    assert world is not None, "run me under mpiexec with several processes"
    out: dict[str, Any] = {"size": np.asarray(world.size)}
    for name in argv[1:]:
        SCENARIOS[name](out, world)
    np.savez(OUT / f"rank{world.rank}.npz", **out)
    (OUT / f"rank{world.rank}.done").write_text(json.dumps(sorted(out)))


if __name__ == "__main__":
    main(sys.argv[1:])
