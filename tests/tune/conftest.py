"""What the tune tests share: a small moons spec and space, the ``modular-nn`` command, and
a look into a study's storage."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

optuna = pytest.importorskip("optuna")  # the [tune] extra; the dev extra installs it

#: A moons MLP that trains in about a second, and a space over three of its values.
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "tune"
SPEC: dict[str, Any] = json.loads((FIXTURES / "moons.json").read_text())
SPACE: dict[str, Any] = json.loads((FIXTURES / "moons.space.json").read_text())
SCRIPT = Path(sys.executable).with_name("modular-nn")


def _write_search(
    folder: Path, spec: dict[str, Any] | None = None, space: dict[str, Any] | None = None
) -> list[str]:
    (folder / "spec.json").write_text(json.dumps(spec or SPEC))
    (folder / "space.json").write_text(json.dumps(space or SPACE))
    return [str(folder / "spec.json"), "--space", str(folder / "space.json")]


@pytest.fixture
def write_search() -> Callable[..., list[str]]:
    """``write_search(folder, spec=None, space=None)``: write spec.json and space.json
    (the moons ones by default) into ``folder``; returns the arguments naming them."""
    return _write_search


def tune_command(*args: str) -> list[str]:
    base = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "modular_nn.cli.main"]
    return [*base, "tune", *args]


@pytest.fixture
def tune() -> Callable[..., subprocess.CompletedProcess[str]]:
    """``tune(*args, cwd=None)``: run ``modular-nn tune`` to its end, output captured."""

    def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            tune_command(*args), capture_output=True, text=True, cwd=cwd, timeout=600
        )

    return run


def _load_trials(storage: str, study: str = "moons_tune") -> list[Any]:
    return optuna.load_study(study_name=study, storage=storage).get_trials(deepcopy=False)


@pytest.fixture
def trials_of() -> Callable[..., list[Any]]:
    """``trials_of(storage_url, study="moons_tune")``: the study's trials (FrozenTrial), read
    from the storage as another process would."""
    return _load_trials


@pytest.fixture
def start_tune() -> Any:
    """``start_tune(*args)``: start ``modular-nn tune`` in the background (stdout and stderr
    together, as text); the test stops it. Processes still running at the end are killed."""
    started: list[subprocess.Popen[str]] = []

    def start(*args: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            tune_command(*args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.fixture
def moons_spec() -> dict[str, Any]:
    """A copy of the moons spec the tune tests search."""
    return json.loads(json.dumps(SPEC))


@pytest.fixture
def moons_space() -> dict[str, Any]:
    """A copy of the moons search space."""
    return json.loads(json.dumps(SPACE))
