"""Conv1D: gradients for every padding, strides and dilation, shapes, options, PyTorch parity."""

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.layers.conv1d import Conv1D
from modular_nn.testing import assert_gradients_close, check_layer_gradients

GEOMETRIES = [
    # kernel, strides, padding, dilation
    (3, 1, "valid", 1),
    (3, 2, "valid", 1),
    (3, 1, "same", 1),
    (4, 1, "same", 1),
    (3, 2, "same", 1),
    (3, 1, "causal", 1),
    (2, 2, "causal", 1),
    (3, 1, "valid", 2),
    (3, 1, "same", 2),
    (3, 1, "causal", 2),
    (3, 3, "causal", 2),
    (2, 2, "same", 3),
    (1, 1, "valid", 1),
]


def torch_pads(steps: int, kernel: int, stride: int, padding: str, dilation: int):
    """(left, right) zeros that Keras adds, computed here independently of windows.py."""
    span = dilation * (kernel - 1) + 1
    if padding == "causal":
        return span - 1, 0
    if padding == "same":
        out = -(-steps // stride)
        total = max((out - 1) * stride + span - steps, 0)
        return total // 2, total - total // 2
    return 0, 0


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("kernel,strides,padding,dilation", GEOMETRIES)
def test_gradients(training, kernel, strides, padding, dilation) -> None:
    layer = Conv1D(
        filters=3, kernel_size=kernel, strides=strides, padding=padding, dilation_rate=dilation
    )
    results = check_layer_gradients(layer, (9, 2), batch=2, training=training)
    assert set(results) == {"input", "kernel", "bias"}
    assert_gradients_close(results)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_gradients_with_activation_one_channel_and_no_bias(activation: str) -> None:
    layer = Conv1D(
        filters=4, kernel_size=3, padding="causal", activation=activation, use_bias=False
    )
    results = check_layer_gradients(layer, (8, 1), batch=2)
    assert set(results) == {"input", "kernel"}
    assert_gradients_close(results)


@pytest.mark.parametrize("kernel,strides,padding,dilation", GEOMETRIES)
@pytest.mark.parametrize("steps", [7, 10, 12])
def test_inferred_shape_is_the_forward_shape(kernel, strides, padding, dilation, steps) -> None:
    layer = Conv1D(
        filters=3, kernel_size=kernel, strides=strides, padding=padding, dilation_rate=dilation
    )
    inferred = layer.compute_output_shape((steps, 2))
    assert layer.build((steps, 2), np.random.default_rng(0), np.float32) == inferred
    x = np.random.default_rng(1).standard_normal((2, steps, 2)).astype(np.float32)
    assert layer.forward(x, True).shape == (2, *inferred)
    assert layer.forward(x, False).shape == (2, *inferred)
    assert layer.backward(np.ones((2, *inferred), np.float32)).shape == x.shape
    span = dilation * (kernel - 1) + 1
    expected = (steps - span) // strides + 1 if padding == "valid" else -(-steps // strides)
    assert inferred == (expected, 3)


def test_causal_output_never_reads_the_future() -> None:
    layer = Conv1D(filters=2, kernel_size=3, padding="causal", dilation_rate=2)
    layer.build((10, 3), np.random.default_rng(0), np.float64)
    x = np.random.default_rng(1).standard_normal((2, 10, 3))
    later = x.copy()
    later[:, 6:] += 100.0  # change only steps 6 and after
    y, y_later = layer.forward(x), layer.forward(later)
    np.testing.assert_array_equal(y[:, :6], y_later[:, :6])
    assert not np.allclose(y[:, 6:], y_later[:, 6:])
    assert layer.window.pads == ((0, 0), (4, 0))  # (kernel_size - 1) * dilation, left only


def test_shapes_are_checked_at_validation() -> None:
    spec = {
        "input_shape": [8, 8, 1],
        "layers": [{"type": "conv1d", "filters": 2, "kernel_size": 3}],
    }
    with pytest.raises(mnn.SpecError, match=r"layers\[0\].*\(time, features\).*\(8, 8, 1\)"):
        mnn.load_spec(spec)
    spec = {
        "input_shape": [4, 2],
        "layers": [{"type": "conv1d", "filters": 2, "kernel_size": 3, "dilation_rate": 2}],
    }
    with pytest.raises(mnn.SpecError, match=r"layers\[0\].*spans 5 along the time"):
        mnn.load_spec(spec)
    for padding in ("same", "causal"):
        spec["layers"][0]["padding"] = padding
        assert mnn.build_model(spec).output_shape == (4, 2)


def test_shape_error_names_what_was_expected_and_received() -> None:
    with pytest.raises(mnn.ShapeError, match=r"\(time, features\), received input shape \(10,\)"):
        Conv1D(filters=1, kernel_size=2).compute_output_shape((10,))
    with pytest.raises(mnn.ShapeError, match=r"\(time, features\)"):
        Conv1D(filters=1, kernel_size=2).param_shapes((4, 4, 4))


def test_options_normalize_and_validate() -> None:
    layer = Conv1D(filters=4, kernel_size=[3], dilation=2)
    config = layer.get_config()
    assert config["kernel_size"] == 3 and config["strides"] == 1 and config["dilation_rate"] == 2
    assert config["padding"] == "valid" and config["use_bias"] is True
    assert config["activation"] == {"type": "linear"}
    assert config["kernel_initializer"] == {"type": "glorot_uniform"}
    assert config["bias_initializer"] == {"type": "zeros"}
    assert Conv1D(**config).get_config() == config
    with pytest.raises(mnn.SpecError, match="filters"):
        Conv1D(filters=0, kernel_size=3)
    with pytest.raises(mnn.SpecError, match="kernel_size"):
        Conv1D(filters=1, kernel_size=[3, 3])
    with pytest.raises(mnn.SpecError, match="padding"):
        Conv1D(filters=1, kernel_size=3, padding="full")
    with pytest.raises(mnn.SpecError, match="groups"):
        Conv1D(filters=1, kernel_size=3, groups=2)  # extra options are refused


def test_kernel_layout_and_float32() -> None:
    layer = Conv1D(filters=5, kernel_size=3)
    layer.build((6, 4), np.random.default_rng(0), np.float32)
    assert layer.params["kernel"].shape == (3, 4, 5) and layer.params["bias"].shape == (5,)
    assert layer.param_count((6, 4)) == 3 * 4 * 5 + 5
    x = np.ones((2, 6, 4), np.float32)
    y = layer.forward(x, True)
    assert y.dtype == np.float32 and y.shape == (2, 4, 5)
    assert layer.backward(y).dtype == np.float32
    assert layer.grads["kernel"].dtype == np.float32 and layer.grads["bias"].dtype == np.float32


def test_empty_batch() -> None:
    layer = Conv1D(filters=3, kernel_size=3, padding="causal")
    layer.build((6, 2), np.random.default_rng(0), np.float32)
    y = layer.forward(np.zeros((0, 6, 2), np.float32), True)
    assert y.shape == (0, 6, 3) and y.dtype == np.float32
    dx = layer.backward(y)
    assert dx.shape == (0, 6, 2)
    np.testing.assert_array_equal(layer.grads["kernel"], 0)


def test_first_layer_skips_the_input_gradient() -> None:
    layer = Conv1D(filters=2, kernel_size=3)
    layer.build((5, 1), np.random.default_rng(0), np.float64)
    layer.needs_input_grad = False
    y = layer.forward(np.ones((1, 5, 1)), True)
    assert layer.backward(np.ones_like(y)) is None
    assert layer.grads["kernel"].any()


@pytest.mark.parametrize("kernel,strides,padding,dilation", GEOMETRIES)
def test_matches_pytorch(kernel, strides, padding, dilation) -> None:
    torch = pytest.importorskip("torch", reason="torch is needed to compare with nn.Conv1d")
    rng = np.random.default_rng(0)
    steps, channels, filters = 11, 3, 4
    layer = Conv1D(
        filters=filters,
        kernel_size=kernel,
        strides=strides,
        padding=padding,
        dilation_rate=dilation,
    )
    layer.build((steps, channels), rng, np.float64)
    layer.params["bias"][...] = rng.standard_normal(filters)
    x = rng.standard_normal((2, steps, channels))
    y = layer.forward(x, True)
    g = rng.standard_normal(y.shape)
    dx = layer.backward(g)

    conv = torch.nn.Conv1d(channels, filters, kernel, stride=strides, dilation=dilation).double()
    with torch.no_grad():  # torch's weight is (filters, in, kernel_size)
        conv.weight.copy_(torch.tensor(layer.params["kernel"].transpose(2, 1, 0)))
        conv.bias.copy_(torch.tensor(layer.params["bias"]))
    xt = torch.tensor(x.transpose(0, 2, 1), requires_grad=True)  # NWC -> NCW
    left, right = torch_pads(steps, kernel, strides, padding, dilation)
    yt = conv(torch.nn.functional.pad(xt, (left, right)))
    yt.backward(torch.tensor(g.transpose(0, 2, 1)))
    np.testing.assert_allclose(y, yt.detach().numpy().transpose(0, 2, 1), atol=1e-10)
    np.testing.assert_allclose(dx, xt.grad.numpy().transpose(0, 2, 1), atol=1e-10)
    np.testing.assert_allclose(
        layer.grads["kernel"], conv.weight.grad.numpy().transpose(2, 1, 0), atol=1e-10
    )
    np.testing.assert_allclose(layer.grads["bias"], conv.bias.grad.numpy(), atol=1e-10)


@pytest.mark.parametrize("kernel", [3, 4])
def test_same_padding_matches_pytorch_same(kernel: int) -> None:
    torch = pytest.importorskip("torch", reason="torch is needed to compare with nn.Conv1d")
    rng = np.random.default_rng(2)
    layer = Conv1D(filters=2, kernel_size=kernel, padding="same", dilation_rate=2)
    layer.build((9, 3), rng, np.float64)
    x = rng.standard_normal((2, 9, 3))
    conv = torch.nn.Conv1d(3, 2, kernel, padding="same", dilation=2, bias=False).double()
    with torch.no_grad():
        conv.weight.copy_(torch.tensor(layer.params["kernel"].transpose(2, 1, 0)))
    yt = conv(torch.tensor(x.transpose(0, 2, 1)))
    np.testing.assert_allclose(layer.forward(x), yt.detach().numpy().transpose(0, 2, 1), atol=1e-10)


def test_a_model_of_conv1d_layers_trains_in_float32() -> None:
    spec = {
        "input_shape": [12, 3],
        "layers": [
            {
                "type": "conv1d",
                "filters": 4,
                "kernel_size": 3,
                "padding": "causal",
                "activation": "relu",
            },
            {"type": "max_pool1d"},
            {"type": "conv1d", "filters": 4, "kernel_size": 2, "strides": 2},
            {"type": "global_avg_pool1d"},
            {"type": "dense", "units": 1, "activation": "sigmoid"},
        ],
        "loss": "binary_crossentropy",
        "optimizer": {"type": "adam", "learning_rate": 0.01},
    }
    model = mnn.build_model(spec)
    assert model.params["conv1d_1/kernel"].shape == (3, 3, 4)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 12, 3)).astype(np.float32)
    y = (x[:, :, 0].mean(axis=1) > 0).astype(np.float32)[:, None]
    history = model.fit(x, y, epochs=5, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.predict(x).dtype == np.float32
    assert mnn.build_model(model.to_spec()).to_spec() == model.to_spec()
