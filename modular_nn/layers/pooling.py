"""What ``max_pool2d`` and ``avg_pool2d`` share: options, shapes and window geometry."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
from pydantic import Field

from modular_nn.components.component import ComponentConfig
from modular_nn.components.layer import Layer, Shape
from modular_nn.layers.windows import IntPair, Padding, WindowGeometry, image_hw, window_geometry


class Pool2DConfig(ComponentConfig):
    """Options of the 2-D pooling layers (Keras's names and defaults)."""

    pool_size: IntPair = Field(2, description="window size: n or [height, width]")
    strides: Optional[IntPair] = Field(  # noqa: UP045 - pydantic schema reads better
        None, description="step: n or [height, width]; default the pool size"
    )
    padding: Padding = Field("valid", description="'valid' or 'same'")


class Pool2D(Layer):
    """Base of the 2-D pooling layers over NHWC images; subclasses give forward/backward."""

    Config = Pool2DConfig

    def geometry(self, input_shape: Shape) -> WindowGeometry:
        """Where the window slides over ``input_shape``; ``ShapeError`` if it cannot."""
        c = self.config
        hw = image_hw(self.type_name, input_shape)
        strides = c.pool_size if c.strides is None else c.strides
        return window_geometry(self.type_name, hw, c.pool_size, strides, c.padding)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (*self.geometry(input_shape).output, input_shape[-1])

    def build(self, input_shape: Shape, rng: np.random.Generator, dtype: Any) -> Shape:
        output_shape = super().build(input_shape, rng, dtype)
        self.window = self.geometry(self.input_shape)
        return output_shape
