"""A model's outputs as the loss sees them: one loss, weight and set of metrics per output.

With one output everything reads as it always has (``loss``, ``accuracy``). With
several, the total loss is the weighted sum of the outputs' losses, and the logs
hold each output's loss and metrics under its name, as Keras names them
(``digit_loss``, ``digit_accuracy``, ``val_even_accuracy``).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from modular_nn.components.activation import Activation
from modular_nn.components.layer import Layer
from modular_nn.components.loss import Loss
from modular_nn.errors import SpecError
from modular_nn.metrics import Metric, MetricEntry, make_metrics


@dataclass
class Head:
    """One output: its name, the loss on it, its weight and the activation fused with it."""

    name: str
    loss: Loss
    weight: float = 1.0
    #: the output layer's activation computed together with the loss (softmax + CE), or None
    fused: Activation | None = None
    #: the output's shape (one sample), so that metrics know the number of classes
    output_shape: tuple[int, ...] | None = None

    def loss_and_grad(
        self,
        out: np.ndarray,
        y: np.ndarray,
        mask: np.ndarray | None = None,
        weights: np.ndarray | None = None,
    ) -> tuple[float, np.ndarray]:
        """This output's loss and dL/d(output) (dL/d(logits) when fused).

        With a mask (batch, time) only the real steps count: the loss is their mean, and
        the padded steps get a zero gradient. With ``weights`` (one per sample) the loss
        is Keras's weighted mean over the batch, ``sum(w_i * loss_i) / n``, and each
        sample's gradient is scaled by its weight.
        """
        logits = self.fused.logits if self.fused is not None else None
        if mask is None:
            return self._rows(out, y, logits, weights)
        grad = np.zeros_like(out)
        if not mask.any():
            return 0.0, grad  # every step is padding: nothing to learn from
        if weights is not None:  # a sample's weight applies to each of its steps
            shape = (-1,) + (1,) * (mask.ndim - 1)
            weights = np.broadcast_to(weights.reshape(shape), mask.shape)[mask]
        value, grad[mask] = self._rows(
            out[mask], y[mask], None if logits is None else logits[mask], weights
        )
        return value, grad

    def _plain(
        self, out: np.ndarray, y: np.ndarray, logits: np.ndarray | None
    ) -> tuple[float, np.ndarray]:
        if logits is not None:
            value = self.loss.forward_logits(logits, out, y)
            return value, self.loss.backward_logits()
        value = self.loss.forward(out, y)
        return value, self.loss.backward()

    def _value(self, out: np.ndarray, y: np.ndarray, logits: np.ndarray | None) -> float:
        if logits is not None:
            return self.loss.forward_logits(logits, out, y)
        return self.loss.forward(out, y)

    def _rows(
        self,
        out: np.ndarray,
        y: np.ndarray,
        logits: np.ndarray | None,
        weights: np.ndarray | None,
    ) -> tuple[float, np.ndarray]:
        if weights is None:
            return self._plain(out, y, logits)
        value = self._weighted_value(out, y, logits, weights)
        _, grad = self._plain(out, y, logits)  # last: the loss keeps this call's state
        # a loss is a mean over samples, and a sample's gradient depends on it alone
        grad = grad * weights.reshape((-1,) + (1,) * (grad.ndim - 1)).astype(grad.dtype)
        return value, grad

    def _weighted_value(
        self, out: np.ndarray, y: np.ndarray, logits: np.ndarray | None, weights: np.ndarray
    ) -> float:
        """``sum(w_i * loss_i) / n`` from the loss's means over groups of equal weight
        (class weights give a few groups; any weights are exact, just slower)."""
        rows = out.shape[0]
        if rows == 0:
            return 0.0
        total = 0.0
        for weight in np.unique(weights):
            if weight == 0:
                continue
            chosen = np.flatnonzero(weights == weight)
            part = self._value(out[chosen], y[chosen], None if logits is None else logits[chosen])
            total += float(weight) * part * chosen.size
        return total / rows

    def evaluation_loss(
        self,
        out: np.ndarray,
        y: np.ndarray,
        mask: np.ndarray | None = None,
        weights: np.ndarray | None = None,
    ) -> float:
        if mask is None and weights is None:
            logits = self.fused.logits if self.fused is not None else None
            return self._value(out, y, logits)
        return self.loss_and_grad(out, y, mask, weights)[0]


def fuse(heads: list[Head], output_layers: list[Layer | None]) -> None:
    """Fuse each output layer's activation with its loss where the loss can (softmax with
    cross-entropy); ``None`` marks an output whose layer cannot fuse (it is shared, or its
    value also feeds another layer)."""
    for layer in output_layers:
        activation = layer.output_activation if layer is not None else None
        if activation is not None:
            activation.fused = False
    for head, layer in zip(heads, output_layers):
        head.fused = None
        activation = layer.output_activation if layer is not None else None
        if activation is not None and head.loss.can_fuse(activation):
            activation.fused = True
            head.fused = activation


class Heads:
    """The outputs' losses, computed together."""

    def __init__(self, heads: list[Head]) -> None:
        self.heads = heads
        self.single = len(heads) == 1

    def loss_and_grads(
        self, outs: list[np.ndarray], ys: list[np.ndarray], masks: list[Any] | None = None
    ) -> tuple[float, list[np.ndarray], list[float]]:
        """The total loss, each output's gradient (weighted), and each output's loss;
        ``masks`` (per output, None or (batch, time)) leave padded steps out. ``ys`` may
        end with one more array, the samples' weights (``fit(sample_weight=...)``)."""
        masks = masks or [None] * len(self.heads)
        weights = ys[-1] if len(ys) > len(self.heads) else None
        if self.single:
            value, grad = self.heads[0].loss_and_grad(outs[0], ys[0], masks[0], weights)
            return value, [grad], [value]
        total = 0.0
        grads = []
        parts = []
        for head, out, y, mask in zip(self.heads, outs, ys, masks):
            value, grad = head.loss_and_grad(out, y, mask, weights)
            parts.append(value)
            total += head.weight * value
            grads.append(grad if head.weight == 1.0 else grad * grad.dtype.type(head.weight))
        return total, grads, parts

    def evaluation_losses(
        self, outs: list[np.ndarray], ys: list[np.ndarray], masks: list[Any] | None = None
    ) -> tuple[float, list[float]]:
        masks = masks or [None] * len(self.heads)
        weights = ys[-1] if len(ys) > len(self.heads) else None
        parts = [
            head.evaluation_loss(out, y, mask, weights)
            for head, out, y, mask in zip(self.heads, outs, ys, masks)
        ]
        if self.single:
            return parts[0], parts
        return sum(h.weight * p for h, p in zip(self.heads, parts)), parts

    def update_metrics(
        self,
        metrics: list[list[Metric]],
        outs: list[np.ndarray],
        ys: list[np.ndarray],
        masks: list[Any] | None,
    ) -> None:
        """Add one batch to every output's metrics (real steps only where masked)."""
        for index, (group, out, y) in enumerate(zip(metrics, outs, ys)):
            mask = masks[index] if masks else None
            if mask is not None:
                out, y = out[mask], y[mask]
            for metric in group:
                metric.update(out, y)

    def new_metrics(
        self, names: list[MetricEntry] | dict[str, list[MetricEntry]] | None
    ) -> list[list[Metric]]:
        """Fresh metrics per output from the spec's ``training.metrics`` (names or
        ``{"type": ..., options}`` entries, or lists of them keyed by output name)."""
        result = []
        for head in self.heads:
            chosen = names.get(head.name) if isinstance(names, dict) else names
            if isinstance(names, dict) and chosen is None:
                chosen = []  # only the outputs it names get metrics
            logits = bool(getattr(head.loss.config, "from_logits", False))
            result.append(make_metrics(chosen, head.loss.task, logits, head.output_shape))
        return result

    def logs(
        self, total: float, parts: list[float], metrics: list[list[Metric]]
    ) -> dict[str, float]:
        """One epoch's (or evaluation's) values by log name."""
        logs = {"loss": total}
        if self.single:
            logs.update({m.name: m.result() for m in metrics[0]})
            return logs
        for head, part in zip(self.heads, parts):
            logs[f"{head.name}_loss"] = part
        for head, group in zip(self.heads, metrics):
            logs.update({f"{head.name}_{m.name}": m.result() for m in group})
        return logs


def make_heads(
    loss: Any, output_shapes: dict[str, Any], weights: dict[str, float]
) -> tuple[Heads, bool]:
    """One head per output from ``loss``: a loss (component, name or entry) for every
    output, or a dict of them keyed by output name; and whether it was per output."""
    from modular_nn.registry import get_registry

    names = list(output_shapes)
    per_output = isinstance(loss, Mapping) and not isinstance(loss.get("type"), str)
    if per_output:
        unknown = [k for k in loss if k not in names]
        missing = [n for n in names if n not in loss]
        if unknown or missing:
            raise SpecError(
                f"expected a loss for each output ({', '.join(map(repr, names))}); "
                f"missing: {missing or 'none'}, unknown: {unknown or 'none'}"
            )
    heads = []
    for index, (name, shape) in enumerate(output_shapes.items()):
        source = loss[name] if per_output else loss
        made = source if isinstance(source, Loss) else get_registry().create("losses", source)
        if index and made is source:
            made = copy.deepcopy(made)  # a loss keeps per-batch state: one per output
        made.check_output_shape(shape)
        heads.append(Head(name, made, weights.get(name, 1.0), output_shape=_shape(shape)))
    return Heads(heads), per_output


def _shape(shape: Any) -> tuple[int, ...] | None:
    try:
        return tuple(int(n) for n in shape)
    except (TypeError, ValueError):
        return None


def loss_weights_by_output(weights: Any, names: list[str]) -> dict[str, float]:
    """Loss weights by output name, from a dict or a list in output order."""
    if weights is None:
        return {}
    if isinstance(weights, Mapping):
        unknown = [k for k in weights if k not in names]
        if unknown:
            raise SpecError(f"loss_weights for unknown outputs {unknown}; outputs: {names}")
        return {k: float(v) for k, v in weights.items()}
    values = list(weights)
    if len(values) != len(names):
        raise SpecError(
            f"expected {len(names)} loss_weights (one per output), received {len(values)}"
        )
    return {name: float(v) for name, v in zip(names, values)}
