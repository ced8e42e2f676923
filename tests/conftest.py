"""Suite-wide test hooks: the counts the reliability tests print.

Tests that generate cases (fuzzed specs, damaged checkpoint files, SIGKILL
rounds) add them to the session fixture ``reliability_counts``
(``reliability_counts["spec fuzz: mutated valid specs"] += 1``). The totals are
printed in pytest's terminal summary, under "reliability counts", with or
without ``-s``; ``docs/reliability.md`` quotes them.
"""

from __future__ import annotations

from collections import Counter

import pytest

COUNTS = pytest.StashKey[Counter]()


def _counts(config: pytest.Config) -> Counter:
    if COUNTS not in config.stash:
        config.stash[COUNTS] = Counter()
    return config.stash[COUNTS]


@pytest.fixture(scope="session")
def reliability_counts(pytestconfig: pytest.Config) -> Counter:
    """A session-wide ``Counter`` of generated cases, printed at the end of the run."""
    return _counts(pytestconfig)


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    counts = _counts(config)
    if not counts:
        return
    terminalreporter.section("reliability counts")
    for label in sorted(counts):
        terminalreporter.write_line(f"{label}: {counts[label]:,}")
