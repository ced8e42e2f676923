"""What ``max_pool1d`` and ``avg_pool1d`` share: options, shapes, and the 2-D pool they run.

A 1-D pool is its 2-D counterpart on the ``(batch, 1, time, features)`` view of the
sequence with a ``(1, pool_size)`` window: the same values, gradients and padding
rules (``windows.sequence_geometry``), without a copy of the pooling code.
"""

from __future__ import annotations

from typing import Any, ClassVar, Optional

import numpy as np
from pydantic import Field

from modular_nn.components.layer import Layer, Shape
from modular_nn.export.builder import OnnxBuilder
from modular_nn.layers.pooling import Pool2D, Pool2DConfig
from modular_nn.layers.windows import (
    IntOne,
    WindowGeometry,
    sequence_geometry,
    sequence_steps,
)


class Pool1DConfig(Pool2DConfig):
    """Options of the 1-D pooling layers (Keras's names and defaults): the 2-D pools',
    with one integer per window option."""

    pool_size: IntOne = Field(2, description="window length")
    strides: Optional[IntOne] = Field(  # noqa: UP045 - pydantic schema reads better
        None, description="step along time; default the pool size"
    )


class Pool1D(Layer):
    """Base of the 1-D pooling layers over sequences; subclasses name the 2-D pool."""

    Config = Pool1DConfig
    #: the 2-D pooling layer run on the height-1 view
    pool2d_class: ClassVar[type[Pool2D]]

    @property
    def strides(self) -> int:
        """The step along time: ``strides``, by default the pool size."""
        c = self.config
        return c.pool_size if c.strides is None else c.strides

    def geometry(self, input_shape: Shape) -> WindowGeometry:
        """The height-1 window sliding over ``input_shape``; ``ShapeError`` if it cannot."""
        c = self.config
        steps = sequence_steps(self.type_name, input_shape)
        return sequence_geometry(self.type_name, steps, c.pool_size, self.strides, c.padding)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (self.geometry(input_shape).output[1], input_shape[-1])

    def build(self, input_shape: Shape, rng: np.random.Generator, dtype: Any) -> Shape:
        output_shape = super().build(input_shape, rng, dtype)
        c = self.config
        self.pool2d = self.pool2d_class(
            pool_size=(1, c.pool_size), strides=(1, self.strides), padding=c.padding
        )
        self.pool2d.build((1, *self.input_shape), rng, dtype)
        self.window = self.pool2d.window
        return output_shape

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        return self.pool2d.forward(x[:, None], training)[:, 0]

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        # the 2-D pool's derivative on the height-1 view: for the maximum, g goes to
        # each window's first maximal step; for the mean, g / count to each real step
        return self.pool2d.backward(grad_out[:, None])[:, 0]

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        # the 2-D pool's export on the (batch, 1, time, features) view
        y = self.pool2d.export_onnx(builder, [builder.unsqueeze(inputs[0], [1])])  # type: ignore[attr-defined]
        return builder.squeeze(y, [1])
