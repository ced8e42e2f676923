"""What the conformance kit reports: one result per property, gathered per component."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from modular_nn.registry import Provider

Status = Literal["pass", "fail", "skip"]


@dataclass(frozen=True)
class PropertyResult:
    """The outcome of one property: ``"pass"``, ``"fail"`` or ``"skip"``, and the numbers.

    ``detail`` says what was measured (``"max relative error 0.41 > tolerance
    1e-06 for kernel"``) or, for a skip, why.
    """

    property: str
    status: Status
    detail: str = ""

    @property
    def failed(self) -> bool:
        return self.status == "fail"

    def __str__(self) -> str:
        text = f"{self.status.upper():4} {self.property}"
        return f"{text}: {self.detail}" if self.detail else text


@dataclass
class ConformanceReport:
    """Every property checked for one component."""

    kind: str
    name: str
    provider: Provider | None = None
    results: list[PropertyResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no property failed (skipped ones do not count)."""
        return not self.failures

    @property
    def failures(self) -> list[PropertyResult]:
        return [r for r in self.results if r.failed]

    @property
    def skipped(self) -> list[PropertyResult]:
        return [r for r in self.results if r.status == "skip"]

    def result(self, prop: str) -> PropertyResult:
        """The result of the property called ``prop``."""
        for item in self.results:
            if item.property == prop:
                return item
        raise KeyError(f"no property {prop!r}; checked: {', '.join(self.checked())}")

    def checked(self) -> list[str]:
        """Names of the properties in the report, in order."""
        return [r.property for r in self.results]

    def raise_for_failures(self) -> None:
        """Raise ``ConformanceError`` (an ``AssertionError``) listing every failed property."""
        if not self.ok:
            raise ConformanceError(self)

    def __str__(self) -> str:
        origin = f" from {self.provider.describe()}" if self.provider else ""
        failed = len(self.failures)
        verdict = "conforms" if not failed else f"{failed} of {len(self.results)} properties failed"
        lines = [f"{self.kind} {self.name!r}{origin}: {verdict}"]
        lines += [f"  {result}" for result in self.results]
        return "\n".join(lines)


class ConformanceError(AssertionError):
    """A component broke the contract; ``report`` holds every result."""

    def __init__(self, report: ConformanceReport) -> None:
        self.report = report
        failures = "\n".join(f"  {r}" for r in report.failures)
        super().__init__(
            f"{report.kind} {report.name!r} failed the conformance kit:\n{failures}\n"
            f"full report:\n{report}"
        )
