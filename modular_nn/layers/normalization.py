"""Feature-wise normalization with fixed statistics: y = (x - mean) / std."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from pydantic import Field, field_validator, model_validator

from modular_nn.components.component import ComponentConfig
from modular_nn.components.layer import Layer, Shape
from modular_nn.errors import ShapeError, TrainingError
from modular_nn.export.builder import OnnxBuilder
from modular_nn.layers.preprocessing import Numbers, check_numbers


class Normalization(Layer):
    """Keras's ``Normalization``: shift and scale inputs by a mean and a variance kept
    per index along ``axis`` (over every other axis), given or adapted from the data.

    y = (x - mean) / std with std = max(sqrt(variance), epsilon), so a feature of zero
    variance gives (x - mean) / epsilon, never a division by zero (Keras's rule, with
    its epsilon 1e-7). ``invert`` applies the inverse, y = mean + x * std.

    The statistics are constants, not parameters: they are the buffers ``mean``,
    ``variance`` and ``count``, saved and loaded with the weights. With ``"adapt":
    true`` they come from the training data: ``fit`` streams the training set once
    through the layers before this one, before the first epoch (an HDF5 source larger
    than memory works), and this layer accumulates each index's count, mean and sum of
    squared deviations in float64, batch by batch (Chan, Golub & LeVeque's parallel
    update, stable where sum and sum of squares are not). ``count`` then holds how many
    values each statistic was computed from, and a model whose ``count`` is not 0 (loaded
    from a checkpoint, or fitted before) does not adapt again. The variance is the
    biased one (divided by the count), as Keras's and numpy's ``var``.

    Args:
        axis: the axis, or list of axes, that keep a separate mean and variance for each
            index, counted with the batch axis as Keras does (-1: the last, the features
            or channels; 1: the first after the batch; never 0); null: one mean and one
            variance over everything.
        mean: the mean, a number or one per index along ``axis`` (with ``variance``).
        variance: the variance, a number or one per index, each >= 0 (with ``mean``).
        adapt: learn mean and variance from the training data (not with ``mean``).
        invert: apply the inverse transformation, y = mean + x * std (false).
        epsilon: the smallest standard deviation divided by, > 0 (1e-7).

    Shape: output shape = input shape. The buffers ``mean`` and ``variance`` have the
    shape of the kept axes (``(features,)`` for ``axis`` -1; ``(1,)`` for null), ``count``
    is ``(1,)``.
    """

    type_name = "normalization"
    supports_masking = True  # per step: a mask on the time axis passes through

    class Config(ComponentConfig):
        axis: int | list[int] | None = Field(
            -1, description="axis or axes with their own statistics, batch axis counted; not 0"
        )
        mean: Numbers | None = Field(None, description="given mean (with variance)")
        variance: Numbers | None = Field(None, description="given variance (with mean)")
        adapt: bool = Field(False, description="learn mean and variance from the training data")
        invert: bool = Field(False, description="apply the inverse: mean + x * std")
        epsilon: float = Field(1e-7, gt=0, description="smallest standard deviation divided by")

        @field_validator("axis")
        @classmethod
        def _axes_not_batch(cls, value: int | list[int] | None) -> int | list[int] | None:
            axes = [value] if isinstance(value, int) else value or []
            if 0 in axes:
                raise ValueError(
                    "expected axes other than 0, the batch axis (-1 for the last axis, "
                    "1 for the first after the batch, null for one statistic over everything)"
                )
            if isinstance(value, list) and (not value or len(set(value)) != len(value)):
                raise ValueError(f"expected a non-empty list of distinct axes, received {value}")
            return value

        @field_validator("variance")
        @classmethod
        def _non_negative(cls, value: Numbers | None) -> Numbers | None:
            values = [value] if isinstance(value, (int, float)) else value or []
            if any(v < 0 for v in values):
                raise ValueError(f"expected variances >= 0, received {value}")
            return value

        @model_validator(mode="after")
        def _one_source_of_statistics(self) -> Normalization.Config:
            given = (self.mean is not None, self.variance is not None)
            if self.adapt and any(given):
                raise ValueError(
                    "expected either mean and variance, or adapt: true, not both: adapting "
                    "would replace the given statistics"
                )
            if given[0] != given[1]:
                missing = "variance" if given[0] else "mean"
                raise ValueError(f"mean and variance go together: {missing} is missing")
            if not self.adapt and not any(given):
                raise ValueError(
                    "expected mean and variance, or adapt: true (statistics learned from the "
                    "training data before the first epoch); received neither"
                )
            return self

    # ----- shapes ----------------------------------------------------------------------
    def kept_axes(self, input_shape: Shape) -> list[int]:
        """``axis`` as sorted indices into a per-sample shape; ``ShapeError`` if one names
        no axis of it."""
        axis = self.config.axis
        if axis is None:
            return []
        rank = len(input_shape)
        indices = []
        for a in [axis] if isinstance(axis, int) else axis:
            index = a - 1 if a > 0 else rank + a
            if not 0 <= index < rank:
                raise ShapeError(
                    f"normalization axis {a} is out of range for inputs of shape "
                    f"{(None, *input_shape)} (None: the batch): expected an axis from 1 to "
                    f"{rank} or from -{rank} to -1"
                )
            indices.append(index)
        if len(set(indices)) != len(indices):
            raise ShapeError(
                f"normalization axes {axis} name the same axis twice for inputs of shape "
                f"{(None, *input_shape)}"
            )
        return sorted(indices)

    def statistics_shape(self, input_shape: Shape) -> Shape:
        """The shape of ``mean`` and ``variance``: the kept axes' sizes, ``(1,)`` for none."""
        return tuple(input_shape[i] for i in self.kept_axes(input_shape)) or (1,)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        shape = self.statistics_shape(input_shape)
        where = f"the axes {self.config.axis} (shape {shape}) of inputs {(None, *input_shape)}"
        for name in ("mean", "variance"):
            check_numbers(
                "normalization", name, getattr(self.config, name), math.prod(shape), where
            )
        return tuple(input_shape)

    def build(self, input_shape: Shape, rng: np.random.Generator, dtype: Any) -> Shape:
        output_shape = super().build(input_shape, rng, dtype)
        shape = self.statistics_shape(self.input_shape)
        kept = self.kept_axes(self.input_shape)
        # the statistics broadcast against a batch: size 1 on every other axis
        self.broadcast_shape = (1, *(n if i in kept else 1 for i, n in enumerate(input_shape)))
        given = self.config.mean is not None
        size = int(np.prod(shape))
        for name, default in (("mean", 0.0), ("variance", 1.0)):
            value = np.ravel(getattr(self.config, name) if given else default)
            self.add_buffer(name, np.broadcast_to(value, (size,)).reshape(shape).copy())
        self.add_buffer("count", np.zeros(1))
        self._reduce = tuple(i + 1 for i in range(len(input_shape)) if i not in kept)
        self._moments: tuple[float, np.ndarray, np.ndarray] | None = None
        return output_shape

    # ----- adapting to the training data ----------------------------------------------
    def needs_adapting(self) -> bool:
        return bool(self.config.adapt) and float(self.buffers["count"][0]) == 0

    def adapt_update(self, x: Any) -> None:
        x = np.asarray(x, dtype=np.float64)
        axes = (0, *self._reduce)
        n = x.size // int(np.prod(self.buffers["mean"].shape))
        if n == 0:
            return
        batch_mean = x.mean(axis=axes, keepdims=True)
        deviations = x - batch_mean
        batch_m2 = np.square(deviations).sum(axis=axes, keepdims=True)
        if self._moments is None:
            self._moments = (float(n), batch_mean, batch_m2)
            return
        # Chan et al.: merge (count_a, mean_a, M2_a) with the batch's (n, mean_b, M2_b)
        count, mean, m2 = self._moments
        total = count + n
        delta = batch_mean - mean
        mean = mean + delta * (n / total)
        m2 = m2 + batch_m2 + delta * delta * (count * n / total)
        self._moments = (total, mean, m2)

    def adapt_finish(self) -> None:
        if self._moments is None:
            raise TrainingError(
                f"normalization layer {self.name!r} cannot adapt: the training data it "
                "streamed had no samples"
            )
        count, mean, m2 = self._moments
        shape = self.buffers["mean"].shape
        self.buffers["mean"][...] = mean.reshape(shape)
        self.buffers["variance"][...] = (m2 / count).reshape(shape)
        self.buffers["count"][...] = count
        self._moments = None

    # ----- computation -------------------------------------------------------------------
    def _statistics(self, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        """mean and std = max(sqrt(variance), epsilon), shaped to broadcast on a batch."""
        mean = self.buffers["mean"].reshape(self.broadcast_shape).astype(dtype, copy=False)
        std = np.sqrt(self.buffers["variance"].reshape(self.broadcast_shape).astype(dtype))
        return mean, np.maximum(std, np.asarray(self.config.epsilon, dtype=dtype))

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        mean, std = self._statistics(x.dtype)
        self.std = std
        if self.config.invert:
            return x * std + mean
        return (x - mean) / std

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        # the statistics are constants: dy/dx = 1 / std (inverted: std)
        if self.config.invert:
            return grad_out * self.std
        return grad_out / self.std

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        # forward's operations: std = Max(Sqrt(variance), epsilon), then (x - mean) / std
        shape = builder.int64s(self.broadcast_shape)
        mean = builder.node("Reshape", [builder.weight(self, "mean"), shape], "mean")
        variance = builder.node("Reshape", [builder.weight(self, "variance"), shape])
        eps = builder.constant(self.config.epsilon, "epsilon")
        std = builder.node("Max", [builder.node("Sqrt", [variance]), eps], "std")
        if self.config.invert:
            return builder.node("Add", [builder.node("Mul", [inputs[0], std]), mean])
        return builder.node("Div", [builder.node("Sub", [inputs[0], mean]), std])
