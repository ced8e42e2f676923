"""Bidirectional wrapper: a recurrent layer run forwards and backwards, outputs merged."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

import numpy as np
from pydantic import Field, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic_core import PydanticCustomError, core_schema

from modular_nn.components.component import ComponentConfig
from modular_nn.components.layer import Layer, Shape
from modular_nn.components.refs import ComponentRef, normalize_ref
from modular_nn.export.builder import OnnxBuilder
from modular_nn.layers.recurrent import Recurrent
from modular_nn.registry import get_registry


def recurrent_layer_names() -> list[str]:
    """Names of the registered recurrent layers (subclasses of ``Recurrent``)."""
    return [info.name for info in get_registry().components("layers") if _is_recurrent(info.cls)]


def _is_recurrent(cls: Any) -> bool:
    return isinstance(cls, type) and issubclass(cls, Recurrent)


class RecurrentLayerRef(ComponentRef):
    """Pydantic annotation for a recurrent layer entry, ``{"type": "lstm", "units": 8}``:
    its options are validated with that layer's ``Config`` and written out in full."""

    def __init__(self) -> None:
        super().__init__("layers")

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        def validate(value: Any) -> dict[str, Any]:
            entry = normalize_ref("layers", value)
            if not _is_recurrent(get_registry().get("layers", entry["type"]).cls):
                raise PydanticCustomError(
                    "recurrent_layer",
                    "expected a recurrent layer: one of {names}",
                    {"names": ", ".join(recurrent_layer_names()), "name": entry["type"]},
                )
            return entry

        return core_schema.no_info_plain_validator_function(
            validate, serialization=core_schema.plain_serializer_function_ser_schema(lambda v: v)
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {"type": {"type": "string", "enum": recurrent_layer_names()}},
            "required": ["type"],
            "description": 'a recurrent layer entry: {"type": name, ...its options}',
        }


class Bidirectional(Layer):
    """Runs a recurrent layer over the sequence forwards and a copy of it backwards
    (``go_backwards`` flipped), and merges their outputs (Schuster & Paliwal, 1997),
    as Keras's ``Bidirectional`` and PyTorch's ``bidirectional=True``.

    With ``return_sequences`` the backward copy's outputs are put back in time
    order before merging, so step t of the output sees the whole sequence.

    Args:
        layer: the recurrent layer entry, e.g. ``{"type": "lstm", "units": 8}``.
        merge_mode: ``concat`` (default), ``sum``, ``ave`` or ``mul``.

    Shape:
        input ``(batch, time, in)``; output ``(batch, [time,] units)``, ``2*units``
        for ``concat``. Weights: the layer's, named ``forward/<name>`` and
        ``backward/<name>`` (``forward/kernel``, ``backward/recurrent_kernel``, ...).
        A mask ``(batch, time)`` goes to both copies.
    """

    type_name = "bidirectional"

    class Config(ComponentConfig):
        layer: Annotated[Any, RecurrentLayerRef()] = Field(
            ..., description="the recurrent layer to run both ways"
        )
        merge_mode: Literal["concat", "sum", "ave", "mul"] = Field(
            "concat", description="how the two outputs are combined"
        )

    supports_masking: ClassVar[bool] = True
    #: the ONNX export reads a mask reaching the layer (each copy unrolls its time loop)
    onnx_reads_mask: ClassVar[bool] = True

    def __init__(self, config: ComponentConfig | None = None, **options: Any) -> None:
        super().__init__(config, **options)
        entry = dict(self.config.layer)
        cls = get_registry().get("layers", entry.pop("type")).cls
        reverse = {**entry, "go_backwards": not entry.get("go_backwards", False)}
        self.copies: dict[str, Recurrent] = {
            "forward": cls(**entry),
            "backward": cls(**reverse),
        }

    @property
    def return_sequences(self) -> bool:
        return bool(self.copies["forward"].config.return_sequences)

    # ----- shapes ----------------------------------------------------------------------
    def compute_output_shape(self, input_shape: Shape) -> Shape:
        shape = self.copies["forward"].compute_output_shape(input_shape)
        if self.config.merge_mode == "concat":
            return (*shape[:-1], 2 * shape[-1])
        return shape

    def param_shapes(self, input_shape: Shape) -> dict[str, Shape]:
        return {
            f"{direction}/{name}": shape
            for direction, copy in self.copies.items()
            for name, shape in copy.param_shapes(input_shape).items()
        }

    def produces_mask(self, input_shape: Any, input_masked: Any) -> bool:
        """A sequence output keeps the input's mask (in time order: the backward copy's
        outputs are reversed back); the last states have none."""
        return self.return_sequences and super().produces_mask(input_shape, input_masked)

    def compute_mask(self, x: Any, input_mask: Any) -> np.ndarray | None:
        return input_mask if self.return_sequences else None

    def export_onnx_mask(self, builder: OnnxBuilder, inputs: list[str], input_mask: Any) -> Any:
        # as compute_mask: the input's (in time order) with return_sequences, else none
        return input_mask if self.return_sequences else None

    # ----- building --------------------------------------------------------------------
    def build(self, input_shape: Shape, rng: np.random.Generator, dtype: Any) -> Shape:
        output_shape = super().build(input_shape, rng, dtype)
        for direction, copy in self.copies.items():  # forward's weights drawn first
            copy.build(self.input_shape, rng, dtype)  # type: ignore[arg-type]
            copy.name = f"{self.name}/{direction}" if self.name else direction
            for name in copy.params:  # the very same arrays: one set of weights
                self.params[f"{direction}/{name}"] = copy.params[name]
                self.grads[f"{direction}/{name}"] = copy.grads[name]
        return output_shape

    # ----- computation -------------------------------------------------------------------
    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        outputs = []
        for copy in self.copies.values():
            copy.input_mask = self.input_mask
            outputs.append(copy.forward(x, training))
        y_fwd, y_bwd = outputs
        if self.return_sequences:
            y_bwd = y_bwd[:, ::-1]  # back to time order
        self.y_fwd, self.y_bwd = y_fwd, y_bwd
        mode = self.config.merge_mode
        if mode == "concat":
            return np.concatenate([y_fwd, y_bwd], axis=-1)
        if mode == "sum":
            return y_fwd + y_bwd
        if mode == "ave":
            out = y_fwd + y_bwd
            out *= 0.5
            return out
        return y_fwd * y_bwd

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        # concat: split;  sum: g, g;  ave: g/2, g/2;  mul: g y_bwd, g y_fwd
        mode = self.config.merge_mode
        if mode == "concat":
            units = self.y_fwd.shape[-1]
            g_fwd, g_bwd = grad_out[..., :units], grad_out[..., units:]
        elif mode == "sum":
            g_fwd = g_bwd = grad_out
        elif mode == "ave":
            g_fwd = g_bwd = grad_out * 0.5
        else:
            g_fwd, g_bwd = grad_out * self.y_bwd, grad_out * self.y_fwd
        if self.return_sequences:
            g_bwd = g_bwd[:, ::-1]  # the backward copy's own (reversed) time order
        grads_in = []
        for copy, grad in zip(self.copies.values(), (g_fwd, g_bwd)):
            copy.needs_input_grad = self.needs_input_grad
            grads_in.append(copy.backward(np.ascontiguousarray(grad)))
        if not self.needs_input_grad:
            return None  # type: ignore[return-value]  # nothing upstream is trainable
        dx = grads_in[0]
        dx += grads_in[1]
        return dx

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        # each copy's own export (ONNX's RNN/LSTM/GRU, unrolled when a mask reaches it:
        # both copies read builder.input_mask), the backward copy's sequence put back in
        # time order, then the merge, as forward
        outputs = []
        for direction, copy in self.copies.items():
            with builder.scoped(f"{builder.scope}/{direction}"):
                outputs.append(copy.export_onnx(builder, inputs))  # type: ignore[attr-defined]
        y_fwd, y_bwd = outputs
        if self.return_sequences:
            y_bwd = builder.reverse(y_bwd, axis=1)
        mode = self.config.merge_mode
        if mode == "concat":
            return builder.node("Concat", [y_fwd, y_bwd], axis=-1)
        if mode == "mul":
            return builder.node("Mul", [y_fwd, y_bwd])
        total = builder.node("Add", [y_fwd, y_bwd])
        return total if mode == "sum" else builder.node("Mul", [total, builder.constant(0.5)])
