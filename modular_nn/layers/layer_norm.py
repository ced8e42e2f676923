"""Layer normalization over the last axis."""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from modular_nn.components.component import ComponentConfig
from modular_nn.components.layer import Layer, Shape
from modular_nn.export.builder import OnnxBuilder


class LayerNorm(Layer):
    """Layer normalization (Ba, Kiros & Hinton, 2016) over the last axis of each sample.

    y = gamma * (x - mean) / sqrt(var + epsilon) + beta, with the mean and the
    (biased) variance of each sample's last axis. The same in training and
    evaluation: there are no running statistics.

    Args:
        epsilon: added to the variance, > 0 (1e-5, as PyTorch's ``LayerNorm`` and
            this package's ``batch_norm``; Keras uses 1e-3).
        center: learn the offset ``beta`` (default true).
        scale: learn the gain ``gamma`` (default true).

    Shape: output shape = input shape; ``gamma`` and ``beta`` are ``(features,)``.
    """

    type_name = "layer_norm"
    supports_masking = True  # per step: a mask on the time axis passes through

    class Config(ComponentConfig):
        epsilon: float = Field(1e-5, gt=0, description="added to the variance")
        center: bool = Field(True, description="learn an offset beta")
        scale: bool = Field(True, description="learn a gain gamma")

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        self.check_feature_axis(input_shape)
        return tuple(input_shape)

    def param_shapes(self, input_shape: Shape) -> dict[str, Shape]:
        features = (input_shape[-1],)
        shapes = {"gamma": features} if self.config.scale else {}
        if self.config.center:
            shapes["beta"] = features
        return shapes

    def build(self, input_shape: Shape, rng: np.random.Generator, dtype: Any) -> Shape:
        output_shape = super().build(input_shape, rng, dtype)
        features = self.input_shape[-1]
        if self.config.scale:
            self.add_param("gamma", np.ones(features))
        if self.config.center:
            self.add_param("beta", np.zeros(features))
        return output_shape

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        centered = x - x.mean(axis=-1, keepdims=True)
        var = np.mean(centered * centered, axis=-1, keepdims=True)
        self.inv_std = 1.0 / np.sqrt(var + np.asarray(self.config.epsilon, dtype=x.dtype))
        self.x_hat = centered * self.inv_std
        y = self.x_hat * self.params["gamma"] if self.config.scale else self.x_hat.copy()
        if self.config.center:
            y += self.params["beta"]
        return y

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        x_hat = self.x_hat
        rows = grad_out.reshape(-1, grad_out.shape[-1])
        # dgamma = sum(g * x_hat), dbeta = sum(g) over every axis but the last
        if self.config.scale:
            np.einsum("pf,pf->f", rows, x_hat.reshape(rows.shape), out=self.grads["gamma"])
        if self.config.center:
            np.einsum("pf->f", rows, out=self.grads["beta"])
        g_hat = grad_out * self.params["gamma"] if self.config.scale else grad_out
        # per sample, over the last axis:
        # dx = inv_std * (g_hat - mean(g_hat) - x_hat * mean(g_hat * x_hat))
        mean_g = g_hat.mean(axis=-1, keepdims=True)
        mean_gx = (g_hat * x_hat).mean(axis=-1, keepdims=True)
        return (g_hat - mean_g - x_hat * mean_gx) * self.inv_std

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        # ONNX LayerNormalization (opset 17) over the last axis; its scale is required
        features = self.input_shape[-1]  # type: ignore[index]
        scale = (
            builder.weight(self, "gamma")
            if self.config.scale
            else builder.constant(np.ones(features), "ones")
        )
        given = [inputs[0], scale] + ([builder.weight(self, "beta")] if self.config.center else [])
        return builder.node("LayerNormalization", given, axis=-1, epsilon=self.config.epsilon)
