"""What the recurrent layers (``simple_rnn``, ``lstm``, ``gru``) share.

A recurrent layer reads sequences ``(batch, time, features)`` and runs a cell
over the time axis. The base class owns everything but the cell:

- options (``RecurrentConfig``: Keras's names and defaults) and shapes;
- parameters in Keras's layout, ``kernel`` (in, G*units), ``recurrent_kernel``
  (units, G*units) and ``bias``, G being the cell's number of gates;
- the time loop: one GEMM projects the inputs of every step at once,
  ``(time*batch, in) @ kernel``; each step then adds only ``h_{t-1} @
  recurrent_kernel`` and runs the cell's gate arithmetic in place;
- masks (Keras's semantics): at a padded step (mask False) every state is
  carried over unchanged, so the output there is the previous output, and
  backward sends the state's gradient straight through to the step before;
- ``go_backwards``: the sequence (and its mask) is read in reverse; the output
  sequence stays reversed, as in Keras, and so does its mask;
- ONNX export (``export_onnx``): ONNX's ``RNN``/``LSTM``/``GRU`` operator, the
  weights converted in the graph to its layout (``W`` (1, G*units, in) and ``R``
  (1, G*units, units), gate blocks in ONNX's order, ``B`` = [input bias; recurrent
  bias]); ``go_backwards`` reverses the input and runs forwards, so the output
  sequence stays reversed as here. When a mask reaches the layer (``builder.input_mask``)
  the time loop is unrolled instead (``export_onnx_unrolled``: the input projections of
  every step in one ``MatMul``, then per step the cell's operators, ``onnx_cell``, and
  ``Where(mask_t, new state, previous state)`` for every state), since ONNX's operators
  cannot carry states over padded steps;
- backpropagation through time, after which the parameter gradients are three
  GEMMs over all steps: dL/d(kernel) = X^T dZx, dL/d(recurrent_kernel) =
  H_{t-1}^T dZh, dL/dX = dZx kernel^T, where dZx and dZh are the gradients of
  the input and recurrent pre-activations of every step.

A cell subclass sets ``gates`` and ``state_names`` and implements ``step``
(forward of one step, in place) and ``step_backward``. Arrays are time-major
inside (``(time, batch, ...)``, each step contiguous) and keep the layer's dtype.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from modular_nn.activations.sigmoid import Sigmoid
from modular_nn.activations.tanh import Tanh
from modular_nn.components.component import ComponentConfig
from modular_nn.components.layer import Layer, Shape
from modular_nn.components.refs import ActivationRef, InitializerRef
from modular_nn.errors import ExportError
from modular_nn.export.builder import OnnxBuilder
from modular_nn.registry import get_registry

#: Activations of ours that ONNX's recurrent operators (``RNN``, ``LSTM``, ``GRU``) run
#: as an ``activations`` entry, and the attribute of ours they take as their alpha.
ONNX_RECURRENT_ACTIVATIONS: dict[str, tuple[str, str | None]] = {
    "tanh": ("Tanh", None),
    "sigmoid": ("Sigmoid", None),
    "relu": ("Relu", None),
    "softplus": ("Softplus", None),
    "leaky_relu": ("LeakyRelu", "negative_slope"),
    "elu": ("Elu", "alpha"),
}


class RecurrentConfig(ComponentConfig):
    """Options of every recurrent layer (Keras's names and defaults).

    Args:
        units: size of the state and of the output, a positive integer.
        activation: the state's activation (default ``tanh``).
        return_sequences: output every step, ``(batch, time, units)``, instead of
            the last, ``(batch, units)`` (default false).
        go_backwards: read the sequence (and its mask) in reverse; the output
            sequence stays reversed, as in Keras (default false).
        use_bias: add ``bias`` (default true).
        kernel_initializer: default ``glorot_uniform``.
        recurrent_initializer: default ``orthogonal``.
        bias_initializer: default ``zeros``.
    """

    units: int = Field(..., gt=0, description="size of the state (and of the output)")
    activation: ActivationRef = Field("tanh", description="activation of the state")
    return_sequences: bool = Field(
        False, description="output every step (batch, time, units), not the last (batch, units)"
    )
    go_backwards: bool = Field(
        False, description="read the sequence in reverse (the output sequence stays reversed)"
    )
    use_bias: bool = True
    kernel_initializer: InitializerRef = "glorot_uniform"
    recurrent_initializer: InitializerRef = "orthogonal"
    bias_initializer: InitializerRef = "zeros"


class GatedRecurrentConfig(RecurrentConfig):
    """Options of the gated layers (``lstm``, ``gru``)."""

    recurrent_activation: ActivationRef = Field("sigmoid", description="activation of the gates")


class StepActivation:
    """An activation applied at every time step, in place, with its derivative later.

    ``tanh``, ``sigmoid`` and the identity take their derivative from the kept
    output (1 - y^2, y (1 - y), 1). Any other activation keeps one instance per
    ``key`` (a step and a use within it), whose ``forward`` keeps what its
    ``backward`` needs for that step.
    """

    def __init__(self, ref: Any) -> None:
        self.activation = get_registry().create("activations", ref)
        kind = type(self.activation)
        self.kind = (
            "identity"
            if self.activation.is_identity
            else {Tanh: "tanh", Sigmoid: "sigmoid"}.get(kind, "generic")
        )
        self.ref = ref
        self.per_step: dict[Any, Any] = {}

    def forward(self, z: np.ndarray, key: Any) -> np.ndarray:
        """Overwrite ``z`` (a view the layer owns) with f(z) and return it."""
        if self.kind == "tanh":
            np.tanh(z, out=z)
        elif self.kind == "sigmoid":  # 1 / (1 + e^-z), as stable_sigmoid, in place
            np.negative(z, out=z)
            with np.errstate(over="ignore"):
                np.exp(z, out=z)
            z += 1
            np.reciprocal(z, out=z)
        elif self.kind == "generic":
            instance = self.per_step.get(key)
            if instance is None:
                instance = self.per_step[key] = get_registry().create("activations", self.ref)
            z[...] = instance.forward(z.copy())
        return z

    def backward(self, grad: np.ndarray, y: np.ndarray, key: Any) -> np.ndarray:
        """dL/dz = dL/dy * f'(z), for the step whose output was ``y``; may reuse ``grad``."""
        if self.kind == "tanh":  # tanh' = 1 - y^2
            return np.multiply(grad, 1 - y * y, out=grad)
        if self.kind == "sigmoid":  # sigmoid' = y (1 - y)
            return np.multiply(grad, y * (1 - y), out=grad)
        if self.kind == "identity":
            return grad
        return self.per_step[key].backward(grad)


class Recurrent(Layer):
    """Base of the recurrent layers: options, weights, the time loop, masks and BPTT.

    Shape: input ``(batch, time, in)``; output ``(batch, time, units)`` with
    ``return_sequences``, else ``(batch, units)``. A mask ``(batch, time)`` carries
    every state over padded steps.

    Subclasses set ``gates`` (G), ``state_names`` (``("h",)`` or ``("h", "c")``; the
    output is ``h``) and implement ``step`` and ``step_backward``; see the module
    docstring.
    """

    Config: ClassVar[type[ComponentConfig]] = RecurrentConfig
    supports_masking: ClassVar[bool] = True
    #: the ONNX export reads a mask reaching the layer (unrolling the time loop)
    onnx_reads_mask: ClassVar[bool] = True
    #: number of gate blocks in the kernels (G): 1 simple_rnn, 4 lstm, 3 gru
    gates: ClassVar[int] = 1
    #: the states carried from step to step; "h" is the output
    state_names: ClassVar[tuple[str, ...]] = ("h",)

    def __init__(self, config: ComponentConfig | None = None, **options: Any) -> None:
        super().__init__(config, **options)
        self.act = StepActivation(self.config.activation)

    # ----- shapes ----------------------------------------------------------------------
    def compute_output_shape(self, input_shape: Shape) -> Shape:
        self.check_rank(input_shape, 2, "sequences (time, features)")
        units = self.config.units
        return (input_shape[0], units) if self.config.return_sequences else (units,)

    def param_shapes(self, input_shape: Shape) -> dict[str, Shape]:
        width = self.gates * self.config.units
        shapes = {
            "kernel": (input_shape[-1], width),
            "recurrent_kernel": (self.config.units, width),
        }
        if self.config.use_bias:
            shapes["bias"] = self.bias_shape()
        return shapes

    def bias_shape(self) -> Shape:
        """The shape of ``bias``: (G*units,); the GRU's is (2, 3*units)."""
        return (self.gates * self.config.units,)

    # ----- masks -----------------------------------------------------------------------
    def produces_mask(self, input_shape: Any, input_masked: Any) -> bool:
        """A sequence output keeps the input's mask; the last state has no time axis."""
        return bool(self.config.return_sequences) and super().produces_mask(
            input_shape, input_masked
        )

    def compute_mask(self, x: Any, input_mask: Any) -> np.ndarray | None:
        if not self.config.return_sequences or input_mask is None:
            return None
        return input_mask[:, ::-1] if self.config.go_backwards else input_mask

    # ----- building --------------------------------------------------------------------
    def build(self, input_shape: Shape, rng: np.random.Generator, dtype: Any) -> Shape:
        output_shape = super().build(input_shape, rng, dtype)
        registry = get_registry()
        options = {"kernel": "kernel", "recurrent_kernel": "recurrent", "bias": "bias"}
        for name, shape in self.param_shapes(self.input_shape).items():  # type: ignore[arg-type]
            option = f"{options[name]}_initializer"
            init = registry.create("initializers", getattr(self.config, option))
            self.add_param(name, self.initial_value(name, init(shape, rng, self.dtype)))
        return output_shape

    def initial_value(self, name: str, value: np.ndarray) -> np.ndarray:
        """A drawn parameter, adjusted by the cell if needed (the LSTM's forget bias)."""
        return value

    def input_bias(self) -> np.ndarray | None:
        """The bias added to the input projections (the GRU's is row 0 of ``bias``)."""
        return self.params["bias"] if self.config.use_bias else None

    # ----- the cell (subclasses) -----------------------------------------------------------
    def step(self, t: int, z: np.ndarray) -> None:
        """Step ``t``: ``z`` holds x_t @ kernel (+ input bias); compute the states at
        index ``t + 1`` of ``self.states`` from those at ``t``, in place (``z`` may be
        overwritten with the gates backward needs)."""
        raise NotImplementedError

    def step_backward(
        self, t: int, d_states: dict[str, np.ndarray], dzx: np.ndarray, dzh: np.ndarray
    ) -> dict[str, np.ndarray]:
        """Given dL/d(states at t + 1) (which it may overwrite), write dL/d(input
        pre-activation) into ``dzx`` and dL/d(recurrent pre-activation) into ``dzh``
        (the same array unless ``separate_recurrent_grad``); return dL/d(states at t)."""
        raise NotImplementedError

    #: the recurrent pre-activation's gradient differs from the input's (GRU, reset_after)
    separate_recurrent_grad: ClassVar[bool] = False

    # ----- forward ---------------------------------------------------------------------
    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        batch, time, features = x.shape
        units = self.config.units
        width = self.gates * units
        # time-major copy, reversed for go_backwards: xs[t] is the t-th step read
        x_steps = x[:, ::-1] if self.config.go_backwards else x
        xs = np.ascontiguousarray(x_steps.transpose(1, 0, 2), dtype=self.dtype)
        mask = self.input_mask
        if mask is not None:
            mask = np.asarray(mask, dtype=bool)
            mask = np.ascontiguousarray((mask[:, ::-1] if self.config.go_backwards else mask).T)
        # one GEMM: the input projections of every step, (time*batch, in) @ kernel
        z = (xs.reshape(time * batch, features) @ self.params["kernel"]).reshape(time, batch, width)
        bias = self.input_bias()
        if bias is not None:
            z += bias
        self.states = {
            name: np.zeros((time + 1, batch, units), self.dtype) for name in self.state_names
        }
        self.rec = np.empty((batch, width), self.dtype)  # h_{t-1} @ recurrent_kernel
        for t in range(time):
            self.step(t, z[t])
            if mask is not None and not mask[t].all():
                padded = ~mask[t][:, None]  # padded step: the states carry over
                for states in self.states.values():
                    np.copyto(states[t + 1], states[t], where=padded)
        self.xs, self.z, self.mask = xs, z, mask
        h = self.states["h"]
        if self.config.return_sequences:
            return np.ascontiguousarray(h[1:].transpose(1, 0, 2))
        return h[time].copy()

    # ----- backward (BPTT) ---------------------------------------------------------------
    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        time, batch, features = self.xs.shape
        units = self.config.units
        width = self.gates * units
        grad_out = np.asarray(grad_out, dtype=self.dtype)
        d_states = {name: np.zeros((batch, units), self.dtype) for name in self.state_names}
        if self.config.return_sequences:
            grad_steps = grad_out.transpose(1, 0, 2)  # (time, batch, units)
        else:
            d_states["h"] += grad_out
        dzx = np.empty_like(self.z)
        dzh = np.empty_like(self.z) if self.separate_recurrent_grad else dzx
        real = None if self.mask is None else self.mask.astype(self.dtype)[:, :, None]
        for t in range(time - 1, -1, -1):
            if self.config.return_sequences:
                d_states["h"] += grad_steps[t]
            padded = self.mask is not None and not self.mask[t].all()
            if padded:
                # a padded step passes dL/d(state) to the step before; the cell gets none
                carried = {k: g * (1 - real[t]) for k, g in d_states.items()}
                for g in d_states.values():
                    g *= real[t]
            d_states = self.step_backward(t, d_states, dzx[t], dzh[t])
            if padded:
                for k, g in carried.items():
                    d_states[k] += g
        # parameters: one GEMM each over all steps
        flat_x = self.xs.reshape(time * batch, features)
        flat_dzx = dzx.reshape(time * batch, width)
        flat_dzh = dzh.reshape(time * batch, width)
        h_prev = self.states["h"][:time].reshape(time * batch, units)
        np.matmul(flat_x.T, flat_dzx, out=self.grads["kernel"])
        np.matmul(h_prev.T, flat_dzh, out=self.grads["recurrent_kernel"])
        if self.config.use_bias:
            self.bias_gradient(flat_dzx, flat_dzh)
        if not self.needs_input_grad:
            return None  # type: ignore[return-value]  # nothing upstream is trainable
        dx = flat_dzx @ self.params["kernel"].T
        dx = dx.reshape(time, batch, features).transpose(1, 0, 2)
        if self.config.go_backwards:
            dx = dx[:, ::-1]
        return np.ascontiguousarray(dx)

    def bias_gradient(self, dzx: np.ndarray, dzh: np.ndarray) -> None:
        """Fill dL/d(bias) from the flat pre-activation gradients (the GRU has two rows)."""
        np.sum(dzx, axis=0, out=self.grads["bias"])

    def recurrent_product(self, t: int) -> np.ndarray:
        """h_{t-1} @ recurrent_kernel, into a buffer reused at every step."""
        return np.matmul(self.states["h"][t], self.params["recurrent_kernel"], out=self.rec)

    # ----- ONNX export ---------------------------------------------------------------------
    #: ONNX's operator for the cell
    onnx_op: ClassVar[str] = "RNN"
    #: our gate blocks in ONNX's order (LSTM: ONNX i, o, f, c from our i, f, c, o)
    onnx_gate_order: ClassVar[tuple[int, ...]] = (0,)

    def onnx_activations(self) -> list[Any]:
        """The cell's activations in the order of the ONNX operator's ``activations``."""
        return [self.act.activation]

    def onnx_bias(self, builder: OnnxBuilder) -> str:
        """ONNX's ``B`` (1, 2*G*units): our bias in ONNX's gate order, then the recurrent
        bias, which is 0 here (the GRU has one of its own)."""
        bias = self.onnx_gate_blocks(builder, builder.weight(self, "bias"), axis=0)
        zeros = builder.constant(np.zeros(self.gates * self.config.units), "zero_bias")
        return builder.unsqueeze(builder.node("Concat", [bias, zeros], "B", axis=0), [0])

    def onnx_gate_blocks(self, builder: OnnxBuilder, array: str, axis: int) -> str:
        """``array`` with its G gate blocks along ``axis`` put in ONNX's order."""
        order = self.onnx_gate_order
        if list(order) == sorted(order):
            return array
        blocks = builder.node("Split", [array], "gates", outputs=self.gates, axis=axis)
        return builder.node("Concat", [blocks[k] for k in order], "onnx_gates", axis=axis)

    def onnx_activation_attributes(self) -> dict[str, Any]:
        """``activations`` (and ``activation_alpha``) of the ONNX operator; an activation
        the operator cannot run is an ``ExportError`` naming it."""
        names: list[str] = []
        alphas: list[float] = []
        for activation in self.onnx_activations():
            entry = ONNX_RECURRENT_ACTIVATIONS.get(activation.type_name)
            if entry is None:
                raise ExportError(
                    f"{self.type_name} exports as ONNX's {self.onnx_op} operator, which runs the "
                    f"activations {sorted(ONNX_RECURRENT_ACTIVATIONS)}; received activation "
                    f"{activation.type_name!r}"
                )
            op, alpha = entry
            names.append(op)
            if alpha is not None:
                alphas.append(float(getattr(activation.config, alpha)))
        attributes: dict[str, Any] = {"activations": names}
        if alphas:
            attributes["activation_alpha"] = alphas
        return attributes

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        # ONNX's operator on the time-major sequence (reversed for go_backwards), weights
        # transposed to (1, G*units, in) and (1, G*units, units) in ONNX's gate order;
        # with a mask, the time loop unrolled (ONNX's operators cannot carry states over)
        if builder.input_mask is not None:
            return self.export_onnx_unrolled(builder, inputs[0], builder.input_mask)
        attributes = self.onnx_activation_attributes()
        x = inputs[0]
        if self.config.go_backwards:  # read in reverse: the outputs stay reversed, as forward
            x = builder.reverse(x, axis=1)
        x = builder.node("Transpose", [x], "time_major", perm=[1, 0, 2])

        def onnx_layout(key: str) -> str:  # (n, G*units) -> (1, G*units, n), ONNX's order
            transposed = builder.node("Transpose", [builder.weight(self, key)], perm=[1, 0])
            return builder.unsqueeze(self.onnx_gate_blocks(builder, transposed, axis=0), [0])

        w, r = onnx_layout("kernel"), onnx_layout("recurrent_kernel")
        b = self.onnx_bias(builder) if self.config.use_bias else ""
        y, y_h = builder.node(
            self.onnx_op,
            [x, w, r, b],
            outputs=2,
            hidden_size=self.config.units,
            **attributes,
            **self.onnx_attributes(),
        )
        if not self.config.return_sequences:
            return builder.squeeze(y_h, [0])  # (1, batch, units) -> (batch, units)
        # (time, 1, batch, units) -> (batch, time, units)
        return builder.node("Transpose", [builder.squeeze(y, [1])], "batch_major", perm=[1, 0, 2])

    def onnx_attributes(self) -> dict[str, Any]:
        """Further attributes of the ONNX operator (the GRU's ``linear_before_reset``)."""
        return {}

    # ----- ONNX export with a mask: the time loop unrolled ------------------------------
    def export_onnx_mask(self, builder: OnnxBuilder, inputs: list[str], input_mask: Any) -> Any:
        """The output's mask, as ``compute_mask``: the input's (reversed for
        ``go_backwards``) with ``return_sequences``, else none."""
        if not self.config.return_sequences or input_mask is None:
            return None
        return builder.reverse(input_mask, axis=1) if self.config.go_backwards else input_mask

    def onnx_input_bias(self, builder: OnnxBuilder) -> str | None:
        """The bias added to the input projections (``input_bias``), or None."""
        return builder.weight(self, "bias") if self.config.use_bias else None

    def onnx_cell(
        self, builder: OnnxBuilder, z: str, states: dict[str, str], recurrent_kernel: str
    ) -> dict[str, str]:
        """One step of the cell as ONNX operators: ``z`` (batch, G*units) is x_t @ kernel
        (+ input bias), ``states`` the states at t - 1; returns the states at t."""
        raise NotImplementedError

    def export_onnx_unrolled(self, builder: OnnxBuilder, x: str, mask: str) -> str:
        """``forward`` with a mask: the input projections of every step in one ``MatMul``,
        then, step by step, the cell (``onnx_cell``) and every state kept where the step is
        padded (``Where`` on the boolean mask), so the output at a padded step is the
        previous output. The time length is the layer's static input shape."""
        time = self.input_shape[0] if self.input_shape else None  # type: ignore[index]
        if not isinstance(time, int):
            raise ExportError(
                f"a mask reaching {self.type_name} unrolls its time loop, which needs a fixed "
                f"time length; the input shape is {self.input_shape}"
            )
        if self.config.go_backwards:  # the sequence and its mask read in reverse
            x, mask = builder.reverse(x, axis=1), builder.reverse(mask, axis=1)
        z = builder.node("MatMul", [x, builder.weight(self, "kernel")], "input_projection")
        bias = self.onnx_input_bias(builder)
        if bias is not None:
            z = builder.node("Add", [z, bias], "input_projection")
        real = builder.unsqueeze(mask, [2])  # (batch, time, 1), True where a step is real
        units = self.config.units
        batch = builder.node("Shape", [x], "batch", start=0, end=1)
        state_shape = builder.node(
            "Concat", [batch, builder.int64s([units], "units")], "state_shape", axis=0
        )
        zero = builder.constant(np.zeros((1, units)), "zero_state")
        initial = builder.node("Expand", [zero, state_shape], "initial_state")
        states = {name: initial for name in self.state_names}
        recurrent_kernel = builder.weight(self, "recurrent_kernel")
        outputs = []
        for t in range(time):
            index = builder.constant(t, "step", dtype=np.int64)  # a scalar: Gather drops the axis
            z_t = builder.node("Gather", [z, index], f"z_{t}", axis=1)
            new = self.onnx_cell(builder, z_t, states, recurrent_kernel)
            real_t = builder.node("Gather", [real, index], f"real_{t}", axis=1)  # (batch, 1)
            states = {
                name: builder.node("Where", [real_t, new[name], states[name]], f"{name}_{t}")
                for name in self.state_names
            }
            outputs.append(states["h"])
        if not self.config.return_sequences:
            return states["h"]
        steps = [builder.unsqueeze(h, [1]) for h in outputs]
        return builder.node("Concat", steps, "sequence", axis=1)  # reversed for go_backwards
