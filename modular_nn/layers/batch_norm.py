"""Batch normalization."""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from modular_nn.components.component import ComponentConfig
from modular_nn.components.layer import Layer, Shape
from modular_nn.distributed.context import active_world
from modular_nn.export.builder import OnnxBuilder
from modular_nn.layers.channels import channel_sum


class BatchNorm(Layer):
    """Batch normalization (Ioffe & Szegedy, 2015) over every axis but the last.

    Training: y = gamma * (x - mean_B) / sqrt(var_B + epsilon) + beta with the
    batch's mean and (biased) variance, and the running statistics move toward
    them: running = (1 - momentum) * running + momentum * batch, as in the seed
    notebook and PyTorch (``momentum`` is the weight of the new batch).
    Evaluation uses the running statistics. On NHWC images the statistics are
    per channel.

    Args:
        momentum: weight of the new batch in the running statistics, in [0, 1] (0.1).
        epsilon: added to the variance, > 0 (1e-5).
        sync: in a data-parallel run (docs/distributed.md), compute the batch statistics
            over the global batch, reducing the moments across processes, as PyTorch's
            SyncBatchNorm does (false: each process uses its own rows' statistics). One
            process: no effect.

    Shape: output shape = input shape; ``gamma``, ``beta`` and the buffers
    ``moving_mean``, ``moving_variance`` have shape ``(features,)``.
    """

    type_name = "batch_norm"

    class Config(ComponentConfig):
        momentum: float = Field(0.1, ge=0, le=1, description="weight of the new batch statistics")
        epsilon: float = Field(1e-5, gt=0, description="added to the variance")
        sync: bool = Field(False, description="data-parallel runs: statistics of the global batch")

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        self.check_feature_axis(input_shape)
        return tuple(input_shape)

    def param_shapes(self, input_shape: Shape) -> dict[str, Shape]:
        return {"gamma": (input_shape[-1],), "beta": (input_shape[-1],)}

    def build(self, input_shape: Shape, rng: np.random.Generator, dtype: Any) -> Shape:
        output_shape = super().build(input_shape, rng, dtype)
        features = self.input_shape[-1]
        self.add_param("gamma", np.ones(features))
        self.add_param("beta", np.zeros(features))
        self.add_buffer("moving_mean", np.zeros(features))
        self.add_buffer("moving_variance", np.ones(features))
        return output_shape

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self.training = training
        world = active_world() if self.config.sync else None
        self.world = world
        if training and world is not None:
            mean, centered, var = self._global_moments(x, world)
        elif training:
            count = x.size // x.shape[-1]  # the values each feature's statistics average
            mean = channel_sum(x) / count
            centered = x - mean
            var = channel_sum(centered * centered) / count
        if training:
            m = self.config.momentum
            mean_buf, var_buf = self.buffers["moving_mean"], self.buffers["moving_variance"]
            mean_buf *= 1 - m
            mean_buf += m * mean
            var_buf *= 1 - m
            var_buf += m * var
        else:
            centered = x - self.buffers["moving_mean"]
            var = self.buffers["moving_variance"]
        self.inv_std = 1.0 / np.sqrt(var + np.asarray(self.config.epsilon, dtype=x.dtype))
        self.x_hat = centered * self.inv_std
        return self.x_hat * self.params["gamma"] + self.params["beta"]

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        x_hat = self.x_hat
        # dgamma = sum(g * x_hat), dbeta = sum(g) over every axis but the features
        dgamma = channel_sum(grad_out * x_hat, out=self.grads["gamma"])
        dbeta = channel_sum(grad_out, out=self.grads["beta"])
        gamma = self.params["gamma"]
        g_hat = grad_out * gamma
        if not self.training:
            # running statistics are constants: dx = g * gamma / sqrt(var + eps)
            return g_hat * self.inv_std
        # batch statistics depend on x:
        # dx = inv_std * (g_hat - mean(g_hat) - x_hat * mean(g_hat * x_hat)), where
        # mean(g_hat) = gamma * dbeta / count and mean(g_hat * x_hat) = gamma * dgamma / count
        count = grad_out.size // grad_out.shape[-1]
        if self.world is not None:
            return self._global_backward(g_hat, x_hat, gamma, dgamma, dbeta, count)
        mean_g = gamma * (dbeta / count)
        mean_gx = gamma * (dgamma / count)
        return (g_hat - mean_g - x_hat * mean_gx) * self.inv_std

    @property
    def reduces_across_processes(self) -> bool:
        """True when training reduces across the processes of a data-parallel run: every
        process must run this layer at every step, even with no rows of its own."""
        return self.config.sync

    def _global_moments(self, x: np.ndarray, world: Any) -> tuple[np.ndarray, ...]:
        """Mean and biased variance over every process's rows (two reductions: the
        centred second moment needs the global mean)."""
        features = x.shape[-1]
        count = x.size // features
        sums = world.sum([*channel_sum(x).tolist(), float(count)])
        self.counts = (count, sums[-1])  # this process's values, every process's
        mean = np.asarray(sums[:-1], dtype=x.dtype) / x.dtype.type(sums[-1])
        centered = x - mean
        squares = world.sum(channel_sum(centered * centered).tolist())
        var = np.asarray(squares, dtype=x.dtype) / x.dtype.type(sums[-1])
        return mean, centered, var

    def _global_backward(
        self,
        g_hat: np.ndarray,
        x_hat: np.ndarray,
        gamma: np.ndarray,
        dgamma: np.ndarray,
        dbeta: np.ndarray,
        count: int,
    ) -> np.ndarray:
        # The same formula with means over the global batch. Each process's gradient is
        # a mean over its own rows (count), the global one over all (total): weighted by
        # count / total, the sums of dbeta and dgamma over processes are the global sums,
        # and dividing them by this process's count keeps dx in this process's scale.
        local, total = self.counts
        share = local / total
        sums = self.world.sum([*(dbeta * share).tolist(), *(dgamma * share).tolist()])
        features = dbeta.shape[0]
        global_dbeta = np.asarray(sums[:features], dtype=g_hat.dtype)
        global_dgamma = np.asarray(sums[features:], dtype=g_hat.dtype)
        if local == 0:  # no rows here this step: it only took part in the reductions
            return np.zeros_like(g_hat)
        mean_g = gamma * (global_dbeta / local)
        mean_gx = gamma * (global_dgamma / local)
        return (g_hat - mean_g - x_hat * mean_gx) * self.inv_std

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        # inference, with the stored statistics, in forward's order of operations:
        # y = (x - moving_mean) * (1 / sqrt(moving_variance + epsilon)) * gamma + beta
        centered = builder.node("Sub", [inputs[0], builder.weight(self, "moving_mean")])
        eps = builder.constant(self.config.epsilon, "epsilon")
        var = builder.node("Add", [builder.weight(self, "moving_variance"), eps])
        inv_std = builder.node("Reciprocal", [builder.node("Sqrt", [var])], "inv_std")
        x_hat = builder.node("Mul", [centered, inv_std])
        y = builder.node("Mul", [x_hat, builder.weight(self, "gamma")])
        return builder.node("Add", [y, builder.weight(self, "beta")])
