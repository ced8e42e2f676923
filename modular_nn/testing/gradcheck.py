"""Finite-difference gradient checks, in float64, for layers, activations, losses, models.

Each check builds a scalar function L of one array, computes dL/d(array)
analytically (the component's backward) and numerically by central
differences, (L(a + eps) - L(a - eps)) / (2 eps), on up to ``max_checks``
elements chosen at random, and reports the worst relative error

    max_i |analytic_i - numeric_i| / max(|analytic_i|, |numeric_i|, floor)

where ``floor`` is 1e-3 of the gradient's largest magnitude (so elements whose
true gradient is ~0 do not divide by ~0). Layers that take several inputs are
checked for the gradient of each input (``check_layer_gradients``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from modular_nn.components.activation import Activation
from modular_nn.components.layer import Layer, Shape
from modular_nn.components.loss import Loss

DEFAULT_TOLERANCE = 1e-6


@dataclass(frozen=True)
class GradCheckResult:
    """Outcome of one gradient comparison."""

    name: str
    max_rel_error: float
    max_abs_error: float
    checked: int

    def ok(self, tol: float = DEFAULT_TOLERANCE) -> bool:
        return bool(self.max_rel_error <= tol)

    def __str__(self) -> str:
        return (
            f"{self.name}: max relative error {self.max_rel_error:.3g} "
            f"(max absolute {self.max_abs_error:.3g}, {self.checked} elements checked)"
        )


def compare(
    name: str, analytic: np.ndarray, numeric: np.ndarray, index: np.ndarray
) -> GradCheckResult:
    """Relative error between analytic and numeric gradients at flat ``index``."""
    a = np.asarray(analytic, dtype=np.float64).ravel()[index]
    n = np.asarray(numeric, dtype=np.float64).ravel()[index]
    abs_err = np.abs(a - n)
    scale = max(float(np.max(np.abs(a), initial=0.0)), float(np.max(np.abs(n), initial=0.0)))
    floor = max(1e-3 * scale, 1e-12)
    rel = abs_err / np.maximum(np.maximum(np.abs(a), np.abs(n)), floor)
    return GradCheckResult(
        name, float(np.max(rel, initial=0.0)), float(np.max(abs_err, initial=0.0)), int(index.size)
    )


def numerical_gradient(
    f: Callable[[], float], array: np.ndarray, index: np.ndarray, eps: float = 1e-6
) -> np.ndarray:
    """Central differences of ``f()`` in ``array`` (perturbed in place) at flat ``index``."""
    flat = array.reshape(-1)
    grad = np.zeros(array.size)
    for i in index:
        original = flat[i]
        flat[i] = original + eps
        plus = f()
        flat[i] = original - eps
        minus = f()
        flat[i] = original
        grad[i] = (plus - minus) / (2 * eps)
    return grad


def _indices(size: int, max_checks: int, rng: np.random.Generator) -> np.ndarray:
    if size <= max_checks:
        return np.arange(size)
    return np.sort(rng.choice(size, max_checks, replace=False))


def check_layer_gradients(
    layer: Layer,
    input_shape: Shape | Sequence[Shape],
    *,
    batch: int = 3,
    training: bool = True,
    seed: int = 0,
    eps: float = 1e-6,
    max_checks: int = 150,
    x: np.ndarray | Sequence[np.ndarray] | None = None,
) -> dict[str, GradCheckResult]:
    """Check dL/dx and dL/d(every parameter) of ``layer`` with L = sum(forward(x) * R).

    The layer is built in float64 (if not built yet). Randomness inside the
    layer (dropout) is replayed identically for every evaluation by resetting
    its generator. Returns results keyed ``"input"`` and by parameter name.

    A layer that takes several inputs (``input_count``, see
    ``modular_nn.components.layer``) gets ``input_shape`` as a list of shapes and
    ``x``, when given, as a list of arrays; its backward must return a list of
    one gradient per input, each of its input's shape, and every input is
    checked: the results are keyed ``"input[0]"``, ``"input[1]"``, ... in order.
    """
    several = layer.takes_several_inputs()
    rng = np.random.default_rng(seed)
    shapes = [tuple(s) for s in input_shape] if several else [tuple(input_shape)]  # type: ignore[arg-type]
    if not layer.built:
        layer.build(shapes if several else shapes[0], np.random.default_rng(seed + 1), np.float64)
    if x is None:
        xs = [rng.standard_normal((batch, *shape)) for shape in shapes]
    else:
        xs = list(x) if several else [x]  # type: ignore[list-item]
    xs = [np.array(a, dtype=np.float64 if np.asarray(a).dtype.kind == "f" else None) for a in xs]
    names = [f"input[{i}]" for i in range(len(xs))] if several else ["input"]
    layer_seed = seed + 2
    buffers = {k: v.copy() for k, v in layer.buffers.items()}

    def run() -> np.ndarray:
        layer.rng = np.random.default_rng(layer_seed)
        for key, value in buffers.items():
            layer.buffers[key][...] = value
        return layer.forward(xs if several else xs[0], training)

    out = run()
    weights = rng.standard_normal(out.shape)

    def loss() -> float:
        return float(np.sum(run() * weights))

    run()
    layer.needs_input_grad = True
    for grad in layer.grads.values():  # backward must overwrite them, not add to them
        grad.fill(np.nan)
    returned = layer.backward(weights.copy())
    grads_in = _input_gradients(layer, returned, xs, names, several)
    analytic = {k: g.copy() for k, g in layer.grads.items()}
    results: dict[str, GradCheckResult] = {}
    for name, xi, grad_xi in zip(names, xs, grads_in):
        if xi.dtype.kind == "f":
            index = _indices(xi.size, max_checks, rng)
            numeric = numerical_gradient(loss, xi, index, eps)
            results[name] = compare(name, grad_xi, numeric, index)
    for name, param in layer.params.items():
        index = _indices(param.size, max_checks, rng)
        numeric = numerical_gradient(loss, param, index, eps)
        results[name] = compare(name, analytic[name], numeric, index)
    return results


def _input_gradients(
    layer: Layer, returned: Any, xs: list[np.ndarray], names: list[str], several: bool
) -> list[Any]:
    """What backward returned, as one gradient per input; ``AssertionError`` when it does
    not fit the inputs (a single array for several inputs, a wrong count or shape)."""
    label = layer.type_name or type(layer).__name__
    if not several:
        grads = [returned]
    elif not isinstance(returned, (list, tuple)) or len(returned) != len(xs):
        what = (
            f"{len(returned)} gradient(s)"
            if isinstance(returned, (list, tuple))
            else type(returned).__name__
        )
        raise AssertionError(
            f"{label}.backward returned {what} for {len(xs)} inputs; "
            "expected a list of one gradient per input, in order"
        )
    else:
        grads = list(returned)
    for name, xi, grad in zip(names, xs, grads):
        if xi.dtype.kind != "f":
            continue
        if grad is None or np.shape(grad) != xi.shape:
            received = "None" if grad is None else f"shape {np.shape(grad)}"
            raise AssertionError(
                f"{label}.backward returned {received} as the gradient of {name}, "
                f"expected shape {xi.shape}"
            )
    return grads


def check_activation_gradient(
    activation: Activation,
    shape: Shape = (4, 6),
    *,
    seed: int = 0,
    eps: float = 1e-6,
    max_checks: int = 150,
    x: np.ndarray | None = None,
) -> GradCheckResult:
    """Check an activation's backward with L = sum(f(x) * R) in float64."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * 2 if x is None else np.array(x, dtype=np.float64)
    weights = rng.standard_normal(x.shape)
    activation.forward(x)
    analytic = activation.backward(weights.copy())
    index = _indices(x.size, max_checks, rng)
    numeric = numerical_gradient(
        lambda: float(np.sum(activation.forward(x) * weights)), x, index, eps
    )
    return compare(activation.type_name or "activation", analytic, numeric, index)


def check_loss_gradient(
    loss: Loss,
    y_pred: np.ndarray,
    y_true: np.ndarray,
    *,
    seed: int = 0,
    eps: float = 1e-6,
    max_checks: int = 150,
) -> GradCheckResult:
    """Check d(loss)/d(y_pred) in float64."""
    rng = np.random.default_rng(seed)
    y_pred = np.array(y_pred, dtype=np.float64)
    loss.forward(y_pred, y_true)
    analytic = loss.backward()
    index = _indices(y_pred.size, max_checks, rng)
    numeric = numerical_gradient(lambda: loss.forward(y_pred, y_true), y_pred, index, eps)
    return compare(loss.type_name or "loss", analytic, numeric, index)


def check_model_gradients(
    model: Any,
    x: np.ndarray,
    y: np.ndarray,
    *,
    training: bool = True,
    seed: int = 0,
    eps: float = 1e-6,
    max_checks: int = 60,
) -> dict[str, GradCheckResult]:
    """Check d(model loss)/d(every parameter) through the whole model (fusion included).

    The model should be float64. Its generator state and buffers are restored
    before every evaluation, so dropout masks repeat.
    """
    rng = np.random.default_rng(seed)
    x, y = model._prepare_xy(x, y)
    state = model.rng.bit_generator.state
    buffers = {k: v.copy() for k, v in model.buffers.items()}

    def forward_loss() -> tuple[float, np.ndarray]:
        model.rng.bit_generator.state = state
        for key, value in buffers.items():
            model.buffers[key][...] = value
        out = model.forward(x, training)
        return model._loss_and_grad(out, y)

    _, grad = forward_loss()
    model.backward(grad)
    analytic = {k: g.copy() for k, g in model.grads.items()}
    results = {}
    for name, param in model.params.items():
        index = _indices(param.size, max_checks, rng)
        numeric = numerical_gradient(lambda: forward_loss()[0], param, index, eps)
        results[name] = compare(name, analytic[name], numeric, index)
    model.rng.bit_generator.state = state
    return results


def assert_gradients_close(
    results: dict[str, GradCheckResult] | GradCheckResult, tol: float = DEFAULT_TOLERANCE
) -> None:
    """Raise ``AssertionError`` listing every gradient whose relative error exceeds ``tol``."""
    items = [results] if isinstance(results, GradCheckResult) else list(results.values())
    failures = [str(r) for r in items if not r.ok(tol)]
    if failures:
        raise AssertionError(
            f"gradient check failed (tolerance {tol:g}):\n  " + "\n  ".join(failures)
        )
