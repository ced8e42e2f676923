"""What every kind's checks share: running properties, comparing arrays and specs, and the
two model-level properties (spec round trip, HDF5 round trip)."""

from __future__ import annotations

import copy
import json
import math
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from modular_nn.components.component import Component
from modular_nn.components.layer import Shape
from modular_nn.plugin_origin import raised_at
from modular_nn.registry import ComponentInfo, get_registry
from modular_nn.testing.examples import Example
from modular_nn.testing.gradcheck import GradCheckResult
from modular_nn.testing.report import PropertyResult

#: How far onnxruntime may be from ``predict`` in float32, relative to the outputs' scale.
ONNX_TOLERANCE = 1e-5
#: How the skip of a component without an ONNX export starts.
NO_EXPORT_METHOD = "no export_onnx method"


class PropertyFailure(Exception):
    """A property does not hold; the message says what was measured."""


class PropertySkip(Exception):
    """A property cannot be checked here; the message says why."""


def max_abs_diff(a: Any, b: Any) -> float:
    """Largest absolute difference between two arrays (inf if their shapes differ).

    Two ``None`` (a layer returning no input gradient) do not differ.
    """
    if a is None or b is None:
        return 0.0 if a is None and b is None else math.inf
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return math.inf
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64))))


def first_difference(a: Any, b: Any, path: str = "") -> str | None:
    """Where two JSON-like values first differ (``layers[0].units: 3 != 4``), or None."""
    where = path or "<top>"
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            if key not in a or key not in b:
                side = "first" if key not in a else "second"
                return f"{path + '.' if path else ''}{key}: missing in the {side}"
            found = first_difference(a[key], b[key], f"{path + '.' if path else ''}{key}")
            if found:
                return found
        return None
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b):
            return f"{where}: length {len(a)} != {len(b)}"
        for index, (x, y) in enumerate(zip(a, b)):
            found = first_difference(x, y, f"{path}[{index}]")
            if found:
                return found
        return None
    if a != b and not (isinstance(a, float) and isinstance(b, float) and a != a and b != b):
        return f"{where}: {a!r} != {b!r}"
    return None


def differences(pairs: dict[str, tuple[Any, Any]], prefix: str = "two") -> list[str]:
    """``"two forwards differ by up to 0.1"`` for each named pair of results that differ."""
    return [
        f"{prefix} {what} differ by up to {gap:.3g}"
        for what, (a, b) in pairs.items()
        if (gap := max_abs_diff(a, b))
    ]


def compare_arrays(
    what: str, first: dict[str, np.ndarray], second: dict[str, np.ndarray]
) -> list[str]:
    """Problems (missing names, differing values) between two dicts of arrays, exactly."""
    problems = []
    for key in sorted(set(first) | set(second)):
        if key not in first or key not in second:
            problems.append(f"{what} {key!r} is missing on one side")
        elif not np.array_equal(first[key], second[key]):
            problems.append(
                f"{what} {key!r} differs by up to {max_abs_diff(first[key], second[key]):.3g}"
            )
    return problems


def fail_if(problems: Iterable[str]) -> None:
    """Raise ``PropertyFailure`` listing ``problems`` when there are any."""
    problems = list(problems)
    if problems:
        raise PropertyFailure("; ".join(problems))


class ComponentChecks:
    """Runs one kind's properties on one registered component.

    Subclasses set ``properties`` (display name, method name), after the
    shared ``construct`` and ``config round trip``.
    """

    properties: ClassVar[tuple[tuple[str, str], ...]] = ()
    batch: ClassVar[int] = 4

    def __init__(
        self, info: ComponentInfo, example: Example, *, tolerance: float, seed: int
    ) -> None:
        self.info = info
        self.cls = info.cls
        self.name = info.name
        self.options = dict(example.options)
        shape = example.input_shape
        #: one sample's shape, or a list of them for a layer that takes several inputs
        self.input_shape: Shape | list[Shape] = (
            [tuple(s) for s in shape] if isinstance(shape, list) else tuple(shape or ())
        )
        self.input_range = example.input_range
        self.tolerance = tolerance
        self.seed = seed

    # ----- running ---------------------------------------------------------------------
    def all_properties(self) -> list[tuple[str, str]]:
        return [
            ("construct", "check_construct"),
            ("config round trip", "check_config_round_trip"),
            *self.properties,
        ]

    def run(self, skip: Iterable[str] = ()) -> list[PropertyResult]:
        """Every property's result; after a failed ``construct`` the rest are skipped."""
        skip = set(skip)
        results: list[PropertyResult] = []
        for label, method in self.all_properties():
            if label in skip:
                results.append(PropertyResult(label, "skip", "skipped by the caller"))
                continue
            results.append(run_property(label, getattr(self, method), origin=self.cls))
            if label == "construct" and results[-1].failed:
                rest = self.all_properties()[len(results) :]
                results += [
                    PropertyResult(other, "skip", "the component could not be constructed")
                    for other, _ in rest
                ]
                break
        return results

    # ----- shared properties -------------------------------------------------------------
    def make(self) -> Any:
        """A new instance from the example options."""
        return self.cls(**copy.deepcopy(self.options))

    def check_construct(self) -> str:
        self.make()
        return f"{self.cls.__name__}(**{self.options!r})"

    def check_config_round_trip(self) -> str:
        component: Component = self.make()
        config = component.get_config()
        try:
            text = json.dumps(config)
        except (TypeError, ValueError) as exc:
            raise PropertyFailure(f"get_config() is not JSON-ready: {exc}") from None
        again = self.cls(**json.loads(text)).get_config()
        diff = first_difference(config, again)
        if diff:
            raise PropertyFailure(f"rebuilding from get_config() changed the options at {diff}")
        try:
            self.cls.Config.model_json_schema()
        except Exception as exc:  # noqa: BLE001 - any failure breaks `modular-nn schema`
            raise PropertyFailure(
                f"Config has no JSON Schema ({type(exc).__name__}: {exc})"
            ) from None
        return f"{len(config)} options"

    def check_float32(self) -> str:
        return self.check_dtype(np.dtype(np.float32))

    def check_float64(self) -> str:
        return self.check_dtype(np.dtype(np.float64))

    def check_dtype(self, dtype: np.dtype) -> str:
        """Outputs and gradients keep ``dtype`` (kinds with dtype properties define it)."""
        raise NotImplementedError

    def judge_gradients(self, results: Iterable[GradCheckResult]) -> str:
        """Fail listing every gradient beyond the tolerance; otherwise report the worst."""
        results = list(results)
        fail_if(f"{r} > tolerance {self.tolerance:g}" for r in results if not r.ok(self.tolerance))
        worst = max((r.max_rel_error for r in results), default=0.0)
        names = ", ".join(r.name for r in results) or "nothing"
        return f"max relative error {worst:.2g} over {names}"

    # ----- model-level properties -----------------------------------------------------
    @property
    def integer(self) -> bool:
        """True when the model's inputs are integers (layers that accept them say so)."""
        return False

    def model_spec(self) -> dict[str, Any]:
        """A small spec that uses the component (subclasses say how)."""
        raise NotImplementedError

    def model_data(self, model: Any, rng: np.random.Generator) -> tuple[np.ndarray, Any]:
        """Inputs (and targets, or None) for a model built from ``model_spec``."""
        x = self.random_input(rng, model.input_shape, 6, model.dtype, integer=self.integer)
        if model.loss is None:
            return x, None
        y = rng.standard_normal((x.shape[0], *model.output_shape))
        return x, y

    def random_input(
        self,
        rng: np.random.Generator,
        shape: Shape,
        batch: int,
        dtype: Any,
        *,
        integer: bool = False,
    ) -> np.ndarray:
        """A batch drawn from ``input_range`` (uniform) or the standard normal."""
        full = (batch, *shape)
        if integer:
            low, high = self.input_range or (0, 2)
            return rng.integers(int(low), int(high), size=full)
        if self.input_range is not None:
            low, high = self.input_range
            return rng.uniform(low, high, size=full).astype(dtype)
        return rng.standard_normal(full).astype(dtype)

    def require_components(self, *refs: tuple[str, str]) -> None:
        """Skip the property unless these ``(kind, name)`` components are registered."""
        registry = get_registry()
        missing = [f"{name} ({kind})" for kind, name in refs if name not in registry.names(kind)]
        if missing:
            raise PropertySkip(f"needs {', '.join(missing)}, not registered here")

    def check_spec_round_trip(self) -> str:
        from modular_nn.model.build import build_model
        from modular_nn.spec.loading import load_spec

        spec = load_spec(self.model_spec())
        model = build_model(spec)
        written = model.to_spec()
        diff = first_difference(spec.model_dump(), written.model_dump())
        if diff:
            raise PropertyFailure(f"to_spec() differs from the spec the model came from at {diff}")
        rebuilt = build_model(load_spec(written.to_json()))
        diff = first_difference(written.model_dump(), rebuilt.to_spec().model_dump())
        if diff:
            raise PropertyFailure(f"rebuilding from to_spec() changed the spec at {diff}")
        problems = compare_arrays("weight", model.get_weights(), rebuilt.get_weights())
        x, _ = self.model_data(model, np.random.default_rng(self.seed))
        gap = max_abs_diff(model.predict(x), rebuilt.predict(x))
        if gap:
            problems.append(f"the rebuilt model's predictions differ by up to {gap:.3g}")
        fail_if(problems)
        return f"{len(spec.layers)} layer(s), weights and predictions identical"

    def check_hdf5_round_trip(self) -> str:
        from modular_nn import load
        from modular_nn.model.build import build_model

        model = build_model(self.model_spec())
        x, y = self.model_data(model, np.random.default_rng(self.seed))
        trains = y is not None and model.optimizer is not None
        if trains:
            for _ in range(2):
                model.train_on_batch(x, y)
        before = model.predict(x)
        with tempfile.TemporaryDirectory(prefix="mnn-conformance-") as tmp:
            path = Path(tmp) / "model.h5"
            try:
                model.save(path)
            except (ImportError, NotImplementedError) as exc:
                raise PropertySkip(f"checkpoints are not available: {exc}") from None
            loaded = load(path)
        problems = compare_arrays("weight", model.get_weights(), loaded.get_weights())
        gap = max_abs_diff(before, loaded.predict(x))
        if gap:
            problems.append(f"predictions differ after save/load by up to {gap:.3g}")
        diff = first_difference(model.to_spec().model_dump(), loaded.to_spec().model_dump())
        if diff:
            problems.append(f"the loaded spec differs at {diff}")
        if trains and not problems:
            model.train_on_batch(x, y)
            loaded.train_on_batch(x, y)
            problems += [
                f"after one more step, {p}"
                for p in compare_arrays("weight", model.get_weights(), loaded.get_weights())
            ]
        fail_if(problems)
        resumed = ", training resumes exactly" if trains else ""
        return f"weights and predictions bit-identical{resumed}"

    def check_onnx_export(self) -> str:
        """Exports a small model using the component to ONNX, runs it in onnxruntime and
        compares with ``predict`` (float32: within ``ONNX_TOLERANCE`` times the outputs'
        scale, at least 1)."""
        from modular_nn.export.builder import exports_onnx
        from modular_nn.model.build import build_model
        from modular_nn.testing.onnx_check import onnx_gap, onnx_runtime_problem

        problem = onnx_runtime_problem()
        if problem:
            raise PropertySkip(problem)
        if not exports_onnx(self.cls):
            raise PropertySkip(
                f"{NO_EXPORT_METHOD}: {self.cls.__name__} defines none for its forward "
                "(docs/export.md), so models using it cannot be exported"
            )
        model = build_model(self.model_spec())
        x, _ = self.model_data(model, np.random.default_rng(self.seed))
        predicted = model.predict(x)
        outputs = predicted.values() if isinstance(predicted, dict) else [predicted]
        scale = max([1.0, *(float(np.max(np.abs(o), initial=0.0)) for o in outputs)])
        gap = onnx_gap(model, x)
        if not gap <= ONNX_TOLERANCE * scale:
            raise PropertyFailure(
                f"onnxruntime's outputs differ from predict by up to {gap:.3g} "
                f"(tolerance {ONNX_TOLERANCE:g} x {scale:.3g})"
            )
        return f"{model.dtype.name}, max difference {gap:.2g}"


def run_property(label: str, check: Callable[[], str | None], origin: Any = None) -> PropertyResult:
    """Run one property; any exception other than a skip is a failure naming it and, with
    ``origin`` (the component's class), the place in its package that raised it."""
    try:
        detail = check() or ""
    except PropertySkip as exc:
        return PropertyResult(label, "skip", str(exc))
    except PropertyFailure as exc:
        return PropertyResult(label, "fail", str(exc))
    except Exception as exc:  # noqa: BLE001 - the component under test raised
        where = raised_at(exc, origin) if origin is not None else None
        at = f" at {where}" if where else ""
        return PropertyResult(label, "fail", f"raised {type(exc).__name__}{at}: {exc}")
    return PropertyResult(label, "pass", detail)
