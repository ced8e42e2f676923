"""Gated recurrent unit layer (Cho et al., 2014), as Keras's ``GRU`` with ``reset_after``."""

from __future__ import annotations

from typing import Any

import numpy as np

from modular_nn.components.component import ComponentConfig
from modular_nn.components.layer import Shape
from modular_nn.export.builder import OnnxBuilder
from modular_nn.layers.recurrent import GatedRecurrentConfig, Recurrent, StepActivation


class GRU(Recurrent):
    """GRU layer with gates z, r, h (in that order in the weights), reset after the
    recurrent product (Keras's default ``reset_after=True``, PyTorch's formula)::

        [x_z, x_r, x_h] = x_t W + b_in        [u_z, u_r, u_h] = h_{t-1} U + b_rec
        z = s(x_z + u_z)   r = s(x_r + u_r)   n = a(x_h + r * u_h)
        h_t = z * h_{t-1} + (1 - z) * n

    with s the ``recurrent_activation`` and a the ``activation``. PyTorch's
    ``nn.GRU`` computes the same with gate order r, z, n.

    Args:
        units: size of the state and of the output, a positive integer.
        activation: a (default ``tanh``).
        recurrent_activation: s (default ``sigmoid``).
        return_sequences, go_backwards, use_bias, kernel_initializer,
        recurrent_initializer, bias_initializer: as for every recurrent layer
        (``RecurrentConfig`` in ``modular_nn/layers/recurrent.py``).

    Shape:
        sequences and masks as every recurrent layer (``Recurrent``);
        ``kernel`` ``(in, 3*units)``, ``recurrent_kernel`` ``(units, 3*units)``,
        ``bias`` ``(2, 3*units)``: row 0 b_in, row 1 b_rec.
    """

    type_name = "gru"

    class Config(GatedRecurrentConfig):
        pass

    gates = 3
    state_names = ("h",)
    separate_recurrent_grad = True  # dL/d(u_h) = dL/d(x_h) * r
    onnx_op = "GRU"
    onnx_gate_order = (0, 1, 2)  # ONNX's z, r, h: ours

    def __init__(self, config: ComponentConfig | None = None, **options: Any) -> None:
        super().__init__(config, **options)
        self.gate_act = StepActivation(self.config.recurrent_activation)
        units = self.config.units
        self.zr = slice(0, 2 * units)
        self.hh = slice(2 * units, 3 * units)

    def bias_shape(self) -> Shape:
        return (2, 3 * self.config.units)

    def input_bias(self) -> np.ndarray | None:
        return self.params["bias"][0] if self.config.use_bias else None

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        batch, time = x.shape[:2]
        self.u_h = np.empty((time, batch, self.config.units), self.dtype)  # h_{t-1} U_h + b
        return super().forward(x, training)

    def step(self, t: int, z: np.ndarray) -> None:
        u = self.recurrent_product(t)
        if self.config.use_bias:
            u += self.params["bias"][1]
        z[:, self.zr] += u[:, self.zr]
        gates = self.gate_act.forward(z[:, self.zr], t)  # z becomes [z, r, n], kept
        u_h = self.u_h[t]
        u_h[...] = u[:, self.hh]
        n = z[:, self.hh]
        n += gates[:, self.config.units :] * u_h  # r * u_h
        self.act.forward(n, t)
        # h_t = n + z (h_{t-1} - n)
        h = self.states["h"][t + 1]
        np.subtract(self.states["h"][t], n, out=h)
        h *= gates[:, : self.config.units]
        h += n

    def step_backward(
        self, t: int, d_states: dict[str, np.ndarray], dzx: np.ndarray, dzh: np.ndarray
    ) -> dict[str, np.ndarray]:
        units = self.config.units
        z, r, n = (self.z[t][:, k * units : (k + 1) * units] for k in range(3))
        dh = d_states["h"]
        h_prev = self.states["h"][t]
        dz, dr, dn = (dzx[:, k * units : (k + 1) * units] for k in range(3))
        # h = z h_prev + (1 - z) n:  dz = dh (h_prev - n);  dn = dh (1 - z);  dh_prev = dh z
        np.subtract(h_prev, n, out=dz)
        dz *= dh
        np.subtract(1, z, out=dn)
        dn *= dh
        dn[...] = self.act.backward(dn, n, t)  # now dL/d(x_h + r u_h)
        # x_h + r u_h:  dr = dn u_h;  d(u_h) = dn r
        np.multiply(dn, self.u_h[t], out=dr)
        dzx[:, self.zr] = self.gate_act.backward(dzx[:, self.zr], self.z[t][:, self.zr], t)
        dzh[:, self.zr] = dzx[:, self.zr]
        np.multiply(dn, r, out=dzh[:, self.hh])
        dh_prev = dzh @ self.params["recurrent_kernel"].T
        dh_prev += dh * z
        return {"h": dh_prev}

    def bias_gradient(self, dzx: np.ndarray, dzh: np.ndarray) -> None:
        np.sum(dzx, axis=0, out=self.grads["bias"][0])
        np.sum(dzh, axis=0, out=self.grads["bias"][1])

    def onnx_activations(self) -> list[Any]:
        # ONNX's f (gates z, r), g (candidate): s, a
        return [self.gate_act.activation, self.act.activation]

    def onnx_bias(self, builder: OnnxBuilder) -> str:
        # ONNX's B = [Wb; Rb] is our (2, 3*units) bias, rows b_in then b_rec, as one row
        return builder.node("Reshape", [builder.weight(self, "bias"), builder.int64s([1, -1])])

    def onnx_attributes(self) -> dict[str, Any]:
        # reset after the recurrent product: r * (h_{t-1} U_h + b_rec)
        return {"linear_before_reset": 1}

    def onnx_input_bias(self, builder: OnnxBuilder) -> str | None:
        # row 0 of the (2, 3*units) bias: b_in
        if not self.config.use_bias:
            return None
        row = builder.constant(0, "b_in_row", dtype=np.int64)
        return builder.node("Gather", [builder.weight(self, "bias"), row], "b_in", axis=0)

    def onnx_cell(
        self, builder: OnnxBuilder, z: str, states: dict[str, str], recurrent_kernel: str
    ) -> dict[str, str]:
        # u = h_{t-1} U + b_rec;  z = s(x_z + u_z);  r = s(x_r + u_r);
        # n = a(x_h + r u_h);  h_t = (h_{t-1} - n) z + n
        h_prev = states["h"]
        u = builder.node("MatMul", [h_prev, recurrent_kernel], "recurrent")
        if self.config.use_bias:
            row = builder.constant(1, "b_rec_row", dtype=np.int64)
            b_rec = builder.node("Gather", [builder.weight(self, "bias"), row], "b_rec", axis=0)
            u = builder.node("Add", [u, b_rec], "recurrent")
        x_z, x_r, x_h = builder.node("Split", [z], "x_gates", outputs=3, axis=1)
        u_z, u_r, u_h = builder.node("Split", [u], "u_gates", outputs=3, axis=1)
        update = builder.activation(self.gate_act.activation, builder.node("Add", [x_z, u_z]))
        reset = builder.activation(self.gate_act.activation, builder.node("Add", [x_r, u_r]))
        n = builder.node("Add", [x_h, builder.node("Mul", [reset, u_h])], "candidate")
        n = builder.activation(self.act.activation, n)
        h = builder.node("Mul", [builder.node("Sub", [h_prev, n]), update])
        return {"h": builder.node("Add", [h, n], "h")}

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        # ONNX's GRU with linear_before_reset=1, gates z, r, h as ours (Recurrent)
        return super().export_onnx(builder, inputs)
