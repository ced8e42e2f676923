"""The command line as users run it: the installed ``modular-nn`` console script."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

#: The console script pip installed beside this interpreter (``[project.scripts]``).
SCRIPT = Path(sys.executable).with_name("modular-nn")


def modular_nn_command() -> list[str]:
    """The real entry point; ``python -m`` only where no script was installed."""
    return [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "modular_nn.cli.main"]


def _run(
    *args: str,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*modular_nn_command(), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=None if env is None else dict(env),
        timeout=timeout,
    )


@pytest.fixture
def cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """``cli(*args, cwd=None, env=None)``: run ``modular-nn`` in a subprocess, output captured."""
    return _run
