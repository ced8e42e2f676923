"""Simple (Elman) recurrent layer: h_t = f(x_t W + h_{t-1} U + b)."""

from __future__ import annotations

import numpy as np

from modular_nn.export.builder import OnnxBuilder
from modular_nn.layers.recurrent import Recurrent, RecurrentConfig


class SimpleRNN(Recurrent):
    """Fully connected recurrent layer, h_t = f(x_t W + h_{t-1} U + b) (Elman, 1990).

    The same cell as Keras's ``SimpleRNN`` and PyTorch's ``nn.RNN`` (whose two
    biases sum to ``bias``).

    Args:
        units: size of the state and of the output, a positive integer.
        activation: f (default ``tanh``).
        return_sequences, go_backwards, use_bias, kernel_initializer,
        recurrent_initializer, bias_initializer: as for every recurrent layer
        (``RecurrentConfig`` in ``modular_nn/layers/recurrent.py``).

    Shape:
        sequences and masks as every recurrent layer (``Recurrent``);
        ``kernel`` ``(in, units)``, ``recurrent_kernel`` ``(units, units)``,
        ``bias`` ``(units,)``.
    """

    type_name = "simple_rnn"

    class Config(RecurrentConfig):
        pass

    gates = 1
    state_names = ("h",)

    def step(self, t: int, z: np.ndarray) -> None:
        z += self.recurrent_product(t)
        self.states["h"][t + 1] = self.act.forward(z, t)  # z keeps h_t for backward

    def step_backward(
        self, t: int, d_states: dict[str, np.ndarray], dzx: np.ndarray, dzh: np.ndarray
    ) -> dict[str, np.ndarray]:
        # h_t = f(z_t):  dz_t = dh_t f'(z_t);  dh_{t-1} = dz_t U^T
        dzx[...] = self.act.backward(d_states["h"], self.z[t], t)
        return {"h": dzx @ self.params["recurrent_kernel"].T}

    def onnx_cell(
        self, builder: OnnxBuilder, z: str, states: dict[str, str], recurrent_kernel: str
    ) -> dict[str, str]:
        # h_t = f(z + h_{t-1} U)
        rec = builder.node("MatMul", [states["h"], recurrent_kernel], "recurrent")
        return {"h": builder.activation(self.act.activation, builder.node("Add", [z, rec]))}
