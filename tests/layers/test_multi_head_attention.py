"""Multi-head attention: shapes, float64 gradients of every input and parameter (self- and
cross-attention, causal, padded keys, dropout), masks, and PyTorch's nn.MultiheadAttention."""

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.errors import ShapeError
from modular_nn.layers.multi_head_attention import MultiHeadAttention
from modular_nn.testing import assert_gradients_close, check_layer_gradients
from modular_nn.testing.gradcheck import numerical_gradient

PARAMS = {
    "query_kernel",
    "query_bias",
    "key_kernel",
    "key_bias",
    "value_kernel",
    "value_bias",
    "output_kernel",
    "output_bias",
}


def checked(layer: MultiHeadAttention, shapes, **kwargs) -> dict:
    """Every gradient checked by the shared helper; ``key_bias`` apart: its gradient is 0
    exactly (softmax ignores a shift of a row's scores), which a relative check cannot
    confirm, so it must be 0 analytically and numerically (to rounding)."""
    kwargs.setdefault("eps", 1e-5)  # key gradients are small: less rounding in L(x +- eps)
    results = check_layer_gradients(layer, shapes, **kwargs)
    if "key_bias" in results:
        del results["key_bias"]
        assert not layer.grads["key_bias"].any()
        index = np.arange(layer.params["key_bias"].size)
        batch = kwargs.get("batch", 3)
        xs = [np.random.default_rng(7).standard_normal((batch, *s)) for s in shapes]
        weights = np.random.default_rng(8).standard_normal((batch, *layer.output_shape))

        def loss() -> float:
            layer.rng = np.random.default_rng(9)
            return float(np.sum(layer.forward(xs, kwargs.get("training", True)) * weights))

        numeric = numerical_gradient(loss, layer.params["key_bias"], index)
        assert np.max(np.abs(numeric)) < 1e-7
    assert_gradients_close(results)
    return results


def test_shapes_and_parameters() -> None:
    layer = MultiHeadAttention(num_heads=3, key_dim=4)
    assert layer.get_config()["value_dim"] is None
    assert layer.compute_output_shape([(5, 8)]) == (5, 8)
    assert layer.param_shapes([(5, 8)]) == {
        "query_kernel": (8, 12),
        "query_bias": (12,),
        "key_kernel": (8, 12),
        "key_bias": (12,),
        "value_kernel": (8, 12),
        "value_bias": (12,),
        "output_kernel": (12, 8),
        "output_bias": (8,),
    }
    cross = MultiHeadAttention(num_heads=2, key_dim=3, value_dim=5, use_bias=False)
    shapes = [(4, 6), (7, 2), (7, 9)]
    assert cross.compute_output_shape(shapes) == (4, 6)
    assert cross.param_shapes(shapes) == {
        "query_kernel": (6, 6),
        "key_kernel": (9, 6),
        "value_kernel": (2, 10),
        "output_kernel": (10, 6),
    }
    assert cross.build(shapes, np.random.default_rng(0), np.float32) == (4, 6)
    out = cross.forward([np.ones((2, *s), np.float32) for s in shapes])
    assert out.shape == (2, 4, 6) and out.dtype == np.float32


@pytest.mark.parametrize(
    ("shapes", "message"),
    [
        ([(5,)], r"sequences \(time, features\).*query, received input shape \(5,\)"),
        ([(5, 4), (3, 2, 2)], r"for its value, received input shape \(3, 2, 2\)"),
        ([(5, 4), (3, 2), (4, 2)], r"same time length, received value \(3, 2\) and key \(4, 2\)"),
        ([(5, 4)] * 4, "expects 1 to 3 inputs"),
    ],
)
def test_shape_errors(shapes, message) -> None:
    with pytest.raises(ShapeError, match=message):
        MultiHeadAttention(num_heads=2, key_dim=2).compute_output_shape(shapes)


def test_bad_options_are_spec_errors() -> None:
    spec = {
        "input_shape": [4, 6],
        "layers": [{"type": "multi_head_attention", "num_heads": 0, "key_dim": 2}],
    }
    with pytest.raises(mnn.SpecError, match="num_heads"):
        mnn.load_spec(spec)


@pytest.mark.parametrize("training", [True, False])
def test_gradients_self_attention(training: bool) -> None:
    layer = MultiHeadAttention(num_heads=2, key_dim=3)
    results = checked(layer, [(4, 5)], training=training)
    assert set(results) == {"input[0]"} | PARAMS - {"key_bias"}


@pytest.mark.parametrize("value_dim", [None, 4])
def test_gradients_cross_attention_query_value(value_dim) -> None:
    layer = MultiHeadAttention(num_heads=2, key_dim=3, value_dim=value_dim)
    results = checked(layer, [(4, 5), (6, 3)])
    assert {"input[0]", "input[1]"} <= set(results)


def test_gradients_cross_attention_query_value_key() -> None:
    layer = MultiHeadAttention(num_heads=3, key_dim=2, value_dim=3)
    results = checked(layer, [(4, 5), (6, 3), (6, 2)])
    assert {"input[0]", "input[1]", "input[2]"} <= set(results)


@pytest.mark.parametrize("shapes", [[(5, 4)], [(5, 4), (3, 2)]])
def test_gradients_causal(shapes) -> None:
    layer = MultiHeadAttention(num_heads=2, key_dim=3, use_causal_mask=True)
    checked(layer, shapes)


def test_causal_step_ignores_later_steps() -> None:
    layer = MultiHeadAttention(num_heads=2, key_dim=3, use_causal_mask=True)
    layer.build([(5, 4)], np.random.default_rng(0), np.float64)
    x = np.random.default_rng(1).standard_normal((2, 5, 4))
    changed = x.copy()
    changed[:, 3:] += 1.0  # later steps change
    a, b = layer.forward([x]), layer.forward([changed])
    np.testing.assert_allclose(a[:, :3], b[:, :3], rtol=1e-12, atol=1e-12)
    assert not np.allclose(a[:, 3:], b[:, 3:])


def test_gradients_with_padded_keys_self_attention() -> None:
    mask = np.array([[True, True, True, False, False], [True, True, True, True, True]])
    layer = MultiHeadAttention(num_heads=2, key_dim=3)
    layer.input_mask = [mask]
    checked(layer, [(5, 4)], batch=2)


def test_gradients_with_padded_keys_cross_attention_and_causal() -> None:
    value_mask = np.array([[True, True, False, False], [True, True, True, False]])
    key_mask = np.array([[True, True, True, False], [False, True, True, True]])
    layer = MultiHeadAttention(num_heads=2, key_dim=2, use_causal_mask=True)
    layer.input_mask = [None, value_mask, key_mask]
    checked(layer, [(5, 3), (4, 2), (4, 3)], batch=2)


def test_padded_keys_do_not_change_the_output() -> None:
    layer = MultiHeadAttention(num_heads=2, key_dim=3)
    layer.build([(3, 4), (5, 2)], np.random.default_rng(0), np.float64)
    rng = np.random.default_rng(1)
    query, value = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 2))
    layer.input_mask = [None, np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=bool)]
    out = layer.forward([query, value])
    changed = value.copy()
    changed[0, 3:] = 100.0
    np.testing.assert_array_equal(layer.forward([query, changed]), out)
    layer.input_mask = [None, None]
    truncated = layer.forward([query[:1], value[:1, :3]])
    np.testing.assert_allclose(out[:1], truncated, rtol=1e-12, atol=1e-12)


def test_a_query_whose_keys_are_all_padded_gives_the_output_bias_without_nan() -> None:
    mask = np.array([[False, False, False], [True, False, True]])
    layer = MultiHeadAttention(num_heads=2, key_dim=2, bias_initializer="ones")
    layer.input_mask = [None, mask]
    shapes = [(2, 3), (3, 4)]
    results = checked(layer, shapes, batch=2)
    assert results  # every gradient finite and checked
    out = layer.forward([np.ones((2, *s)) for s in shapes])
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out[0], np.ones((2, 3)))  # output_bias, nothing attended
    grads = layer.backward(np.ones_like(out))
    assert all(np.isfinite(g).all() for g in grads)
    assert not grads[1][0].any()  # no key of the first sample was read


def test_dropout_on_the_weights_in_training_only() -> None:
    layer = MultiHeadAttention(num_heads=2, key_dim=3, dropout=0.5)
    layer.build([(6, 4)], np.random.default_rng(0), np.float32)
    x = np.random.default_rng(1).standard_normal((3, 6, 4)).astype(np.float32)
    np.testing.assert_array_equal(layer.forward([x], False), layer.forward([x], False))
    layer.rng = np.random.default_rng(5)
    first = layer.forward([x], True)
    assert first.dtype == np.float32
    layer.rng = np.random.default_rng(5)
    np.testing.assert_array_equal(layer.forward([x], True), first)  # the model's generator
    keep = layer.keep
    assert 0.3 < (keep != 0).mean() < 0.7
    np.testing.assert_allclose(keep[keep != 0], 2.0)  # kept weights scaled by 1 / (1 - rate)
    assert not np.allclose(first, layer.forward([x], False))


def test_gradients_with_dropout() -> None:
    layer = MultiHeadAttention(num_heads=2, key_dim=3, dropout=0.3)
    checked(layer, [(5, 4), (4, 3)])


def test_masks_the_output_with_the_query_mask() -> None:
    layer = MultiHeadAttention(num_heads=1, key_dim=2)
    assert layer.supports_masking
    assert layer.produces_mask([(3, 2)], [True])
    assert layer.produces_mask([(3, 2), (4, 2)], [True, False])
    assert not layer.produces_mask([(3, 2), (4, 2)], [False, True])
    query_mask = np.array([[True, False, True]])
    value_mask = np.array([[True, True, False, False]])
    assert layer.compute_mask(None, [query_mask, value_mask]) is query_mask
    assert layer.compute_mask(None, [None, value_mask]) is None


def test_a_graph_model_with_self_attention_trains() -> None:
    spec = {
        "inputs": {"x": [4, 3]},
        "seed": 1,
        "layers": [
            {"type": "multi_head_attention", "num_heads": 2, "key_dim": 4, "inputs": ["x"]},
            {"type": "flatten"},
            {"type": "dense", "units": 1},
        ],
        "loss": "mse",
        "optimizer": {"type": "adam", "learning_rate": 0.01},
    }
    model = mnn.build_model(spec)
    layer = model.get_layer("multi_head_attention_1")
    assert layer.params["query_kernel"].shape == (3, 8)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 4, 3)).astype(np.float32)
    y = x.sum(axis=(1, 2))[:, None]
    history = model.fit(x, y, epochs=20, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


# ----- PyTorch ------------------------------------------------------------------------


def torch_pair(
    heads: int, embed: int, kdim: int | None = None, vdim: int | None = None, causal: bool = False
):
    """A torch ``nn.MultiheadAttention`` and our layer holding the same weights."""
    torch = pytest.importorskip("torch", reason="comparison with PyTorch needs torch")
    torch.manual_seed(0)
    reference = torch.nn.MultiheadAttention(
        embed, heads, batch_first=True, kdim=kdim, vdim=vdim, dtype=torch.float64
    )
    with torch.no_grad():  # non-zero biases, so that the mapping of biases is checked
        reference.in_proj_bias.normal_()
        reference.out_proj.bias.normal_()
    layer = MultiHeadAttention(num_heads=heads, key_dim=embed // heads, use_causal_mask=causal)
    if kdim is None:
        shapes = [(5, embed)]
        w_q, w_k, w_v = reference.in_proj_weight.detach().numpy().reshape(3, embed, embed)
    else:
        shapes = [(5, embed), (6, vdim), (6, kdim)]
        w_q, w_k, w_v = (
            getattr(reference, f"{role}_proj_weight").detach().numpy() for role in "qkv"
        )
    layer.build(shapes, np.random.default_rng(0), np.float64)
    b_q, b_k, b_v = reference.in_proj_bias.detach().numpy().reshape(3, embed)
    for role, weight, bias in (("query", w_q, b_q), ("key", w_k, b_k), ("value", w_v, b_v)):
        layer.params[f"{role}_kernel"][...] = weight.T  # torch is (out, in), ours (in, out)
        layer.params[f"{role}_bias"][...] = bias
    layer.params["output_kernel"][...] = reference.out_proj.weight.detach().numpy().T
    layer.params["output_bias"][...] = reference.out_proj.bias.detach().numpy()
    return torch, reference, layer, shapes


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("padded", [False, True])
def test_matches_torch_self_attention(causal: bool, padded: bool) -> None:
    torch, reference, layer, shapes = torch_pair(heads=2, embed=6, causal=causal)
    x = np.random.default_rng(1).standard_normal((3, *shapes[0]))
    mask = np.ones((3, 5), dtype=bool)
    if padded:
        mask[0, 3:] = mask[2, 1:] = False  # torch's key_padding_mask is True where padded
    layer.input_mask = [mask]
    out = layer.forward([x], training=True)
    grad_out = np.random.default_rng(2).standard_normal(out.shape)
    (grad_x,) = layer.backward(grad_out)

    xt = torch.tensor(x, requires_grad=True)
    attn_mask = torch.triu(torch.ones(5, 5, dtype=torch.bool), diagonal=1) if causal else None
    expected, _ = reference(
        xt,
        xt,
        xt,
        key_padding_mask=torch.tensor(~mask) if padded else None,
        attn_mask=attn_mask,
        need_weights=False,
    )
    expected.backward(torch.tensor(grad_out))
    np.testing.assert_allclose(out, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grad_x, xt.grad.numpy(), rtol=1e-9, atol=1e-11)
    in_grad = reference.in_proj_weight.grad.numpy().reshape(3, 6, 6)
    for role, grad in zip(("query", "key", "value"), in_grad):
        np.testing.assert_allclose(layer.grads[f"{role}_kernel"], grad.T, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(
        layer.grads["output_kernel"], reference.out_proj.weight.grad.numpy().T, rtol=1e-9
    )
    bias_grads = reference.in_proj_bias.grad.numpy().reshape(3, 6)
    np.testing.assert_allclose(layer.grads["value_bias"], bias_grads[2], rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(layer.grads["key_bias"], bias_grads[1], atol=1e-12)


def test_matches_torch_cross_attention_with_other_key_and_value_sizes() -> None:
    torch, reference, layer, shapes = torch_pair(heads=3, embed=6, kdim=4, vdim=5)
    rng = np.random.default_rng(3)
    query, value, key = (rng.standard_normal((2, *s)) for s in shapes)
    out = layer.forward([query, value, key])
    expected, _ = reference(
        torch.tensor(query), torch.tensor(key), torch.tensor(value), need_weights=False
    )
    np.testing.assert_allclose(out, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
