"""MaxPool2D: values, ties, -inf padding, PyTorch parity (shared checks: test_pooling)."""

import numpy as np
import pytest

from modular_nn.layers.max_pool2d import MaxPool2D


def test_values_and_default_strides() -> None:
    layer = MaxPool2D()
    layer.build((4, 4, 1), np.random.default_rng(0), np.float64)
    x = np.arange(16.0).reshape(1, 4, 4, 1)
    np.testing.assert_array_equal(layer.forward(x)[0, :, :, 0], [[5, 7], [13, 15]])


@pytest.mark.parametrize("strides", [None, 1])
def test_ties_send_the_gradient_to_the_first_maximum_only(strides) -> None:
    layer = MaxPool2D(pool_size=2, strides=strides)
    layer.build((4, 4, 1), np.random.default_rng(0), np.float64)
    x = np.zeros((1, 4, 4, 1))  # all zero, as after a ReLU: every window ties
    y = layer.forward(x, True)
    dx = layer.backward(np.ones_like(y))
    assert dx.sum() == y.size  # each window passes its gradient on exactly once
    assert dx[0, 0, 0, 0] >= 1


def test_same_padding_never_picks_padding() -> None:
    layer = MaxPool2D(pool_size=2, padding="same")
    layer.build((3, 3, 1), np.random.default_rng(0), np.float64)
    x = -np.arange(1.0, 10.0).reshape(1, 3, 3, 1)  # all negative: zero padding would win
    y = layer.forward(x, True)
    np.testing.assert_array_equal(y[0, :, :, 0], [[-1, -3], [-7, -9]])


@pytest.mark.parametrize(
    "pool_size,strides,pad", [(2, 2, 0), (3, 3, 0), (3, 2, 0), (2, 1, 0), (3, 1, 1), (3, 2, 1)]
)
def test_matches_pytorch(pool_size, strides, pad) -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    padding = "same" if pad else "valid"
    layer = MaxPool2D(pool_size=pool_size, strides=strides, padding=padding)
    layer.build((9, 9, 3), rng, np.float32)
    x = np.maximum(rng.standard_normal((2, 9, 9, 3)), 0).astype(np.float32)  # ReLU-like ties
    y = layer.forward(x, True)
    g = rng.standard_normal(y.shape).astype(np.float32)
    dx = layer.backward(g)
    assert layer.window.pads == ((pad, pad), (pad, pad))
    xt = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    yt = torch.nn.functional.max_pool2d(xt, pool_size, strides, padding=pad)
    yt.backward(torch.tensor(g.transpose(0, 3, 1, 2)))
    np.testing.assert_allclose(y, yt.detach().numpy().transpose(0, 2, 3, 1), atol=1e-5)
    np.testing.assert_allclose(dx, xt.grad.numpy().transpose(0, 2, 3, 1), atol=1e-5)


@pytest.mark.parametrize("pool_size", [2, (2, 3), 3])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_training_and_inference_paths_give_the_same_maxima(pool_size, padding) -> None:
    layer = MaxPool2D(pool_size=pool_size, padding=padding)
    layer.build((7, 9, 16), np.random.default_rng(0), np.float32)
    x = np.maximum(np.random.default_rng(1).standard_normal((3, 7, 9, 16)), 0).astype(np.float32)
    np.testing.assert_array_equal(layer.forward(x, True), layer.forward(x, False))


@pytest.mark.parametrize(
    ("strides", "expected_dx"),
    [
        (None, [[0, 1, 0, 0], [0, 0, 1, 0]]),  # tiled windows
        ((1, 2), [[0, 1, 0, 0], [0, 0, 1, 0]]),  # the same windows, not tiled
        ((2, 1), [[0, 2, 0, 0], [0, 0, 1, 0]]),  # overlapping: the NaN heads two windows
    ],
)
def test_a_window_holding_nan_passes_its_gradient_to_its_first_nan(strides, expected_dx) -> None:
    layer = MaxPool2D(pool_size=2, strides=strides or 2)
    layer.build((2, 4, 1), np.random.default_rng(0), np.float32)
    x = np.array([[[[1.0], [np.nan], [3.0], [4.0]], [[np.nan], [2.0], [5.0], [0.0]]]], np.float32)
    y = layer.forward(x, True)
    assert np.isnan(y[0, 0, 0, 0]) and y[0, 0, -1, 0] == 5.0
    dx = layer.backward(np.ones_like(y))
    np.testing.assert_array_equal(dx[0, :, :, 0], expected_dx)


def test_overlapping_windows_with_nan_follow_pytorch() -> None:
    # pool 2, stride 1 over [[1, nan], [0, 2]], 'same' padding: windows at (0,0) and (0,1)
    # hold the NaN and give it their gradient; the others take the 2 (pad is -inf)
    layer = MaxPool2D(pool_size=2, strides=1, padding="same")
    layer.build((2, 2, 1), np.random.default_rng(0), np.float32)
    x = np.array([1.0, np.nan, 0.0, 2.0], np.float32).reshape(1, 2, 2, 1)
    y = layer.forward(x, True)
    np.testing.assert_array_equal(y.ravel(), [np.nan, np.nan, 2, 2])
    np.testing.assert_array_equal(layer.backward(np.ones_like(y)).ravel(), [0, 2, 0, 2])


def test_a_window_of_more_than_256_elements() -> None:
    layer = MaxPool2D(pool_size=17, strides=1)  # 289 window positions: past uint8
    layer.build((18, 18, 1), np.random.default_rng(0), np.float64)
    x = np.random.default_rng(1).permutation(324).astype(np.float64).reshape(1, 18, 18, 1)
    y = layer.forward(x, True)
    dx = layer.backward(np.ones_like(y))
    expected_y, expected_dx = np.zeros((2, 2)), np.zeros((18, 18))
    for r in range(2):
        for c in range(2):
            window = x[0, r : r + 17, c : c + 17, 0]
            expected_y[r, c] = window.max()
            i, j = np.unravel_index(np.argmax(window), window.shape)
            expected_dx[r + i, c + j] += 1
    np.testing.assert_array_equal(y[0, :, :, 0], expected_y)
    np.testing.assert_array_equal(dx[0, :, :, 0], expected_dx)
