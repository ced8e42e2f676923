"""docs/plugins.md builds this package step by step: the files it quotes (each under an
``<!-- file: path -->`` marker) must be these files, verbatim."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
TUTORIAL = REPO / "docs" / "plugins.md"
QUOTE = re.compile(r"<!-- file: (?P<path>[^ ]+) -->\n[^\n]*\n\n```\w*\n(?P<code>.*?)```", re.S)


def quotes() -> list[tuple[str, str]]:
    if not TUTORIAL.exists():
        return []
    return [(m["path"], m["code"]) for m in QUOTE.finditer(TUTORIAL.read_text(encoding="utf-8"))]


@pytest.mark.skipif(not TUTORIAL.exists(), reason="outside the modular_nn repository")
def test_the_tutorial_quotes_the_key_files():
    quoted = {path for path, _ in quotes()}
    assert {
        "plugins/modular-nn-extras/pyproject.toml",
        "plugins/modular-nn-extras/src/modular_nn_extras/highway.py",
        "plugins/modular-nn-extras/src/modular_nn_extras/plugin.py",
    } <= quoted


@pytest.mark.parametrize(("path", "code"), quotes(), ids=[p for p, _ in quotes()])
def test_a_quoted_file_is_verbatim(path, code):
    assert (REPO / path).read_text(encoding="utf-8") == code, (
        f"docs/plugins.md quotes an outdated {path}; paste the current file"
    )
