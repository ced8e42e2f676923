"""``OnnxBuilder``: what a component's ``export_onnx`` writes its ONNX nodes with.

Every exportable layer and activation implements::

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        '''Emit the nodes of forward in inference mode; return the output's value name.'''

``inputs`` are the names of the values the component reads (one for a single-input
layer or an activation, one per input in order for a layer that takes several).
The builder hides protobuf: ``node`` adds an operator and returns its output's
name, ``weight`` the initializer holding one of the layer's parameters or buffers
(shared layers: the same initializer for every use), ``constant`` a small array in
the model's dtype, ``activation`` exports an activation (nothing for the identity).
Nodes and values are named after the layer being exported (``dense_1/MatMul``).

Masks (an embedding's ``mask_zero``): before a layer's ``export_onnx`` the walk sets
``builder.input_mask``, as the model sets ``layer.input_mask`` before ``forward``: the
name of the boolean ``(batch, time)`` value of its input's mask (True where a step is
real), a list of such names (None for an unmasked input) for a layer taking several
inputs, or None when no mask reaches the layer. A layer whose output's mask is not its
input's (``compute_mask`` overridden) also implements ``export_onnx_mask(builder,
inputs, input_mask) -> str | None``, the output mask's value name.

Images are NHWC here and NCHW for ONNX's ``Conv`` and pooling operators:
``to_nchw``/``to_nhwc`` transpose around them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from modular_nn.errors import ExportError

if TYPE_CHECKING:
    from modular_nn.components.activation import Activation
    from modular_nn.components.layer import Layer
    from modular_nn.layers.windows import WindowGeometry

#: The ONNX opset every exported file imports (ONNX 1.12 and later, onnxruntime 1.12 and
#: later read it); ``LayerNormalization`` is an operator from opset 17 on.
OPSET = 17
#: The IR version written: the one of ONNX 1.12, which introduced opset 17.
IR_VERSION = 8

#: Operators onnxruntime's CPU provider has no float64 kernel for (onnxruntime 1.32): a
#: float64 model using one is refused rather than written unrunnable or downcast.
NO_FLOAT64_KERNEL = frozenset(
    {"AveragePool", "Conv", "ConvTranspose", "Elu", "Erf", "GlobalAveragePool", "GRU", "LSTM",
     "RNN", "Softplus"}
)  # fmt: skip


class OnnxExportable(Protocol):
    """What a layer or activation implements to be exported to ONNX."""

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str: ...


def exports_onnx(component: Any) -> bool:
    """Whether a component (or its class) has an ONNX export for its own ``forward``: an
    ``export_onnx`` defined in the class that defines ``forward`` or below it. A subclass
    with a forward of its own does not inherit its parent's export (conv1d's is not
    conv2d's), so it fails cleanly instead of exporting the parent's computation."""
    cls = component if isinstance(component, type) else type(component)
    if not callable(getattr(cls, "export_onnx", None)):
        return False

    def definer(name: str) -> type:
        return next((k for k in cls.__mro__ if name in vars(k)), object)

    return issubclass(definer("export_onnx"), definer("forward"))


class OnnxBuilder:
    """Collects the nodes and initializers of one ONNX graph.

    Attributes:
        dtype: the model's floating dtype (float32 or float64); parameters, constants
            and float values are of this type.
        elem_type: the same as an ONNX ``TensorProto`` element type (for ``Cast``).
        opset: the ONNX opset of the file (``OPSET``).
        scope: the name of the layer being exported; prefixes node and value names.
        input_mask: the boolean mask value(s) of the layer being exported, or None (see
            the module docstring).
    """

    def __init__(self, dtype: Any, opset: int = OPSET) -> None:
        from onnx import helper

        self._helper = helper
        self.dtype = np.dtype(dtype)
        self.elem_type: int = helper.np_dtype_to_tensor_dtype(self.dtype)
        self.opset = opset
        self.scope = ""
        self.input_mask: Any = None
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._names: set[str] = set()
        self._weights: dict[int, str] = {}
        self._constants: dict[tuple[str, tuple[int, ...], bytes], str] = {}

    # ----- names --------------------------------------------------------------------
    def unique(self, name: str) -> str:
        """``name`` if no value, node or initializer has it yet, else ``name_1``,
        ``name_2``...; the name returned is taken."""
        candidate, n = name, 0
        while candidate in self._names:
            n += 1
            candidate = f"{name}_{n}"
        self._names.add(candidate)
        return candidate

    def _scoped(self, hint: str) -> str:
        return self.unique(f"{self.scope}/{hint}" if self.scope else hint)

    @contextmanager
    def scoped(self, name: str) -> Iterator[None]:
        """Name what is added inside after ``name`` (the walk sets it per layer)."""
        outer, self.scope = self.scope, name
        try:
            yield
        finally:
            self.scope = outer

    # ----- initializers ---------------------------------------------------------------
    def initializer(self, array: Any, name_hint: str) -> str:
        """A constant tensor holding ``array`` as it is (its own dtype); its name."""
        from onnx import numpy_helper

        name = self.unique(name_hint)
        # np.array, not np.ascontiguousarray, which makes a scalar (0-d) one of shape (1,)
        self.initializers.append(numpy_helper.from_array(np.array(array, order="C"), name))
        return name

    def weight(self, layer: Layer, key: str) -> str:
        """The initializer of ``layer.params[key]`` (or ``layer.buffers[key]``), named
        ``layer/key`` as in ``get_weights()``. A layer applied at several places (its
        uses hold the very same arrays) gets one initializer for all of them."""
        array = layer.params.get(key)
        if array is None:
            array = layer.buffers.get(key)
        if array is None:
            known = sorted({*layer.params, *layer.buffers})
            raise ExportError(f"layer {layer.name!r} has no weight {key!r}; it has {known}")
        if id(array) not in self._weights:
            self._weights[id(array)] = self.initializer(array, f"{layer.name}/{key}")
        return self._weights[id(array)]

    def constant(self, value: Any, name_hint: str = "const", dtype: Any = None) -> str:
        """A constant of ``value`` in the model's dtype (or ``dtype``); equal constants
        are stored once."""
        array = np.asarray(value, dtype=self.dtype if dtype is None else dtype)
        key = (array.dtype.str, array.shape, array.tobytes())
        if key not in self._constants:
            self._constants[key] = self.initializer(array, self._scoped(name_hint))
        return self._constants[key]

    def int64s(self, values: Sequence[int], name_hint: str = "shape") -> str:
        """A constant 1-D int64 tensor (shapes, axes)."""
        return self.constant(list(values), name_hint, dtype=np.int64)

    # ----- nodes ---------------------------------------------------------------------
    def node(
        self,
        op_type: str,
        inputs: Sequence[str],
        name_hint: str | None = None,
        *,
        outputs: int = 1,
        domain: str = "",
        **attributes: Any,
    ) -> Any:
        """Add the operator ``op_type`` of the default ONNX domain (or ``domain``) on
        ``inputs`` (value names; ``""`` for an omitted optional input) with
        ``attributes``; returns its output's name, or a list of ``outputs`` names."""
        if self.dtype == np.float64 and op_type in NO_FLOAT64_KERNEL and not domain:
            raise ExportError(
                f"ONNX {op_type} has no float64 kernel in onnxruntime, so a float64 model "
                "using it cannot be served; build the model in float32 and copy the "
                "weights (docs/export.md, 'float64 models'); nothing is downcast silently"
            )
        names = [self._scoped(name_hint or op_type) for _ in range(outputs)]
        self.nodes.append(
            self._helper.make_node(
                op_type, list(inputs), names, name=names[0], domain=domain or None, **attributes
            )
        )
        return names[0] if outputs == 1 else names

    def activation(self, activation: Activation, x: str) -> str:
        """``activation`` applied to ``x`` (``x`` itself for the identity)."""
        if activation.is_identity:
            return x
        if not exports_onnx(activation):
            raise ExportError(f"activation {activation.type_name!r} has no export_onnx method")
        with self.scoped(f"{self.scope}/{activation.type_name}" if self.scope else ""):
            return activation.export_onnx(self, [x])  # type: ignore[attr-defined]

    # ----- helpers for common shapes of computation ------------------------------------
    def cast(self, x: str, dtype: Any) -> str:
        """``x`` cast to the NumPy ``dtype`` (``np.int64`` for ids, ``builder.dtype``...)."""
        return self.node(
            "Cast", [x], "cast", to=self._helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
        )

    def linear(self, x: str, kernel: str, bias: str | None = None) -> str:
        """``x @ kernel (+ bias)`` on the last axis of ``x`` (kernel ``(in, out)``)."""
        z = self.node("MatMul", [x, kernel])
        return self.node("Add", [z, bias]) if bias is not None else z

    def mask_and(self, masks: Sequence[str | None]) -> str | None:
        """The logical AND of the boolean masks given (None entries skipped; None if none),
        as ``Layer.compute_mask`` combines the masks of several inputs."""
        present = [m for m in masks if m is not None]
        if not present:
            return None
        combined = present[0]
        for other in present[1:]:
            combined = self.node("And", [combined, other], "mask")
        return combined

    def to_nchw(self, x: str) -> str:
        """NHWC ``x`` transposed to NCHW (for ``Conv``, ``MaxPool``, ``AveragePool``)."""
        return self.node("Transpose", [x], "to_nchw", perm=[0, 3, 1, 2])

    def to_nhwc(self, x: str) -> str:
        """NCHW ``x`` transposed back to NHWC."""
        return self.node("Transpose", [x], "to_nhwc", perm=[0, 2, 3, 1])

    def window_attributes(self, window: WindowGeometry) -> dict[str, list[int]]:
        """``kernel_shape``, ``strides`` and ``pads`` of ONNX's windowed operators for a
        2-D ``WindowGeometry`` (pads as ONNX orders them: top, left, bottom, right)."""
        (top, bottom), (left, right) = window.pads
        return {
            "kernel_shape": list(window.kernel),
            "strides": list(window.strides),
            "pads": [top, left, bottom, right],
        }

    def unsqueeze(self, x: str, axes: Sequence[int]) -> str:
        """``x`` with axes of size 1 inserted at ``axes`` (a ``(batch, time, f)`` sequence
        as the ``(batch, 1, time, f)`` image the 1-D layers compute on)."""
        return self.node("Unsqueeze", [x, self.int64s(axes, "axes")])

    def squeeze(self, x: str, axes: Sequence[int]) -> str:
        """``x`` without its size-1 ``axes``."""
        return self.node("Squeeze", [x, self.int64s(axes, "axes")])

    def reverse(self, x: str, axis: int) -> str:
        """``x`` read backwards along ``axis`` (``x[:, ::-1]`` for ``axis=1``)."""
        ends = self.int64s([-(2**63)], "ends")  # past the first element, walking back
        steps = [self.int64s([-1], "starts"), ends, self.int64s([axis], "axes")]
        return self.node("Slice", [x, *steps, self.int64s([-1], "steps")], "reverse")

    def conv2d(self, x: str, kernel: str, bias: str | None, window: WindowGeometry) -> str:
        """ONNX ``Conv`` over NHWC ``x`` with an ``(kh, kw, in, filters)`` kernel (the
        layout here), as a ``WindowGeometry`` places it; NHWC out."""
        oihw = self.node("Transpose", [kernel], "kernel_oihw", perm=[3, 2, 0, 1])
        given = [self.to_nchw(x), oihw] + ([bias] if bias is not None else [])
        attributes = self.window_attributes(window)
        y = self.node("Conv", given, **attributes, dilations=list(window.dilation))
        return self.to_nhwc(y)

    def pool2d(self, op_type: str, x: str, window: WindowGeometry, **attributes: Any) -> str:
        """An ONNX pooling operator (``MaxPool``, ``AveragePool``) over NHWC ``x``."""
        y = self.node(op_type, [self.to_nchw(x)], **self.window_attributes(window), **attributes)
        return self.to_nhwc(y)


__all__ = [
    "IR_VERSION",
    "NO_FLOAT64_KERNEL",
    "OPSET",
    "OnnxBuilder",
    "OnnxExportable",
    "exports_onnx",
]
