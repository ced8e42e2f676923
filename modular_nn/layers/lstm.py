"""Long short-term memory layer (Hochreiter & Schmidhuber, 1997), as Keras's ``LSTM``."""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from modular_nn.components.component import ComponentConfig
from modular_nn.export.builder import OnnxBuilder
from modular_nn.layers.recurrent import GatedRecurrentConfig, Recurrent, StepActivation


class LSTM(Recurrent):
    """LSTM layer with gates i, f, c, o (in that order in the weights)::

        [z_i, z_f, z_c, z_o] = x_t W + h_{t-1} U + b
        i = s(z_i)   f = s(z_f)   o = s(z_o)   g = a(z_c)
        c_t = f * c_{t-1} + i * g
        h_t = o * a(c_t)

    with s the ``recurrent_activation`` and a the ``activation``. PyTorch's
    ``nn.LSTM`` computes the same (its gate order i, f, g, o is this one; its two
    biases sum to ``bias``).

    Args:
        units: size of the states and of the output, a positive integer.
        activation: a (default ``tanh``).
        recurrent_activation: s (default ``sigmoid``).
        unit_forget_bias: start the forget gate's bias at 1 (default true;
            Jozefowicz et al., 2015).
        return_sequences, go_backwards, use_bias, kernel_initializer,
        recurrent_initializer, bias_initializer: as for every recurrent layer
        (``RecurrentConfig`` in ``modular_nn/layers/recurrent.py``).

    Shape:
        sequences and masks as every recurrent layer (``Recurrent``);
        ``kernel`` ``(in, 4*units)``, ``recurrent_kernel`` ``(units, 4*units)``,
        ``bias`` ``(4*units,)``.
    """

    type_name = "lstm"

    class Config(GatedRecurrentConfig):
        unit_forget_bias: bool = Field(True, description="start the forget gate's bias at 1")

    gates = 4
    state_names = ("h", "c")
    onnx_op = "LSTM"
    onnx_gate_order = (0, 3, 1, 2)  # ONNX's i, o, f, c from our i, f, c, o

    def __init__(self, config: ComponentConfig | None = None, **options: Any) -> None:
        super().__init__(config, **options)
        self.gate_act = StepActivation(self.config.recurrent_activation)
        self.cell_act = StepActivation(self.config.activation)  # a(c_t), beside a(z_c)
        units = self.config.units
        self.ifo = (slice(0, 2 * units), slice(3 * units, 4 * units))  # gates through s
        self.gc = slice(2 * units, 3 * units)  # the candidate, through a

    def initial_value(self, name: str, value: np.ndarray) -> np.ndarray:
        if name == "bias" and self.config.unit_forget_bias:
            units = self.config.units
            value[units : 2 * units] = 1
        return value

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        batch, time = x.shape[:2]
        self.cell_out = np.empty((time, batch, self.config.units), self.dtype)  # a(c_t)
        return super().forward(x, training)

    def step(self, t: int, z: np.ndarray) -> None:
        z += self.recurrent_product(t)
        units = self.config.units
        for key, part in enumerate(self.ifo):  # z becomes [i, f, g, o], kept for backward
            self.gate_act.forward(z[:, part], (t, key))
        self.act.forward(z[:, self.gc], t)
        i, f, g, o = (z[:, k * units : (k + 1) * units] for k in range(4))
        c = self.states["c"][t + 1]
        np.multiply(f, self.states["c"][t], out=c)
        c += i * g
        a_c = self.cell_out[t]
        a_c[...] = c
        self.cell_act.forward(a_c, t)
        np.multiply(o, a_c, out=self.states["h"][t + 1])

    def step_backward(
        self, t: int, d_states: dict[str, np.ndarray], dzx: np.ndarray, dzh: np.ndarray
    ) -> dict[str, np.ndarray]:
        units = self.config.units
        i, f, g, o = (self.z[t][:, k * units : (k + 1) * units] for k in range(4))
        di, df, dg, do = (dzx[:, k * units : (k + 1) * units] for k in range(4))
        dh, dc = d_states["h"], d_states["c"]
        a_c = self.cell_out[t]
        # h = o a(c):  do = dh a(c);  dc += dh o a'(c)
        np.multiply(dh, a_c, out=do)
        dh *= o
        dc += self.cell_act.backward(dh, a_c, t)
        # c = f c_prev + i g:  di = dc g;  df = dc c_prev;  dg = dc i;  dc_prev = dc f
        np.multiply(dc, g, out=di)
        np.multiply(dc, self.states["c"][t], out=df)
        np.multiply(dc, i, out=dg)
        dc *= f
        # through the activations, to the pre-activations z
        for key, part in enumerate(self.ifo):
            dzx[:, part] = self.gate_act.backward(dzx[:, part], self.z[t][:, part], (t, key))
        dzx[:, self.gc] = self.act.backward(dg, g, t)
        return {"h": dzx @ self.params["recurrent_kernel"].T, "c": dc}

    def onnx_activations(self) -> list[Any]:
        # ONNX's f (gates), g (candidate), h (cell output): s, a, a
        return [self.gate_act.activation, self.act.activation, self.cell_act.activation]

    def onnx_cell(
        self, builder: OnnxBuilder, z: str, states: dict[str, str], recurrent_kernel: str
    ) -> dict[str, str]:
        # [i, f, g, o] = z + h_{t-1} U;  c_t = s(f) c_{t-1} + s(i) a(g);  h_t = s(o) a(c_t)
        rec = builder.node("MatMul", [states["h"], recurrent_kernel], "recurrent")
        gates = builder.node("Split", [builder.node("Add", [z, rec])], "gates", outputs=4, axis=1)
        i, f, o = (builder.activation(self.gate_act.activation, gates[k]) for k in (0, 1, 3))
        g = builder.activation(self.act.activation, gates[2])
        kept = builder.node("Mul", [f, states["c"]], "kept")
        c = builder.node("Add", [kept, builder.node("Mul", [i, g], "written")], "c")
        h = builder.node("Mul", [o, builder.activation(self.cell_act.activation, c)], "h")
        return {"h": h, "c": c}

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        # ONNX's LSTM, gate blocks reordered from i, f, c, o to i, o, f, c (Recurrent)
        return super().export_onnx(builder, inputs)
