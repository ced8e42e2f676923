"""docs/guide.md, run: its marked shell blocks in order in one empty folder, each exiting as
marked, each printing what the guide shows after it.

The guide's conventions:

- ``<!-- guide-test -->`` right before a ```` ```bash ```` block: run it (``bash -e -o
  pipefail``); it must exit 0, or N with ``<!-- guide-test exit=N -->``. Unmarked blocks
  (installing, the setup) are not run.
- ``<!-- guide-output -->`` right before a ```` ```text ```` block: what the block before it
  prints (stdout and stderr). Each line must match a line of the output, in order, where
  any number stands for any number and runs of spaces for any spacing; a line ``...``
  stands for any lines, and a line ending in ``...`` for any end of line.

``modular-nn`` and ``python`` are this interpreter's, whatever the PATH holds.
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import modular_nn as mnn

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guide.md"
BLOCK = re.compile(
    r"<!-- guide-(?P<kind>test|output)(?P<options>[^>]*?)\s*-->\n"
    r"```(?P<lang>\w*)\n(?P<body>.*?)^```",
    re.S | re.M,
)
NUMBER = r"[-+]?\d+(?:[.,]\d+)*(?:e[-+]?\d+)?"


@dataclass
class Step:
    command: str
    exit: int = 0
    expected: str | None = None


def guide_steps(text: str) -> list[Step]:
    """The marked blocks of the guide, each run block with the output shown after it."""
    steps: list[Step] = []
    for match in BLOCK.finditer(text):
        kind, options, lang, body = match.group("kind", "options", "lang", "body")
        if kind == "test":
            assert lang == "bash", f"a guide-test block must be ```bash: {body[:60]!r}"
            exit_code = re.search(r"exit=(\d+)", options)
            steps.append(Step(body, int(exit_code.group(1)) if exit_code else 0))
        else:
            assert lang == "text", f"a guide-output block must be ```text: {body[:60]!r}"
            assert steps and steps[-1].expected is None, f"output with no command: {body[:60]!r}"
            steps[-1].expected = body
    return steps


def line_pattern(line: str) -> re.Pattern[str]:
    """An excerpt line as a pattern: numbers and spacing free, a trailing ``...`` any end."""
    line = line.rstrip()
    rest = line.endswith("...")
    if rest:
        line = line[:-3]
    parts = re.split(f"({NUMBER})", line)
    pattern = "".join(
        NUMBER if i % 2 else r"\s+".join(map(re.escape, re.split(r" +", part)))
        for i, part in enumerate(parts)
    )
    return re.compile(pattern + (".*" if rest else ""))


def check_output(expected: str, output: str, command: str) -> None:
    """Every line of ``expected`` matches a line of ``output``, in order."""
    lines = [line.rstrip() for line in output.splitlines()]
    at = 0
    for want in expected.splitlines():
        if want.strip() in ("", "..."):
            continue
        pattern = line_pattern(want)
        while at < len(lines) and not pattern.fullmatch(lines[at]):
            at += 1
        assert at < len(lines), (
            f"docs/guide.md shows the line\n  {want}\nafter\n{command}\nbut it printed "
            f"(after the lines matched before it):\n{output}"
        )
        at += 1


def shim_bin(folder: Path) -> Path:
    """A folder holding ``python`` and ``modular-nn``: this interpreter (scripts that run
    it, not links to it, so that a virtual environment stays in effect)."""
    folder.mkdir()
    for name, args in (("python", ""), ("modular-nn", " -m modular_nn.cli.main")):
        script = folder / name
        script.write_text(f'#!/bin/sh\nexec "{sys.executable}"{args} "$@"\n')
        script.chmod(0o755)
    return folder


def test_the_excerpt_matching_is_strict_where_it_should_be() -> None:
    check_output("held-out accuracy: 85.09%\n...\nsaved run.h5 ...", "x\nheld-out accuracy: "
                 "97.37%\ny\nsaved run.h5 (30 epochs, 0.6s)", "cmd")  # fmt: skip
    with pytest.raises(AssertionError, match="docs/guide.md shows the line"):
        check_output("held-out accuracy: 85.09%", "held-out loss: 0.1", "cmd")
    with pytest.raises(AssertionError):  # in order
        check_output("b 1\na 2", "a 1\nb 2", "cmd")
    steps = guide_steps(
        "<!-- guide-test exit=1 -->\n```bash\nfalse\n```\n\n"
        "<!-- guide-output -->\n```text\nno\n```\n\n```bash\nnot run\n```\n"
    )
    assert [(s.command, s.exit, s.expected) for s in steps] == [("false\n", 1, "no\n")]


def test_the_guide_runs_as_written(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")  # the guide's example data; the dev extra installs it
    text = GUIDE.read_text(encoding="utf-8")
    steps = guide_steps(text)
    commands = "\n".join(step.command for step in steps)
    for needed in (
        "modular-nn validate spec.json",
        "modular-nn summary spec.json",
        "modular-nn train spec.json --out run.h5",
        "modular-nn evaluate run.h5",
        "modular-nn train --resume run.h5 --epochs",
        "modular-nn inspect run.h5",
        "--output pred.csv --labels",
    ):
        assert needed in commands, f"docs/guide.md no longer runs {needed!r}"
    assert sum(step.expected is not None for step in steps) >= 8

    work = tmp_path / "cells"
    work.mkdir()
    env = {
        **os.environ,
        "PATH": f"{shim_bin(tmp_path / 'bin')}{os.pathsep}{os.environ.get('PATH', '')}",
        "COLUMNS": "100",
    }
    outputs = []
    for step in steps:
        done = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", step.command],
            cwd=work,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=300,
        )
        assert done.returncode == step.exit, (
            f"{step.command}\nexited {done.returncode}, not {step.exit}:\n{done.stdout}"
        )
        assert "Traceback" not in done.stdout, done.stdout
        if step.expected is not None:
            check_output(step.expected, done.stdout, step.command)
        outputs.append(done.stdout)

    # what the guide promises, beyond the shape of the output
    everything = "\n".join(outputs)
    held_out = [float(v) for v in re.findall(r"^held-out accuracy: ([\d.]+)%", everything, re.M)]
    assert len(held_out) == 2 and held_out[-1] >= 90, held_out  # after train, after resume
    assert re.search(r"^the 114 held-out samples of the recorded test split", everything, re.M)
    model = mnn.load(work / "run.h5")
    assert model.class_names == ["benign", "malignant"] and model.epochs_done == 30
    assert model.data_record is not None and len(model.data_record.split.test) == 114
    with (work / "pred.csv").open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["label"] and len(rows) == 6
    assert {row[0] for row in rows[1:]} == {"benign", "malignant"}
    with (work / "probabilities.csv").open(newline="") as handle:
        probabilities = [list(map(float, row)) for row in list(csv.reader(handle))[1:]]
    assert len(probabilities) == 5
    assert all(abs(sum(row) - 1) < 1e-5 for row in probabilities)
