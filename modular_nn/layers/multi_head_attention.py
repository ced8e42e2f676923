"""Multi-head attention layer: softmax(Q K^T / sqrt(key_dim) + mask) V, over several heads."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from modular_nn.components.component import ComponentConfig
from modular_nn.components.layer import Layer, Shape
from modular_nn.components.refs import InitializerRef
from modular_nn.errors import ShapeError
from modular_nn.export.builder import OnnxBuilder
from modular_nn.layers.merge import Merge
from modular_nn.registry import get_registry

#: The input projections, each with a ``<role>_kernel`` and a ``<role>_bias``.
PROJECTIONS = ("query", "key", "value")


class MultiHeadAttention(Layer):
    """Multi-head scaled dot-product attention (Vaswani et al., 2017; Keras
    ``MultiHeadAttention``, PyTorch ``nn.MultiheadAttention``).

    For each head h (a contiguous slice of the projected feature axis, head 0
    first, as in PyTorch)::

        Q_h = query W_q[:, h] + b_q[h]     K_h = key W_k[:, h] + b_k[h]
        V_h = value W_v[:, h] + b_v[h]
        O_h = dropout(softmax(Q_h K_h^T / sqrt(key_dim) + M)) V_h
        y   = concat_h(O_h) W_o + b_o

    where M is 0 where query step i may attend to key step j and -inf elsewhere:
    padded key steps (the mask of the value input, and of the key input when
    given) and, with ``use_causal_mask``, every j > i. A query step whose keys are
    all masked attends to nothing: its weights are all 0 (as Keras 3; PyTorch gives
    NaN), so its output is ``output_bias``. Padded query steps are computed as any
    other (their output carries the query's mask, so the layers after ignore them).

    Inputs: self-attention takes one input (query = value = key); cross-attention
    takes ``inputs: [query, value]`` or ``[query, value, key]`` (key defaults to
    value). The layer always receives a list (``input_count`` is (1, 3)).

    Args:
        num_heads: number of heads, a positive integer.
        key_dim: size of each head for query and key.
        value_dim: size of each head for value (default ``key_dim``).
        dropout: dropout rate on the attention weights, in [0, 1), drawn from the
            model's generator, in training only (default 0).
        use_causal_mask: query step i attends to key steps j <= i only (default false).
        use_bias: add the projection biases (default true).
        kernel_initializer: default ``glorot_uniform`` (over each 2-D kernel).
        bias_initializer: default ``zeros``.

    Shape: query ``(batch, Tq, d_q)``, value ``(batch, Tv, d_v)``, key ``(batch, Tv,
    d_k)``; output ``(batch, Tq, d_q)``. Parameters ``query_kernel`` ``(d_q,
    heads*key_dim)``, ``key_kernel`` ``(d_k, heads*key_dim)``, ``value_kernel``
    ``(d_v, heads*value_dim)``, ``output_kernel`` ``(heads*value_dim, d_q)``, and with
    ``use_bias`` ``query_bias``, ``key_bias``, ``value_bias`` (their kernel's second
    size) and ``output_bias`` ``(d_q,)``. PyTorch's ``in_proj_weight`` is
    ``[query_kernel^T; key_kernel^T; value_kernel^T]`` and ``out_proj.weight`` is
    ``output_kernel^T``.

    Masking: supports masks; the output's mask is the query's.
    """

    type_name = "multi_head_attention"
    input_count: ClassVar[tuple[int, int | None]] = (1, 3)
    supports_masking: ClassVar[bool] = True
    #: the ONNX export reads a mask reaching the layer (the key steps' mask)
    onnx_reads_mask: ClassVar[bool] = True

    class Config(ComponentConfig):
        num_heads: int = Field(..., gt=0, description="number of attention heads")
        key_dim: int = Field(..., gt=0, description="size of each head for query and key")
        value_dim: int | None = Field(
            None, gt=0, description="size of each head for value (default key_dim)"
        )
        dropout: float = Field(0.0, ge=0, lt=1, description="dropout rate on attention weights")
        use_causal_mask: bool = Field(False, description="step i attends to steps j <= i only")
        use_bias: bool = True
        kernel_initializer: InitializerRef = "glorot_uniform"
        bias_initializer: InitializerRef = "zeros"

    # ----- shapes ------------------------------------------------------------------------
    @property
    def head_value_dim(self) -> int:
        value_dim = self.config.value_dim
        return self.config.key_dim if value_dim is None else value_dim

    def role_shapes(self, input_shape: Any) -> tuple[Shape, Shape, Shape]:
        """(query, value, key) shapes from the input shapes, checked (``ShapeError``)."""
        # the merges' check of a list of shapes and of its length against input_count
        shapes = Merge.input_shapes(self, input_shape)  # type: ignore[arg-type]
        for role, shape in zip(("query", "value", "key"), shapes):
            if len(shape) != 2:
                raise ShapeError(
                    f"{self.type_name} expects sequences (time, features) (per-sample rank 2) "
                    f"for its {role}, received input shape {shape}"
                )
        query = shapes[0]
        value = shapes[1] if len(shapes) > 1 else query
        key = shapes[2] if len(shapes) > 2 else value
        if key[0] != value[0]:
            raise ShapeError(
                f"{self.type_name} expects key and value of the same time length, received "
                f"value {value} and key {key}"
            )
        return query, value, key

    def compute_output_shape(self, input_shape: Any) -> Shape:
        query, _, _ = self.role_shapes(input_shape)
        return query

    def param_shapes(self, input_shape: Any) -> dict[str, Shape]:
        query, value, key = self.role_shapes(input_shape)
        heads, key_dim, value_dim = self.config.num_heads, self.config.key_dim, self.head_value_dim
        widths = {"query": heads * key_dim, "key": heads * key_dim, "value": heads * value_dim}
        features = {"query": query[-1], "key": key[-1], "value": value[-1]}
        shapes: dict[str, Shape] = {}
        for role in PROJECTIONS:
            shapes[f"{role}_kernel"] = (features[role], widths[role])
            if self.config.use_bias:
                shapes[f"{role}_bias"] = (widths[role],)
        shapes["output_kernel"] = (heads * value_dim, query[-1])
        if self.config.use_bias:
            shapes["output_bias"] = (query[-1],)
        return shapes

    # ----- masks -------------------------------------------------------------------------
    def produces_mask(self, input_shape: Any, input_masked: Any) -> bool:
        # the output has the query's time axis, so it carries the query's mask
        flags = input_masked if isinstance(input_masked, list) else [input_masked]
        return bool(flags[0])

    def compute_mask(self, x: Any, input_mask: Any) -> np.ndarray | None:
        return input_mask[0] if isinstance(input_mask, list) else input_mask

    def key_mask(self, count: int) -> np.ndarray | None:
        """The mask of the key steps (batch, Tv) from ``self.input_mask``: the value's,
        AND the key's when the key is its own input; None when neither has one."""
        masks = self.input_mask if isinstance(self.input_mask, list) else [self.input_mask]
        masks = (masks + [None] * count)[:count]
        chosen = masks[:1] if count == 1 else masks[1:]
        # the AND of those that are given, as the base class combines several masks
        return Layer.compute_mask(self, None, [m for m in chosen if m is not None])

    def export_onnx_mask(self, builder: OnnxBuilder, inputs: list[str], input_mask: Any) -> Any:
        # as compute_mask: the query's
        return input_mask[0] if isinstance(input_mask, list) else input_mask

    # ----- building ----------------------------------------------------------------------
    def build(self, input_shape: Any, rng: np.random.Generator, dtype: Any) -> Shape:
        output_shape = super().build(input_shape, rng, dtype)
        registry = get_registry()
        kernel_init = registry.create("initializers", self.config.kernel_initializer)
        bias_init = registry.create("initializers", self.config.bias_initializer)
        for name, shape in self.param_shapes(self.input_shape).items():
            init = kernel_init if name.endswith("_kernel") else bias_init
            self.add_param(name, init(shape, rng, self.dtype))
        return output_shape

    # ----- computation -------------------------------------------------------------------
    def project(self, x: np.ndarray, role: str, head_dim: int) -> np.ndarray:
        """x W + b, one GEMM over all steps, as heads: (batch, heads, time, head_dim)."""
        batch, steps, features = x.shape
        z = x.reshape(-1, features) @ self.params[f"{role}_kernel"]
        if self.config.use_bias:
            z += self.params[f"{role}_bias"]
        return z.reshape(batch, steps, self.config.num_heads, head_dim).transpose(0, 2, 1, 3)

    def allowed(self, count: int, query_steps: int, key_steps: int) -> np.ndarray | None:
        """Where query i may attend key j, broadcastable to (batch, heads, Tq, Tv); None: all."""
        allowed = None
        if self.config.use_causal_mask:
            allowed = np.tri(query_steps, key_steps, dtype=bool)  # j <= i
        keys = self.key_mask(count)
        if keys is not None:
            keys = np.asarray(keys, dtype=bool)[:, None, None, :]
            allowed = keys if allowed is None else keys & allowed
        return allowed

    def forward(self, xs: list[np.ndarray], training: bool = False) -> np.ndarray:
        count = len(xs)
        query = xs[0]
        value = xs[1] if count > 1 else query
        key = xs[2] if count > 2 else value
        self.count, self.xs = count, (query, key, value)
        key_dim, value_dim = self.config.key_dim, self.head_value_dim
        scale = np.asarray(1.0 / math.sqrt(key_dim), dtype=query.dtype)
        q = self.project(query, "query", key_dim)
        q *= scale  # scaling Q (Tq x key_dim) is cheaper than scaling the scores (Tq x Tv)
        k = self.project(key, "key", key_dim)
        v = self.project(value, "value", value_dim)

        # scores S = (Q / sqrt(d)) K^T, masked; P = softmax_j(S)
        scores = np.matmul(q, k.transpose(0, 1, 3, 2))
        allowed = self.allowed(count, q.shape[2], k.shape[2])
        if allowed is not None:
            np.copyto(scores, -np.inf, where=~allowed)
        peak = scores.max(axis=-1, keepdims=True)
        if allowed is not None:
            peak[~np.isfinite(peak)] = 0  # a row with every key masked: all -inf, weights 0
        scores -= peak
        np.exp(scores, out=scores)
        total = scores.sum(axis=-1, keepdims=True)
        if allowed is not None:
            total[total == 0] = 1
        scores /= total
        weights = scores

        self.keep = None
        rate = self.config.dropout
        if training and rate > 0:
            keep = self.rng.random(weights.shape, dtype=np.float32) >= rate  # type: ignore[union-attr]
            self.keep = keep * np.asarray(1.0 / (1.0 - rate), dtype=weights.dtype)
            dropped = weights * self.keep
        else:
            dropped = weights

        heads = np.matmul(dropped, v)  # (batch, heads, Tq, value_dim)
        batch, steps = query.shape[0], query.shape[1]
        concat = heads.transpose(0, 2, 1, 3).reshape(batch * steps, heads.shape[1] * value_dim)
        out = concat @ self.params["output_kernel"]
        if self.config.use_bias:
            out += self.params["output_bias"]
        self.q, self.k, self.v = q, k, v
        self.weights, self.dropped, self.concat = weights, dropped, concat
        return out.reshape(batch, steps, out.shape[-1])

    def backward(self, grad_out: np.ndarray) -> list[np.ndarray]:
        batch, steps, features = grad_out.shape
        heads_n = self.config.num_heads
        key_dim, value_dim = self.config.key_dim, self.head_value_dim
        # y = C W_o + b_o:  dW_o = C^T dy,  db_o = sum dy,  dC = dy W_o^T
        dy = grad_out.reshape(-1, features)
        np.matmul(self.concat.T, dy, out=self.grads["output_kernel"])
        if self.config.use_bias:
            np.sum(dy, axis=0, out=self.grads["output_bias"])
        d_heads = (dy @ self.params["output_kernel"].T).reshape(batch, steps, heads_n, value_dim)
        d_heads = d_heads.transpose(0, 2, 1, 3)
        # O = P' V:  dP' = dO V^T,  dV = P'^T dO;  P' = P * keep:  dP = dP' * keep
        d_weights = np.matmul(d_heads, self.v.transpose(0, 1, 3, 2))
        dv = np.matmul(self.dropped.transpose(0, 1, 3, 2), d_heads)
        if self.keep is not None:
            d_weights *= self.keep
        # P = softmax(S):  dS = P * (dP - sum_j dP * P)  (0 where masked, since P = 0 there)
        p = self.weights
        d_scores = d_weights
        d_scores -= np.sum(d_weights * p, axis=-1, keepdims=True)
        d_scores *= p
        # S = Q' K^T with Q' = Q / sqrt(d):  dQ' = dS K,  dK = dS^T Q',  dQ = dQ' / sqrt(d)
        dq = np.matmul(d_scores, self.k)
        dq *= np.asarray(1.0 / math.sqrt(key_dim), dtype=dq.dtype)
        dk = np.matmul(d_scores.transpose(0, 1, 3, 2), self.q)

        query, key, value = self.xs
        grad_query = self.project_backward(query, "query", dq)
        grad_key = self.project_backward(key, "key", dk)
        grad_value = self.project_backward(value, "value", dv)
        # an input playing several roles gets the sum of their gradients
        if self.count == 1:
            return [grad_query + grad_key + grad_value]
        if self.count == 2:
            return [grad_query, grad_value + grad_key]
        return [grad_query, grad_value, grad_key]

    def project_backward(self, x: np.ndarray, role: str, d_heads: np.ndarray) -> np.ndarray:
        # z = x W + b (heads split from z):  dW = x^T dz,  db = sum dz,  dx = dz W^T
        batch, steps, features = x.shape
        width = d_heads.shape[1] * d_heads.shape[3]
        dz = d_heads.transpose(0, 2, 1, 3).reshape(batch * steps, width)
        np.matmul(x.reshape(-1, features).T, dz, out=self.grads[f"{role}_kernel"])
        if self.config.use_bias:
            if role == "key":
                # b_k adds q_i . b_k to every score of row i: softmax ignores such a shift,
                # so dL/db_k = sum_ij dS_ij q_i = 0 exactly (rows of dS sum to 0)
                self.grads["key_bias"].fill(0)
            else:
                np.sum(dz, axis=0, out=self.grads[f"{role}_bias"])
        return (dz @ self.params[f"{role}_kernel"].T).reshape(batch, steps, features)

    def export_onnx(self, builder: OnnxBuilder, inputs: list[str]) -> str:
        # as forward: projections split into heads (contiguous slices), scores
        # (Q / sqrt(d)) K^T (+ 0 / -inf above the diagonal when causal), softmax, P V,
        # heads concatenated and projected; dropout is the identity in inference
        count = len(inputs)
        query = inputs[0]
        value = inputs[1] if count > 1 else query
        key = inputs[2] if count > 2 else value
        heads, key_dim, value_dim = self.config.num_heads, self.config.key_dim, self.head_value_dim

        def project(x: str, role: str, head_dim: int) -> str:  # (batch, heads, time, head_dim)
            bias = builder.weight(self, f"{role}_bias") if self.config.use_bias else None
            z = builder.linear(x, builder.weight(self, f"{role}_kernel"), bias)
            z = builder.node("Reshape", [z, builder.int64s([0, 0, heads, head_dim])], role)
            return builder.node("Transpose", [z], f"{role}_heads", perm=[0, 2, 1, 3])

        q = project(query, "query", key_dim)
        q = builder.node("Mul", [q, builder.constant(1.0 / math.sqrt(key_dim), "scale")])
        k = project(key, "key", key_dim)
        v = project(value, "value", value_dim)
        k_t = builder.node("Transpose", [k], "key_t", perm=[0, 1, 3, 2])
        scores = builder.node("MatMul", [q, k_t], "scores")
        masks = builder.input_mask if isinstance(builder.input_mask, list) else [builder.input_mask]
        masks = (list(masks) + [None] * count)[:count]
        keys = builder.mask_and(masks[:1] if count == 1 else masks[1:])  # as key_mask
        if keys is not None:
            # where key j may not be attended: the score is the lowest finite value and the
            # weight 0 (a row with every key masked gives weights 0, as forward)
            allowed = builder.unsqueeze(keys, [1, 2])  # (batch, 1, 1, Tv)
            if self.config.use_causal_mask:
                (query_steps, _), (key_steps, _) = self.role_shapes(self.input_shape)[::2]
                causal = np.tri(query_steps, key_steps, dtype=bool)  # j <= i
                causal_name = builder.constant(causal, "causal_mask", dtype=bool)
                allowed = builder.node("And", [allowed, causal_name], "allowed")
            lowest = builder.constant(np.finfo(builder.dtype).min, "masked_score")
            scores = builder.node("Where", [allowed, scores, lowest], "masked_scores")
            weights = builder.node("Softmax", [scores], "weights", axis=-1)
            zero = builder.constant(0.0, "zero")
            weights = builder.node("Where", [allowed, weights, zero], "weights")
        else:
            if self.config.use_causal_mask:
                (query_steps, _), (key_steps, _) = self.role_shapes(self.input_shape)[::2]
                allowed = np.tri(query_steps, key_steps, dtype=bool)  # j <= i
                causal = np.where(allowed, 0.0, -np.inf)
                scores = builder.node("Add", [scores, builder.constant(causal, "causal_mask")])
            weights = builder.node("Softmax", [scores], "weights", axis=-1)
        out = builder.node("MatMul", [weights, v], "heads")
        out = builder.node("Transpose", [out], "steps", perm=[0, 2, 1, 3])
        out = builder.node("Reshape", [out, builder.int64s([0, 0, heads * value_dim])], "concat")
        bias = builder.weight(self, "output_bias") if self.config.use_bias else None
        return builder.linear(out, builder.weight(self, "output_kernel"), bias)
