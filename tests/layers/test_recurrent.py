"""What simple_rnn, lstm and gru share (``modular_nn/layers/recurrent.py``): gradients
through time (return_sequences, go_backwards, masks, length 1 and > 100), mask
semantics, and parity with PyTorch's nn.RNN / nn.LSTM / nn.GRU, uni- and
bidirectional, over 3 SGD steps with the weights mapped between the two layouts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.layers.gru import GRU
from modular_nn.layers.lstm import LSTM
from modular_nn.layers.simple_rnn import SimpleRNN
from modular_nn.testing import assert_gradients_close, check_layer_gradients

LAYERS = {"simple_rnn": SimpleRNN, "lstm": LSTM, "gru": GRU}
#: long products of Jacobians leave float64 central differences ~1e-6 relative noise on
#: elements whose gradient is small; 1e-5 still catches any wrong term (they are O(1))
TOL = 1e-5
#: biases drawn away from 0 so that every bias term is exercised
BIAS = {"type": "normal", "stddev": 0.5}


def make(type_name: str, **options: Any) -> Any:
    return LAYERS[type_name](units=3, bias_initializer=BIAS, **options)


def padding_mask() -> np.ndarray:
    """Batch 3, time 6: right-padded, left-padded, and all padding but one step."""
    mask = np.ones((3, 6), bool)
    mask[0, 4:] = False
    mask[1, :2] = False
    mask[2, :] = False
    mask[2, 3] = True
    return mask


# ----- gradients through time ------------------------------------------------------------
@pytest.mark.parametrize("type_name", LAYERS)
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_gradients(type_name: str, return_sequences: bool, go_backwards: bool) -> None:
    layer = make(type_name, return_sequences=return_sequences, go_backwards=go_backwards)
    results = check_layer_gradients(layer, (6, 4))
    assert set(results) == {"input", "kernel", "recurrent_kernel", "bias"}
    assert_gradients_close(results, TOL)


@pytest.mark.parametrize("type_name", LAYERS)
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_gradients_with_a_mask(type_name: str, return_sequences: bool, go_backwards: bool) -> None:
    layer = make(type_name, return_sequences=return_sequences, go_backwards=go_backwards)
    layer.input_mask = padding_mask()  # stays set for every forward of the check
    assert_gradients_close(check_layer_gradients(layer, (6, 4)), TOL)


@pytest.mark.parametrize("type_name", LAYERS)
@pytest.mark.parametrize("return_sequences", [False, True])
def test_gradients_of_length_one(type_name: str, return_sequences: bool) -> None:
    layer = make(type_name, return_sequences=return_sequences)
    assert_gradients_close(check_layer_gradients(layer, (1, 4)), TOL)


@pytest.mark.parametrize("type_name", LAYERS)
def test_gradients_through_more_than_100_steps(type_name: str) -> None:
    layer = make(type_name, return_sequences=True)
    mask = np.ones((2, 120), bool)
    mask[1, 100:] = False
    layer.input_mask = mask
    results = check_layer_gradients(layer, (120, 2), batch=2, max_checks=40)
    assert_gradients_close(results, TOL)
    # the first step's input still receives a gradient from the last step's output
    layer.input_mask = None
    x = np.random.default_rng(0).standard_normal((2, 120, 2))
    out = layer.forward(x, True)
    grad = np.zeros_like(out)
    grad[:, -1] = 1
    assert np.abs(layer.backward(grad)[:, 0]).max() > 0


@pytest.mark.parametrize("type_name", LAYERS)
def test_parameters_without_bias(type_name: str) -> None:
    layer = LAYERS[type_name](units=2, use_bias=False, return_sequences=True)
    results = check_layer_gradients(layer, (4, 3))
    assert "bias" not in results and "bias" not in layer.params
    assert_gradients_close(results, TOL)


@pytest.mark.parametrize("type_name", LAYERS)
@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_other_activations(type_name: str, activation: str) -> None:
    options: dict[str, Any] = {"activation": activation, "return_sequences": True}
    if type_name != "simple_rnn":
        options["recurrent_activation"] = "tanh"
    layer = make(type_name, **options)
    layer.input_mask = padding_mask()
    assert_gradients_close(check_layer_gradients(layer, (6, 4)), TOL)


# ----- masks -----------------------------------------------------------------------------
def built(type_name: str, dtype: Any = np.float64, **options: Any) -> Any:
    layer = make(type_name, **options)
    layer.build((6, 4), np.random.default_rng(0), dtype)
    return layer


@pytest.mark.parametrize("type_name", LAYERS)
def test_a_padded_step_carries_the_state_over(type_name: str) -> None:
    layer = built(type_name, return_sequences=True)
    x = np.random.default_rng(1).standard_normal((3, 6, 4))
    mask = padding_mask()
    layer.input_mask = mask
    out = layer.forward(x, False)
    # right padding: the outputs after the last real step repeat it
    np.testing.assert_array_equal(out[0, 4:], np.broadcast_to(out[0, 3], (2, 3)))
    # left padding: zeros (the initial state) until the first real step
    np.testing.assert_array_equal(out[1, :2], 0)
    # one real step in the middle: zeros before it, its output after it
    np.testing.assert_array_equal(out[2, :3], 0)
    np.testing.assert_array_equal(out[2, 4:], np.broadcast_to(out[2, 3], (2, 3)))


@pytest.mark.parametrize("type_name", LAYERS)
@pytest.mark.parametrize("go_backwards", [False, True])
def test_padded_steps_change_nothing(type_name: str, go_backwards: bool) -> None:
    """A masked batch gives what each sequence alone, cut to its real steps, gives."""
    layer = built(type_name, go_backwards=go_backwards)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 6, 4))
    mask = padding_mask()
    x[~mask] = rng.standard_normal((int((~mask).sum()), 4)) * 100  # padding values are ignored
    layer.input_mask = mask
    out = layer.forward(x, False)
    layer.input_mask = None
    for row in range(3):
        alone = layer.forward(x[row : row + 1, mask[row]], False)
        np.testing.assert_allclose(out[row], alone[0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("type_name", LAYERS)
def test_an_all_real_mask_is_no_mask(type_name: str) -> None:
    layer = built(type_name, return_sequences=True)
    x = np.random.default_rng(3).standard_normal((3, 6, 4))
    plain = layer.forward(x, True)
    plain_grad = layer.backward(np.ones_like(plain))
    layer.input_mask = np.ones((3, 6), bool)
    np.testing.assert_array_equal(layer.forward(x, True), plain)
    np.testing.assert_array_equal(layer.backward(np.ones_like(plain)), plain_grad)


@pytest.mark.parametrize("type_name", LAYERS)
def test_the_output_mask(type_name: str) -> None:
    mask = padding_mask()
    sequences = make(type_name, return_sequences=True)
    assert sequences.supports_masking
    assert sequences.produces_mask((6, 4), True) and not sequences.produces_mask((6, 4), False)
    assert sequences.compute_mask(None, mask) is mask
    backwards = make(type_name, return_sequences=True, go_backwards=True)
    np.testing.assert_array_equal(backwards.compute_mask(None, mask), mask[:, ::-1])
    last = make(type_name)
    assert not last.produces_mask((6, 4), True)
    assert last.compute_mask(None, mask) is None


# ----- go_backwards, shapes, dtype ---------------------------------------------------------
@pytest.mark.parametrize("type_name", LAYERS)
def test_go_backwards_reads_the_reversed_sequence(type_name: str) -> None:
    forwards = built(type_name, return_sequences=True)
    backwards = built(type_name, return_sequences=True, go_backwards=True)
    x = np.random.default_rng(4).standard_normal((2, 6, 4))
    # the output stays in the reversed order, as in Keras
    np.testing.assert_array_equal(backwards.forward(x, False), forwards.forward(x[:, ::-1], False))


@pytest.mark.parametrize("type_name", LAYERS)
def test_shapes(type_name: str) -> None:
    gates = {"simple_rnn": 1, "lstm": 4, "gru": 3}[type_name]
    layer = make(type_name)
    assert layer.compute_output_shape((7, 5)) == (3,)
    assert make(type_name, return_sequences=True).compute_output_shape((7, 5)) == (7, 3)
    shapes = layer.param_shapes((7, 5))
    assert shapes["kernel"] == (5, gates * 3)
    assert shapes["recurrent_kernel"] == (3, gates * 3)
    with pytest.raises(mnn.ShapeError, match="sequences"):
        layer.compute_output_shape((5,))


@pytest.mark.parametrize("type_name", LAYERS)
def test_float32_end_to_end(type_name: str) -> None:
    layer = built(type_name, np.float32, return_sequences=True)
    layer.input_mask = padding_mask()
    x = np.random.default_rng(5).standard_normal((3, 6, 4)).astype(np.float32)
    out = layer.forward(x, True)
    grad = layer.backward(np.ones_like(out))
    assert out.dtype == grad.dtype == np.float32
    assert all(g.dtype == np.float32 for g in layer.grads.values())
    assert all(v.dtype == np.float32 for v in (layer.z, *layer.states.values()))


@pytest.mark.parametrize("type_name", LAYERS)
def test_default_initializers(type_name: str) -> None:
    layer = LAYERS[type_name](units=16)
    layer.build((5, 8), np.random.default_rng(0), np.float64)
    recurrent = layer.params["recurrent_kernel"]  # orthogonal (units, G*units): rows orthonormal
    np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(16), atol=1e-12)
    kernel = layer.params["kernel"]  # glorot_uniform over (in, G*units)
    assert np.abs(kernel).max() <= np.sqrt(6 / (8 + kernel.shape[1]))
    assert layer.get_config()["kernel_initializer"] == {"type": "glorot_uniform"}


# ----- parity with PyTorch -----------------------------------------------------------------
def _regroup(array: np.ndarray, type_name: str) -> np.ndarray:
    """Keras's gate blocks (last axis) in PyTorch's order: the GRU's z, r, h -> r, z, n;
    the LSTM's i, f, c, o is PyTorch's i, f, g, o already."""
    if type_name != "gru":
        return array
    z, r, h = np.split(array, 3, axis=-1)
    return np.concatenate([r, z, h], axis=-1)


def _to_torch(module: Any, weights: dict[str, np.ndarray], type_name: str, suffix: str) -> None:
    """Copy Keras-layout weights into ``module``'s ``*_l0{suffix}`` parameters.

    PyTorch has two biases; their sum is ours for simple_rnn and lstm, so ``bias_hh``
    stays 0 and frozen (SGD would otherwise move the sum twice as fast); the GRU's
    rows are PyTorch's ``bias_ih`` and ``bias_hh`` exactly.
    """
    import torch

    def put(name: str, value: np.ndarray) -> None:
        getattr(module, f"{name}_l0{suffix}").data = torch.tensor(value)

    put("weight_ih", _regroup(weights["kernel"], type_name).T.copy())
    put("weight_hh", _regroup(weights["recurrent_kernel"], type_name).T.copy())
    bias = weights["bias"]
    if type_name == "gru":
        put("bias_ih", _regroup(bias[0], type_name).copy())
        put("bias_hh", _regroup(bias[1], type_name).copy())
    else:
        put("bias_ih", bias.copy())
        put("bias_hh", np.zeros_like(bias))
        getattr(module, f"bias_hh_l0{suffix}").requires_grad_(False)


def _from_torch(module: Any, type_name: str, suffix: str) -> dict[str, np.ndarray]:
    """``module``'s ``*_l0{suffix}`` parameters in Keras's layout."""

    def get(name: str) -> np.ndarray:
        return getattr(module, f"{name}_l0{suffix}").detach().numpy()

    weights = {
        "kernel": _regroup(get("weight_ih").T, type_name),
        "recurrent_kernel": _regroup(get("weight_hh").T, type_name),
    }
    if type_name == "gru":
        weights["bias"] = np.stack([_regroup(get(f"bias_{s}"), type_name) for s in ("ih", "hh")])
    else:
        weights["bias"] = get("bias_ih") + get("bias_hh")
    return weights


class TorchModel:
    """The PyTorch twin of [recurrent layer or bidirectional, dense(2)]."""

    def __init__(self, type_name: str, units: int, features: int, options: dict[str, Any]) -> None:
        import torch

        cls = {"simple_rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[type_name]
        self.bidirectional = options.get("bidirectional", False)
        self.return_sequences = options.get("return_sequences", False)
        self.go_backwards = options.get("go_backwards", False)
        self.merge_mode = options.get("merge_mode", "concat")
        self.rnn = cls(features, units, batch_first=True, bidirectional=self.bidirectional)
        width = 2 * units if self.bidirectional and self.merge_mode == "concat" else units
        self.head = torch.nn.Linear(width, 2)
        self.rnn.double()
        self.head.double()
        self.type_name = type_name
        self.units = units

    def forward(self, x: Any) -> Any:
        import torch

        if self.go_backwards:
            x = x.flip(1)
        seq, _ = self.rnn(x)
        units = self.units
        if self.bidirectional:
            fwd, bwd = seq[..., :units], seq[..., units:]
            if not self.return_sequences:  # last state of each direction
                fwd, bwd = fwd[:, -1], bwd[:, 0]
            merged = {
                "concat": lambda: torch.cat([fwd, bwd], dim=-1),
                "sum": lambda: fwd + bwd,
                "ave": lambda: (fwd + bwd) / 2,
                "mul": lambda: fwd * bwd,
            }
            out = merged[self.merge_mode]()
        else:
            out = seq if self.return_sequences else seq[:, -1]
        return self.head(out)


def _layer_entry(type_name: str, units: int, options: dict[str, Any]) -> dict[str, Any]:
    recurrent = {"type": type_name, "units": units, "bias_initializer": BIAS}
    recurrent["return_sequences"] = options.get("return_sequences", False)
    if options.get("bidirectional"):
        return {"type": "bidirectional", "layer": recurrent, "merge_mode": options["merge_mode"]}
    recurrent["go_backwards"] = options.get("go_backwards", False)
    return recurrent


PARITY_CASES = [
    {},
    {"return_sequences": True},
    {"go_backwards": True},
    {"go_backwards": True, "return_sequences": True},
    {"bidirectional": True, "merge_mode": "concat"},
    {"bidirectional": True, "merge_mode": "concat", "return_sequences": True},
    {"bidirectional": True, "merge_mode": "sum", "return_sequences": True},
    {"bidirectional": True, "merge_mode": "mul"},
]


@pytest.mark.parametrize("type_name", LAYERS)
@pytest.mark.parametrize("options", PARITY_CASES, ids=lambda o: "-".join(map(str, o)) or "plain")
def test_matches_pytorch_over_three_sgd_steps(type_name: str, options: dict[str, Any]) -> None:
    torch = pytest.importorskip("torch", reason="the PyTorch reference needs torch installed")
    units, features, time, batch = 4, 3, 5, 6
    model = mnn.build_model(
        {
            "input_shape": [time, features],
            "dtype": "float64",
            "layers": [_layer_entry(type_name, units, options), {"type": "dense", "units": 2}],
            "loss": "mse",
            "optimizer": {"type": "sgd", "learning_rate": 0.5},
        }
    )
    twin = TorchModel(type_name, units, features, options)
    rnn_name = model.layers[0].name
    directions = [("forward/", ""), ("backward/", "_reverse")] if twin.bidirectional else [("", "")]

    def ours(prefix: str) -> dict[str, np.ndarray]:
        names = ("kernel", "recurrent_kernel", "bias")
        return {k: model.params[f"{rnn_name}/{prefix}{k}"] for k in names}

    for prefix, suffix in directions:
        _to_torch(twin.rnn, ours(prefix), type_name, suffix)
    dense = model.layers[1].name
    twin.head.weight.data = torch.tensor(model.params[f"{dense}/kernel"].T.copy())
    twin.head.bias.data = torch.tensor(model.params[f"{dense}/bias"].copy())
    trainable = [p for p in [*twin.rnn.parameters(), *twin.head.parameters()] if p.requires_grad]
    sgd = torch.optim.SGD(trainable, lr=0.5)

    rng = np.random.default_rng(7)
    x = rng.standard_normal((batch, time, features))
    y_shape = (batch, time, 2) if options.get("return_sequences") else (batch, 2)
    y = rng.standard_normal(y_shape)
    for _ in range(3):
        loss = model.train_on_batch(x, y)
        sgd.zero_grad()
        torch_loss = torch.nn.functional.mse_loss(twin.forward(torch.tensor(x)), torch.tensor(y))
        torch_loss.backward()
        sgd.step()
        assert loss == pytest.approx(torch_loss.item(), rel=1e-10)
    for prefix, suffix in directions:
        theirs = _from_torch(twin.rnn, type_name, suffix)
        for name, value in ours(prefix).items():
            np.testing.assert_allclose(value, theirs[name], rtol=1e-9, atol=1e-12, err_msg=name)
    expected = twin.forward(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-9, atol=1e-12)


# ----- in a model: a mask from embedding(mask_zero) --------------------------------------
@pytest.mark.parametrize(
    "recurrent",
    [
        {"type": "lstm", "units": 4},
        {"type": "gru", "units": 4, "go_backwards": True},
        {"type": "bidirectional", "layer": {"type": "simple_rnn", "units": 4}},
    ],
    ids=["lstm", "gru-backwards", "bidirectional"],
)
def test_left_and_right_padding_give_the_same_prediction(recurrent: dict[str, Any]) -> None:
    model = mnn.build_model(
        {
            "input_shape": [6],
            "layers": [
                {"type": "embedding", "input_dim": 9, "output_dim": 3, "mask_zero": True},
                recurrent,
                {"type": "dense", "units": 2},
            ],
            "loss": "mse",
            "optimizer": "sgd",
        }
    )
    tokens = np.array([[3, 1, 4, 0, 0, 0], [5, 0, 0, 0, 0, 0], [2, 6, 5, 3, 5, 8]])
    left = np.array([[0, 0, 0, 3, 1, 4], [0, 0, 0, 0, 0, 5], [2, 6, 5, 3, 5, 8]])
    np.testing.assert_allclose(model.predict(tokens), model.predict(left), rtol=1e-6)
    unmasked = model.predict(np.where(tokens == 0, 7, tokens))  # a real token changes it
    assert not np.allclose(unmasked[:2], model.predict(tokens)[:2])
    losses = [model.train_on_batch(tokens, np.ones((3, 2))) for _ in range(3)]
    assert np.isfinite(losses).all() and losses[-1] < losses[0]
