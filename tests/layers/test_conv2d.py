"""Conv2D: gradients, shape inference for strides/padding/dilation, options, PyTorch parity."""

import numpy as np
import pytest

import modular_nn as mnn
from modular_nn.layers.conv2d import Conv2D
from modular_nn.testing import assert_gradients_close, check_layer_gradients

GEOMETRIES = [
    # kernel, strides, padding, dilation
    (3, 1, "valid", 1),
    (3, 1, "same", 1),
    (3, 2, "same", 1),
    (3, 2, "valid", 1),
    (1, 1, "valid", 1),
    (2, 2, "same", 1),
    ((2, 3), (1, 2), "same", 1),
    ((3, 1), (2, 1), "valid", (1, 1)),
    (3, 1, "same", 2),
    (3, 1, "valid", (2, 1)),
    (3, 2, "same", 2),
    (4, 3, "same", 1),
    ((1, 4), 3, "valid", (1, 2)),
]


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("kernel,strides,padding,dilation", GEOMETRIES[:7])
def test_gradients(training, kernel, strides, padding, dilation) -> None:
    layer = Conv2D(
        filters=3, kernel_size=kernel, strides=strides, padding=padding, dilation_rate=dilation
    )
    results = check_layer_gradients(layer, (7, 8, 2), batch=2, training=training)
    assert set(results) == {"input", "kernel", "bias"}
    assert_gradients_close(results)


@pytest.mark.parametrize("activation", ["relu", "tanh", "gelu"])
def test_gradients_with_activation_dilation_and_one_channel(activation: str) -> None:
    layer = Conv2D(filters=4, kernel_size=3, padding="same", dilation=2, activation=activation)
    assert_gradients_close(check_layer_gradients(layer, (6, 7, 1), batch=2))


def test_gradients_without_bias() -> None:
    layer = Conv2D(filters=2, kernel_size=(2, 3), strides=2, use_bias=False)
    results = check_layer_gradients(layer, (6, 7, 3), batch=2)
    assert set(results) == {"input", "kernel"}
    assert_gradients_close(results)


@pytest.mark.parametrize("kernel,strides,padding,dilation", GEOMETRIES)
@pytest.mark.parametrize("hw", [(9, 9), (10, 7), (5, 12)])
def test_inferred_shape_is_the_forward_shape(kernel, strides, padding, dilation, hw) -> None:
    layer = Conv2D(
        filters=3, kernel_size=kernel, strides=strides, padding=padding, dilation_rate=dilation
    )
    inferred = layer.compute_output_shape((*hw, 2))
    assert layer.build((*hw, 2), np.random.default_rng(0), np.float32) == inferred
    x = np.random.default_rng(1).standard_normal((2, *hw, 2)).astype(np.float32)
    assert layer.forward(x, True).shape == (2, *inferred)
    assert layer.forward(x, False).shape == (2, *inferred)
    assert layer.backward(np.ones((2, *inferred), np.float32)).shape == x.shape
    if padding == "same":  # Keras: ceil(size / stride) whatever the kernel and dilation
        s = (strides, strides) if isinstance(strides, int) else strides
        assert inferred[:2] == (-(-hw[0] // s[0]), -(-hw[1] // s[1]))


def test_valid_window_larger_than_the_input_fails_at_validation() -> None:
    spec = {
        "input_shape": [4, 4, 1],
        "layers": [{"type": "conv2d", "filters": 2, "kernel_size": 3, "dilation_rate": 2}],
    }
    with pytest.raises(mnn.SpecError, match=r"layers\[0\].*spans 5 along the height"):
        mnn.load_spec(spec)
    spec["layers"][0]["padding"] = "same"
    assert mnn.build_model(spec).output_shape == (4, 4, 2)


def test_rank_is_checked_at_validation() -> None:
    spec = {"input_shape": [16], "layers": [{"type": "conv2d", "filters": 2, "kernel_size": 3}]}
    with pytest.raises(mnn.SpecError, match=r"\(height, width, channels\)"):
        mnn.load_spec(spec)


def test_options_normalize_and_validate() -> None:
    layer = Conv2D(filters=4, kernel_size=3, dilation=2)
    config = layer.get_config()
    assert config["kernel_size"] == [3, 3] and config["strides"] == [1, 1]
    assert config["dilation_rate"] == [2, 2] and config["padding"] == "valid"
    assert config["kernel_initializer"] == {"type": "glorot_uniform"}
    assert Conv2D(**config).get_config() == config
    with pytest.raises(mnn.SpecError, match="filters"):
        Conv2D(filters=0, kernel_size=3)
    with pytest.raises(mnn.SpecError, match="kernel_size"):
        Conv2D(filters=1, kernel_size=[3, 0])
    with pytest.raises(mnn.SpecError, match="padding"):
        Conv2D(filters=1, kernel_size=3, padding="full")


def test_kernel_layout_and_float32() -> None:
    layer = Conv2D(filters=5, kernel_size=(2, 3))
    layer.build((6, 6, 4), np.random.default_rng(0), np.float32)
    assert layer.params["kernel"].shape == (2, 3, 4, 5) and layer.params["bias"].shape == (5,)
    x = np.ones((2, 6, 6, 4), np.float32)
    y = layer.forward(x, True)
    assert y.dtype == np.float32 and layer.backward(y).dtype == np.float32
    assert layer.grads["kernel"].dtype == np.float32


def test_first_layer_skips_the_input_gradient() -> None:
    layer = Conv2D(filters=2, kernel_size=3)
    layer.build((5, 5, 1), np.random.default_rng(0), np.float64)
    layer.needs_input_grad = False
    y = layer.forward(np.ones((1, 5, 5, 1)), True)
    assert layer.backward(np.ones_like(y)) is None
    assert layer.grads["kernel"].any()


@pytest.mark.parametrize("kernel,strides,padding,dilation", GEOMETRIES)
def test_matches_pytorch(kernel, strides, padding, dilation) -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    layer = Conv2D(
        filters=4, kernel_size=kernel, strides=strides, padding=padding, dilation_rate=dilation
    )
    layer.build((9, 10, 3), rng, np.float64)
    layer.params["bias"][...] = rng.standard_normal(4)
    x = rng.standard_normal((2, 9, 10, 3))
    y = layer.forward(x, True)
    g = rng.standard_normal(y.shape)
    dx = layer.backward(g)

    window = layer.window
    (top, bottom), (left, right) = window.pads
    xt = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    kt = torch.tensor(layer.params["kernel"].transpose(3, 2, 0, 1), requires_grad=True)
    bt = torch.tensor(layer.params["bias"], requires_grad=True)
    padded = torch.nn.functional.pad(xt, (left, right, top, bottom))  # TensorFlow-style 'same'
    yt = torch.nn.functional.conv2d(padded, kt, bt, stride=window.strides, dilation=window.dilation)
    yt.backward(torch.tensor(g.transpose(0, 3, 1, 2)))
    np.testing.assert_allclose(y, yt.detach().numpy().transpose(0, 2, 3, 1), atol=1e-5)
    np.testing.assert_allclose(dx, xt.grad.numpy().transpose(0, 2, 3, 1), atol=1e-5)
    np.testing.assert_allclose(
        layer.grads["kernel"], kt.grad.numpy().transpose(2, 3, 1, 0), atol=1e-5
    )
    np.testing.assert_allclose(layer.grads["bias"], bt.grad.numpy(), atol=1e-5)


def test_matches_pytorch_same_padding_in_float32() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    layer = Conv2D(filters=8, kernel_size=3, padding="same", activation="relu")
    layer.build((12, 12, 4), rng, np.float32)
    x = rng.standard_normal((3, 12, 12, 4)).astype(np.float32)
    y = layer.forward(x, True)
    conv = torch.nn.Conv2d(4, 8, 3, padding="same")
    with torch.no_grad():
        conv.weight.copy_(torch.tensor(layer.params["kernel"].transpose(3, 2, 0, 1)))
        conv.bias.zero_()
    yt = torch.relu(conv(torch.tensor(x.transpose(0, 3, 1, 2))))
    np.testing.assert_allclose(y, yt.detach().numpy().transpose(0, 2, 3, 1), atol=1e-5)


def test_large_inference_batches_are_chunked_with_the_same_result(monkeypatch) -> None:
    import modular_nn.layers.conv2d as conv_module

    layer = Conv2D(filters=3, kernel_size=3, strides=2, padding="same", activation="tanh")
    layer.build((7, 7, 2), np.random.default_rng(0), np.float64)
    x = np.random.default_rng(1).standard_normal((10, 7, 7, 2))
    whole = layer.forward(x, False)
    monkeypatch.setattr(conv_module, "EVAL_COLS_LIMIT", 200)  # about one sample per chunk
    np.testing.assert_allclose(layer.forward(x, False), whole, rtol=1e-14)
    assert_gradients_close(check_layer_gradients(layer, (7, 7, 2), training=False))
