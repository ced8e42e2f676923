"""The exception types of modular_nn.

Every error a user can cause is one of these, so ``except mnn.ModularNNError``
catches all of them. Messages say what was expected and what was received.
"""

from __future__ import annotations

from dataclasses import dataclass


class ModularNNError(Exception):
    """Base class of every error raised by modular_nn."""


@dataclass(frozen=True)
class SpecIssue:
    """One problem found in a spec.

    Attributes:
        path: JSON path of the offending value, for example ``layers[2].units``.
        message: what is wrong and what was expected.
        hint: a fix to try, or an empty string.
    """

    path: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        text = f"{self.path}: {self.message}" if self.path else self.message
        return f"{text} (fix: {self.hint})" if self.hint else text


class SpecError(ModularNNError):
    """A model spec is invalid. ``issues`` lists every problem found, all at once."""

    def __init__(self, issues: list[SpecIssue] | str, *, source: str | None = None) -> None:
        if isinstance(issues, str):
            issues = [SpecIssue("", issues)]
        self.issues: list[SpecIssue] = list(issues)
        self.source = source
        super().__init__(self._format())

    def _format(self) -> str:
        origin = f" in {self.source}" if self.source else ""
        count = len(self.issues)
        if count == 1:
            return f"invalid spec{origin}: {self.issues[0]}"
        lines = "\n".join(f"  - {issue}" for issue in self.issues)
        return f"invalid spec{origin}: {count} problems\n{lines}"


class ShapeError(ModularNNError):
    """A layer received an input shape it cannot accept."""


class CheckpointError(ModularNNError):
    """A checkpoint or weights file cannot be written or read."""


class PluginError(ModularNNError):
    """A plugin failed to load, registered something invalid, or a name is unknown."""


class TrainingError(ModularNNError):
    """Training cannot start or cannot go on (no loss, non-finite values, ...)."""


class DataError(ModularNNError):
    """Input arrays or a data source do not fit the model or are malformed."""


class ExportError(ModularNNError):
    """A model cannot be exported (a missing extra, a component without an export method,
    an operation the target format or runtime lacks); nothing is written."""


class TuneError(ModularNNError):
    """A search (``modular-nn tune``) cannot start or go on: optuna missing (the ``[tune]``
    extra), no validation data, a study that belongs to another search, a failed worker."""


class LayerNotFoundError(ModularNNError, KeyError):
    """``model.get_layer(name)`` for a name no layer has (also a ``KeyError``)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class CallbackError(TrainingError):
    """A callback was given an option it cannot take (``ReduceLROnPlateau(factor=2)``): the
    message names the callback, the option, what was expected and received, and a fix."""


class DistributedError(TrainingError):
    """A data-parallel run cannot start or go on (no MPI, processes that disagree)."""
