"""The conformance kit: does a registered component keep modular_nn's contract?

For plugin authors (and for modular_nn's own components)::

    from modular_nn.testing import check_component

    report = check_component("layers", "extras.highway", input_shape=(6,))
    print(report)                # one line per property: PASS / FAIL / SKIP and the numbers
    report.raise_for_failures()  # ConformanceError (an AssertionError) naming what failed

and, in a test suite, one test per component of a distribution::

    import pytest
    from modular_nn.testing import assert_conforms, conformance_cases

    @pytest.mark.parametrize("case", conformance_cases(distribution="modular-nn-extras"), ids=str)
    def test_conformance(case):
        assert_conforms(case)

What is checked, per kind (the property names in reports):

- every kind: ``construct`` (the example options are accepted), ``config round
  trip`` (``get_config()`` is JSON and rebuilds the same options; the Config has
  a JSON Schema);
- layers: ``output shape`` (``compute_output_shape`` == ``build``'s return ==
  the shape ``forward`` produces in both modes; backward returns the input's
  shape), ``parameter shapes`` (``param_shapes``/``param_count`` match what
  ``build`` creates; ``grads`` mirror ``params``), ``gradients`` (finite
  differences in float64 for the input and every parameter), ``gradients in
  place`` (backward writes into ``self.grads`` arrays, never replaces them, and
  never changes the weights), ``dtype float32``/``dtype float64`` (parameters,
  outputs and gradients keep the dtype), ``seed determinism`` (one seed gives
  the same weights, outputs and gradients), ``evaluation determinism``
  (evaluation is repeatable and leaves buffers alone), ``batch independence``
  (in evaluation a sample's output does not depend on the rest of the batch),
  ``spec round trip`` (a model using the component: ``to_spec()`` gives back the
  spec it came from; rebuilding gives the same weights and predictions), ``hdf5
  round trip`` (``model.save``/``mnn.load``: weights and predictions
  bit-identical, and training resumes exactly);
- layers that take several inputs (``input_count``) are tried on a list of
  arrays built from a list of example shapes, and every layer property above
  covers each input (its gradient, its dtype, that it is left untouched...);
  they also get ``input gradients separate`` (no two of the gradients
  backward returns share memory: a graph may add into one in place), and
  their spec and HDF5 round trips use a graph spec with one model input per
  layer input;
- activations: ``output shape``, ``gradients``, dtypes, ``determinism``, ``batch
  independence``, spec and HDF5 round trips;
- losses: ``gradient shape``, ``gradients``, ``fused gradients`` (through the
  activation it fuses with, whole-model finite differences, same loss value),
  dtypes, ``determinism``, ``batch independence`` (the batch loss is the mean
  of the per-sample losses), spec and HDF5 round trips;
- optimizers: ``decreases a quadratic``, ``updates in place``, dtypes (parameters
  and slots), ``determinism``, ``state round trip`` (``state_dict`` restored
  into a new optimizer continues exactly), spec and HDF5 round trips;
- initializers: ``shape and dtype``, ``seed determinism``, ``spec round trip``;
- metrics: ``streaming`` (the result over uneven batches, one of a single sample,
  equals the result on the whole set at once), ``merge`` (``state()`` is a flat float64
  vector; merging the second half's state into the first half's metric gives the whole
  set's value, as does merging the whole state into a new metric; an additive metric's
  state keeps its length), ``reset``, ``task check`` (``bind`` refuses the tasks not in
  ``tasks`` with ``TrainingError``), ``spec round trip`` (a model listing the metric in
  ``training.metrics``; ``evaluate`` reports it).

Each component is tried on a small example (see ``modular_nn.testing.examples``:
class attributes ``example_input_shape``, ``example_options``,
``example_input_range``); a layer without one fails with a message saying how
to give one.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass, replace
from typing import Any

from modular_nn.components.layer import Shape
from modular_nn.errors import PluginError
from modular_nn.registry import (
    KINDS,
    Registry,
    get_registry,
    normalize_distribution,
    use_registry,
)
from modular_nn.testing.checks import CHECKS_BY_KIND
from modular_nn.testing.examples import Example, as_input_shape, example_for
from modular_nn.testing.gradcheck import DEFAULT_TOLERANCE
from modular_nn.testing.report import ConformanceError, ConformanceReport, PropertyResult

_KIND_ALIASES = {
    "layer": "layers",
    "activation": "activations",
    "loss": "losses",
    "optimizer": "optimizers",
    "initializer": "initializers",
    "metric": "metrics",
}


@dataclass(frozen=True)
class ConformanceCase:
    """One registered component to check; ``str(case)`` is a readable pytest id."""

    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"


def normalize_kind(kind: str) -> str:
    """``"layer"`` or ``"layers"`` -> ``"layers"``; ``PluginError`` for anything else."""
    kind = _KIND_ALIASES.get(kind, kind)
    if kind not in KINDS:
        raise PluginError(f"unknown component kind {kind!r}; expected one of {', '.join(KINDS)}")
    return kind


def check_component(
    kind: str,
    name: str,
    *,
    input_shape: Shape | list[Shape] | None = None,
    options: dict[str, Any] | None = None,
    input_range: tuple[float, float] | None = None,
    registry: Registry | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    seed: int = 0,
    skip: Iterable[str] = (),
) -> ConformanceReport:
    """Check every property of the registered component ``name`` of ``kind``.

    Args:
        kind: ``"layers"``, ``"activations"``, ``"losses"``, ``"optimizers"``,
            ``"initializers"`` or ``"metrics"`` (singular accepted).
        name: the registered name (``"extras.highway"``).
        input_shape: one sample's shape (losses: one prediction's), overriding
            the component's example; for a layer that takes several inputs, a
            list of shapes, one per input.
        options: the component's options, overriding the example's.
        input_range: draw inputs uniformly from ``[low, high)`` (integers for
            layers that take integer input) instead of the standard normal.
        registry: check against this registry instead of the process-wide one.
        tolerance: the largest relative error allowed by the gradient checks.
        seed: seed of every generator the checks use.
        skip: property names not to check (reported as skipped).

    Returns the report; it never raises for a failing property.
    """
    kind = normalize_kind(kind)
    scope = use_registry(registry) if registry is not None else nullcontext()
    with scope:
        report = ConformanceReport(kind, name)
        try:
            info = (registry or get_registry()).get(kind, name)
        except PluginError as exc:
            report.results.append(PropertyResult("registered", "fail", str(exc)))
            return report
        report.provider = info.provider
        example = example_for(info) or Example()
        if input_shape is not None:
            example = replace(example, input_shape=as_input_shape(input_shape))
        if options is not None:
            example = replace(example, options=dict(options))
        if input_range is not None:
            example = replace(example, input_range=tuple(input_range))  # type: ignore[arg-type]
        if kind == "layers":
            problem = (
                _no_example(name)
                if example.input_shape is None
                else _input_count_problem(info.cls, name, example.input_shape)
            )
            if problem:
                report.results.append(PropertyResult("example", "fail", problem))
                return report
        checks = CHECKS_BY_KIND[kind](info, example, tolerance=tolerance, seed=seed)
        report.results = checks.run(skip)
    return report


def _no_example(name: str) -> str:
    return (
        f"no example input for layer {name!r}: set example_input_shape (and example_options "
        "for required options) on the class, pass input_shape= to check_component, or, for a "
        "modular_nn built-in, add it to modular_nn/testing/examples.py BUILTIN_EXAMPLES"
    )


def _input_count_problem(cls: Any, name: str, input_shape: Shape | list[Shape]) -> str | None:
    """Why the example input does not fit the layer's ``input_count``, or None."""
    low, high = cls.input_count
    if not cls.takes_several_inputs():
        if isinstance(input_shape, list):
            return (
                f"layer {name!r} takes one input, the example gives {len(input_shape)} shapes "
                f"{input_shape}: give one shape, such as (4,) (a layer taking several inputs "
                "sets input_count)"
            )
        return None
    if not isinstance(input_shape, list):
        return (
            f"layer {name!r} takes several inputs (input_count {(low, high)}), the example "
            f"gives one shape {input_shape}: give a list of shapes, one per input, such as "
            f"[{input_shape}, {input_shape}]"
        )
    if len(input_shape) < low or (high is not None and len(input_shape) > high):
        if high == low:
            wanted = f"exactly {low}"
        elif high is None:
            wanted = f"at least {low}"
        else:
            wanted = f"{low} to {high}"
        return (
            f"layer {name!r} takes {wanted} inputs (input_count {(low, high)}), "
            f"the example gives {len(input_shape)}: {input_shape}"
        )
    return None


def assert_conforms(
    kind: str | ConformanceCase, name: str | None = None, **kwargs: Any
) -> ConformanceReport:
    """``check_component`` that raises ``ConformanceError`` (an AssertionError) on failure."""
    if isinstance(kind, ConformanceCase):
        kind, name = kind.kind, kind.name
    if name is None:
        raise TypeError("assert_conforms needs a ConformanceCase or a kind and a name")
    report = check_component(kind, name, **kwargs)
    report.raise_for_failures()
    return report


def conformance_cases(
    *,
    distribution: str | None = None,
    plugin: str | None = None,
    kinds: Iterable[str] = KINDS,
    registry: Registry | None = None,
) -> list[ConformanceCase]:
    """Every registered component as a ``ConformanceCase``, for ``pytest.mark.parametrize``.

    ``distribution`` (``"modular-nn-extras"``) or ``plugin`` (the entry-point
    name, ``"builtins"``) keeps one provider's components. A provider that is
    not installed, or that failed to load, raises ``PluginError`` rather than
    yielding no cases, so a test suite cannot pass by checking nothing.
    """
    registry = registry or get_registry()
    wanted = normalize_distribution(distribution) if distribution else None

    def chosen(record_provider: Any) -> bool:
        if plugin is not None and record_provider.plugin != plugin:
            return False
        dist = record_provider.distribution
        return wanted is None or (dist is not None and normalize_distribution(dist) == wanted)

    if wanted is not None or plugin is not None:
        records = [r for r in registry.plugins.values() if chosen(r.provider)]
        who = " ".join(
            part
            for part in (
                f"distribution {distribution!r}" if distribution else "",
                f"plugin {plugin!r}" if plugin else "",
            )
            if part
        )
        if not records:
            known = ", ".join(sorted(registry.plugins)) or "none"
            raise PluginError(
                f"no modular_nn plugin from {who} is registered (plugins seen: {known}); "
                "install it (pip install -e <its folder>) so its entry point is found"
            )
        broken = [r for r in records if r.status != "loaded"]
        if broken:
            raise PluginError(
                "; ".join(f"{r.provider.describe()} is {r.status}: {r.error}" for r in broken)
            )
    cases = [
        ConformanceCase(kind, info.name)
        for kind in (normalize_kind(k) for k in kinds)
        for info in registry.components(kind)
        if chosen(info.provider)
    ]
    if not cases and (wanted is not None or plugin is not None):
        raise PluginError(
            f"{who} registered no components of the kinds asked for; "
            "are its hooks marked @modular_nn.hookimpl?"
        )
    return cases


__all__ = [
    "ConformanceCase",
    "ConformanceError",
    "ConformanceReport",
    "PropertyResult",
    "assert_conforms",
    "check_component",
    "conformance_cases",
    "normalize_kind",
]
