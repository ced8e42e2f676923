"""Dropout layer (inverted dropout)."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from modular_nn.components.component import ComponentConfig
from modular_nn.components.layer import Layer
from modular_nn.export.builder import OnnxBuilder


class Dropout(Layer):
    """Inverted dropout (Srivastava et al., 2014).

    In training each element is zeroed with probability ``rate`` and the kept
    ones are scaled by 1 / (1 - rate), so the expected output equals the input;
    in evaluation the layer is the identity. The mask is drawn from the model's
    generator, so a run is reproducible from its seed.

    Args:
        rate: fraction of inputs to drop, in [0, 1).

    Shape: output shape = input shape.
    """

    type_name = "dropout"
    supports_masking = True  # per step: a mask on the time axis passes through

    class Config(ComponentConfig):
        rate: float = Field(0.5, ge=0, lt=1, description="probability of dropping an input")

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        rate = self.config.rate
        if not training or rate == 0:
            self.mask = None
            return x
        keep = self.rng.random(x.shape, dtype=np.float32) >= rate  # type: ignore[union-attr]
        self.mask = keep * np.asarray(1.0 / (1.0 - rate), dtype=x.dtype)
        return x * self.mask

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        # y = x * mask  =>  dL/dx = dL/dy * mask
        if self.mask is None:
            return grad_out
        return grad_out * self.mask

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        # inference: the identity
        return inputs[0]
