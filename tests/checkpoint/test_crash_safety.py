"""Crash safety: processes killed with SIGKILL at random moments, again and again.

``save``: a child process saves two known models over one checkpoint in turn,
without pause (first the one the file does not hold), and is killed after a
random delay; afterwards the file always loads and holds exactly one of the two
states, the one it held before the round ("old") or the other ("new"), never a
mix, and the only other thing a kill may leave is the temporary file the
interrupted save was writing.

Periodic checkpointing: a child trains with ``ModelCheckpoint`` writing after
every epoch and is killed at a random moment; the checkpoint always loads at a
completed epoch, and continuing from it gives bit for bit the weights of a run
that was never interrupted.

Children are forked from the test process (already importing modular_nn), so a
round costs the random delay and little more. Rounds and outcomes are printed
under "reliability counts".
"""

from __future__ import annotations

import multiprocessing
import signal
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.model.callbacks import ModelCheckpoint

pytestmark = pytest.mark.skipif(
    not hasattr(signal, "SIGKILL") or "fork" not in multiprocessing.get_all_start_methods(),
    reason="needs SIGKILL and fork",
)

SAVE_ROUNDS = 24
TRAINING_ROUNDS = 4
EPOCHS = 30


def killed_after(delay: float, work: Callable[[], None]) -> None:
    """Run ``work`` in a forked child and SIGKILL it after ``delay`` seconds."""
    child = multiprocessing.get_context("fork").Process(target=work, daemon=True)
    child.start()
    time.sleep(delay)
    child.kill()
    child.join(30)
    assert child.exitcode == -signal.SIGKILL, f"the child ended on its own ({child.exitcode})"


def wide_spec(tiny_spec: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """Ten layers: a save writes 60 datasets (weights and Adam's slots) and takes a while."""
    layers = [{"type": "dense", "units": 16, "activation": "relu"}] * 9
    return tiny_spec(layers=[*layers, {"type": "dense", "units": 1, "activation": "sigmoid"}])


def test_saves_killed_at_random_moments_leave_the_old_or_the_new_checkpoint(
    tiny_spec: Callable[..., dict[str, Any]],
    xy: tuple[np.ndarray, np.ndarray],
    same_state: Callable[[mnn.Model, mnn.Model], bool],
    tmp_path: Path,
    reliability_counts: Counter,
) -> None:
    states = [mnn.build_model(wide_spec(tiny_spec)) for _ in range(2)]
    states[0].fit(*xy, epochs=1, verbose=0)
    states[1].fit(*xy, epochs=2, verbose=0)
    path = tmp_path / "run.h5"
    started = time.perf_counter()
    states[0].save(path)
    save_time = time.perf_counter() - started  # sets the range of kill delays, asserts nothing
    held = 0  # which state the file holds

    def save_forever() -> None:
        while True:
            states[1 - held].save(path)
            states[held].save(path)

    delays = np.random.default_rng(2024).uniform(0, 4 * save_time, SAVE_ROUNDS)
    outcomes: Counter = Counter()
    for index, delay in enumerate(delays):
        killed_after(float(delay), save_forever)
        temps = list(tmp_path.glob(".run.h5.*.tmp"))
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
            ["run.h5", *(t.name for t in temps)]
        )
        assert len(temps) <= 1, temps  # at most the one save that was cut short
        loaded = mnn.load(path)
        found = [i for i, model in enumerate(states) if same_state(loaded, model)]
        assert len(found) == 1, f"round {index}: the checkpoint is neither state"
        outcomes["old" if found[0] == held else "new"] += 1
        held = found[0]
        outcomes["mid-write"] += bool(temps)
        for temp in temps:
            temp.unlink()
    assert outcomes["mid-write"] > 0  # at least one kill landed inside a save
    reliability_counts["crash safety: save rounds killed with SIGKILL"] += SAVE_ROUNDS
    mid_write = "crash safety: save rounds killed mid-write (temp file left)"
    reliability_counts[mid_write] += outcomes["mid-write"]
    reliability_counts["crash safety: save rounds leaving the old checkpoint"] += outcomes["old"]
    reliability_counts["crash safety: save rounds leaving the new checkpoint"] += outcomes["new"]


def test_training_killed_mid_run_resumes_from_its_last_checkpoint_exactly(
    tiny_spec: Callable[..., dict[str, Any]],
    xy: tuple[np.ndarray, np.ndarray],
    tmp_path: Path,
    reliability_counts: Counter,
) -> None:
    start = tmp_path / "start.h5"
    mnn.build_model(tiny_spec()).save(start)
    uninterrupted = mnn.load(start)
    started = time.perf_counter()
    uninterrupted.fit(*xy, epochs=EPOCHS, verbose=0, callbacks=[ModelCheckpoint(tmp_path / "x.h5")])
    run_time = time.perf_counter() - started  # sets the range of kill delays, asserts nothing
    expected = uninterrupted.get_weights()
    path = tmp_path / "run.h5"

    def train() -> None:
        model = mnn.load(start)
        model.fit(*xy, epochs=EPOCHS, verbose=0, callbacks=[ModelCheckpoint(path)])
        time.sleep(60)  # finished: wait for the kill

    reached = []
    for delay in np.random.default_rng(7).uniform(0.1 * run_time, 0.9 * run_time, TRAINING_ROUNDS):
        path.write_bytes(start.read_bytes())  # the run starts from epoch 0
        killed_after(float(delay), train)
        for temp in tmp_path.glob(".run.h5.*.tmp"):
            temp.unlink()
        resumed = mnn.load(path)
        done = resumed.epochs_done
        assert resumed.history.epoch == list(range(1, done + 1))
        reached.append(done)
        if done < EPOCHS:
            resumed.fit(*xy, epochs=EPOCHS - done, verbose=0)
        assert resumed.epochs_done == EPOCHS
        for name, value in expected.items():
            np.testing.assert_array_equal(resumed.get_weights()[name], value, err_msg=name)
    reliability_counts["crash safety: training runs killed and resumed exactly"] += TRAINING_ROUNDS
    reliability_counts["crash safety: training runs killed before their last epoch"] += sum(
        done < EPOCHS for done in reached
    )
