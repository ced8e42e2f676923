"""The trainers the benchmark times: modular_nn and its baselines, on the same data.

Each trainer has ``train_epoch()`` (one shuffled pass over its data: forward,
softmax cross-entropy, backward, plain SGD update per batch) and
``predict(x, batch_size)``. Every implementation shuffles with a fresh
permutation per epoch and gathers each batch by index, as its users would
write it. Baselines that need a package that is not installed raise
``Unavailable`` with a note.
"""

from __future__ import annotations

import json
import math
import threading
from pathlib import Path
from typing import Any

import numpy as np

SPECS = Path(__file__).resolve().parent / "specs"
LEARNING_RATE = 0.01


class Unavailable(Exception):
    """A baseline that cannot run here (its package is missing); the message says why."""


def load_spec(name: str, *, loss: str | None = None) -> dict[str, Any]:
    """A workload's JSON spec from ``bench/specs`` (optionally with another loss)."""
    spec = json.loads((SPECS / f"{name}.json").read_text())
    if loss is not None:
        spec["loss"] = {"type": loss}
    return spec


def dense_sizes(spec: dict[str, Any]) -> list[int]:
    """Layer widths of an all-dense spec: ``[784, 512, 256, 10]``."""
    return [int(spec["input_shape"][0])] + [int(entry["units"]) for entry in spec["layers"]]


def one_hot(labels: np.ndarray, classes: int, dtype: Any = np.float32) -> np.ndarray:
    out = np.zeros((labels.size, classes), dtype=dtype)
    out[np.arange(labels.size), labels] = 1
    return out


def he_normal(rng: np.random.Generator, fan_in: int, fan_out: int) -> np.ndarray:
    return (rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)).astype(np.float32)


# ----- modular_nn -------------------------------------------------------------------------
class ModularNN:
    """The framework under test, built from the workload's JSON spec with ``build_model``.

    ``train_epoch`` runs one epoch of a single ``model.fit`` call, as users train
    (``fit(x, y, epochs=N)``): ``fit`` runs in a worker thread that waits at the start of
    each epoch until ``train_epoch`` asks for one (``EpochGate``), so the bench still
    times the implementations' epochs in turn. What ``fit`` does once per call (checking
    the arrays: one pass over the data) is thus paid once, as JAX's compilation is;
    ``fit_call_epoch`` times the other way: one ``fit(epochs=1)`` call per epoch.
    """

    name = "modular_nn"

    def __init__(self, spec: dict[str, Any], x: np.ndarray, y: np.ndarray, batch: int) -> None:
        import modular_nn as mnn

        self.model = mnn.build_model(json.dumps(spec))
        self.x, self.y, self.batch = x, y, batch
        self.gate: EpochGate | None = None

    def train_epoch(self) -> None:
        if self.gate is None:
            self.gate = EpochGate(self.model, self.x, self.y, self.batch)
        self.gate.run_epoch()

    def fit_call_epoch(self) -> None:
        """One epoch as its own ``fit`` call (not with ``train_epoch`` on the same trainer)."""
        self.model.fit(self.x, self.y, epochs=1, batch_size=self.batch, verbose=0)

    @property
    def loss(self) -> float:
        return self.model.history.history["loss"][-1]

    def predict(self, x: np.ndarray, batch_size: int) -> np.ndarray:
        return self.model.predict(x, batch_size=batch_size)

    def close(self) -> None:
        if self.gate is not None:
            self.gate.close()


class _Closed(Exception):
    """Ends the gated ``fit`` call."""


class EpochGate:
    """One ``model.fit`` call in a daemon thread, one epoch per ``run_epoch()``.

    A callback blocks at each epoch's start until ``run_epoch`` releases it and signals
    at the epoch's end (after the epoch's checks, metrics and history), so the
    caller's timing of ``run_epoch`` covers exactly one epoch of ``fit``; the calling
    thread sleeps meanwhile. Epochs are counted, so a ``fit`` that ends (an error, or a
    callback stopping it) is reported by the next ``run_epoch`` and never taken for an
    epoch.
    """

    def __init__(self, model: Any, x: np.ndarray, y: np.ndarray, batch: int) -> None:
        from modular_nn.model.callbacks import Callback

        gate = self
        self.go, self.done = threading.Semaphore(0), threading.Semaphore(0)
        self.closed = self.finished = False
        self.epochs = 0
        self.error: BaseException | None = None

        class Gate(Callback):
            def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
                gate.go.acquire()
                if gate.closed:
                    raise _Closed

            def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
                gate.epochs += 1
                gate.done.release()

        def work() -> None:
            try:
                model.fit(x, y, epochs=1 << 40, batch_size=batch, verbose=0, callbacks=[Gate()])
            except _Closed:
                pass
            except BaseException as exc:  # handed to the caller by run_epoch
                gate.error = exc
            gate.finished = True
            gate.done.release()

        self.thread = threading.Thread(target=work, name="modular_nn-fit", daemon=True)
        self.thread.start()

    def run_epoch(self) -> None:
        before = self.epochs
        if not (self.closed or self.finished):
            self.go.release()
            self.done.acquire()
        if self.epochs > before:
            return
        if self.error is not None:
            error, self.error, self.closed = self.error, None, True
            raise RuntimeError("modular_nn's fit failed") from error
        raise RuntimeError("the gated fit call has ended")

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.go.release()
            self.thread.join(timeout=60)


# ----- the graph path against the plain layer loop -------------------------------------------
class PlainLoop:
    """The sequential train step as it was before the graph engine (commit 21784e6), on
    a built chain ``model``: its own layer, loss, fused activation and optimizer
    objects, so the maths is the model's own and only the path around it differs.

    ``step`` is that commit's ``Model._train_step`` without its first-step shape checks
    (the graph path's warm-up step makes them): every layer's forward in order, the
    loss (fused with the last activation where the model fused it), backward from the
    last layer down to the first trainable one, the finiteness check of the loss, the
    optimizer's step and the metrics.
    """

    def __init__(self, model: Any) -> None:
        if len(model.input_names) != 1 or not model.heads.single:
            raise ValueError("the plain layer loop runs chains: one input, one output")
        steps = [step.layer for step in model.engine.steps]
        if len(steps) != len(model.layers) or any(a is not b for a, b in zip(steps, model.layers)):
            raise ValueError("the plain layer loop runs chains: each layer once, in order")
        self.layers = model.layers
        head = model.heads.heads[0]
        self.loss, self.fused, self.optimizer = head.loss, head.fused, model.optimizer
        trainable = [i for i, layer in enumerate(self.layers) if layer.params]
        self.first_trainable = trainable[0] if trainable else len(self.layers)
        self.model = model

    def _loss_and_grad(self, out: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        loss = self.loss
        if self.fused is not None:
            value = loss.forward_logits(self.fused.logits, out, y)
            return value, loss.backward_logits()
        value = loss.forward(out, y)
        return value, loss.backward()

    def step(self, x: np.ndarray, y: np.ndarray, metrics: list[Any]) -> float:
        out = x
        for layer in self.layers:
            out = layer.forward(out, True)
        loss, grad = self._loss_and_grad(out, y)
        for layer in reversed(self.layers[self.first_trainable :]):
            grad = layer.backward(grad)
        if not math.isfinite(loss):
            raise FloatingPointError(f"the loss became {loss}")
        self.optimizer.step()
        self.model.global_step += 1
        for metric in metrics:
            metric.update(out, y)
        return loss


class GraphVsLoop:
    """One model from a workload's spec, trained on the same fixed batches two ways:
    ``graph_epoch`` through ``model._train_step`` (the graph engine, as ``fit`` runs each
    batch) and ``loop_epoch`` through ``PlainLoop.step``.

    The batches are prepared (``model._prepare_xy``) and gathered from one shuffle
    once, outside the timed calls, so that an epoch of either is its train steps only
    (``fit`` adds the same shuffling, gathering, callbacks and guard to both). Both
    update the same model, loss, optimizer and metric objects in turn: the weights
    move on from call to call, which does not change what a step costs.
    """

    def __init__(self, spec: dict[str, Any], x: np.ndarray, y: np.ndarray, batch: int) -> None:
        import modular_nn as mnn

        self.model = model = mnn.build_model(json.dumps(spec))
        (xp,), (yp,) = model._prepare_xy(x, y)
        order = np.random.default_rng(0).permutation(xp.shape[0])
        self.batches = [
            (xp.take(order[lo : lo + batch], axis=0), yp.take(order[lo : lo + batch], axis=0))
            for lo in range(0, xp.shape[0], batch)
        ]
        self.metrics = model._metrics()
        self.loop = PlainLoop(model)

    def graph_epoch(self) -> None:
        train_step, metrics = self.model._train_step, self.metrics
        for step, (xb, yb) in enumerate(self.batches):
            train_step([xb], [yb], metrics, epoch=0, step=step)

    def loop_epoch(self) -> None:
        loop_step, metrics = self.loop.step, self.metrics[0]
        for xb, yb in self.batches:
            loop_step(xb, yb, metrics)


# ----- hand-written NumPy -------------------------------------------------------------------
class NumpyMLP:
    """A plain float32 NumPy loop: the code one would write by hand for this MLP."""

    name = "numpy"

    def __init__(self, sizes: list[int], x: np.ndarray, y: np.ndarray, batch: int) -> None:
        rng = np.random.default_rng(0)
        self.w = [he_normal(rng, a, b) for a, b in zip(sizes[:-1], sizes[1:])]
        self.b = [np.zeros(b, dtype=np.float32) for b in sizes[1:]]
        self.x, self.y, self.batch, self.rng = x, y, batch, rng

    def forward(self, x: np.ndarray) -> list[np.ndarray]:
        acts = [x]
        for i, (w, b) in enumerate(zip(self.w, self.b)):
            z = acts[-1] @ w + b
            acts.append(np.maximum(z, 0) if i < len(self.w) - 1 else z)
        return acts

    def train_epoch(self) -> None:
        n = self.x.shape[0]
        order = self.rng.permutation(n)
        for lo in range(0, n, self.batch):
            idx = order[lo : lo + self.batch]
            xb, yb = self.x[idx], self.y[idx]
            m = xb.shape[0]
            acts = self.forward(xb)
            z = acts[-1]
            z -= z.max(axis=1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(axis=1, keepdims=True)
            rows = np.arange(m)
            self.loss = -np.log(p[rows, yb]).mean()
            dz = p  # softmax + cross-entropy: dL/dz = (p - onehot) / m
            dz[rows, yb] -= 1
            dz /= m
            for i in range(len(self.w) - 1, -1, -1):
                dw = acts[i].T @ dz
                db = dz.sum(axis=0)
                if i:
                    dz = dz @ self.w[i].T
                    dz *= acts[i] > 0
                self.w[i] -= LEARNING_RATE * dw
                self.b[i] -= LEARNING_RATE * db

    def predict(self, x: np.ndarray, batch_size: int) -> np.ndarray:
        parts = []
        for i in range(0, x.shape[0], batch_size):
            z = self.forward(x[i : i + batch_size])[-1]
            p = np.exp(z - z.max(axis=1, keepdims=True))
            parts.append(p / p.sum(axis=1, keepdims=True))
        return np.concatenate(parts)


def _im2col_3x3_same(x: np.ndarray) -> np.ndarray:
    """(n, h, w, c) -> (n * h * w, 9 * c) windows of a 3x3 'same' convolution."""
    n, h, w, c = x.shape
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    windows = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(1, 2))
    return windows.transpose(0, 1, 2, 4, 5, 3).reshape(n * h * w, 9 * c)


def _col2im_3x3_same(dcols: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    n, h, w, c = shape
    d = dcols.reshape(n, h, w, 3, 3, c)
    dxp = np.zeros((n, h + 2, w + 2, c), dtype=dcols.dtype)
    for i in range(3):
        for j in range(3):
            dxp[:, i : i + h, j : j + w, :] += d[:, :, :, i, j, :]
    return dxp[:, 1:-1, 1:-1, :]


class NumpyCNN:
    """The CNN by hand in NumPy: im2col through sliding_window_view and one GEMM per conv."""

    name = "numpy"

    def __init__(self, x: np.ndarray, y: np.ndarray, batch: int) -> None:
        rng = np.random.default_rng(0)
        self.k1 = he_normal(rng, 9 * 1, 16)
        self.k2 = he_normal(rng, 9 * 16, 32)
        self.w3 = he_normal(rng, 7 * 7 * 32, 10)
        self.b1, self.b2 = np.zeros(16, np.float32), np.zeros(32, np.float32)
        self.b3 = np.zeros(10, np.float32)
        self.x, self.y, self.batch, self.rng = x, y, batch, rng

    @staticmethod
    def _pool(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n, h, w, c = a.shape
        blocks = a.reshape(n, h // 2, 2, w // 2, 2, c)
        pooled = blocks.max(axis=(2, 4))
        return pooled, blocks == pooled[:, :, None, :, None, :]

    def _forward(self, x: np.ndarray) -> dict[str, Any]:
        n = x.shape[0]
        cols1 = _im2col_3x3_same(x)
        a1 = np.maximum(cols1 @ self.k1 + self.b1, 0).reshape(n, 28, 28, 16)
        p1, m1 = self._pool(a1)
        cols2 = _im2col_3x3_same(p1)
        a2 = np.maximum(cols2 @ self.k2 + self.b2, 0).reshape(n, 14, 14, 32)
        p2, m2 = self._pool(a2)
        flat = p2.reshape(n, -1)
        z = flat @ self.w3 + self.b3
        return dict(cols1=cols1, a1=a1, m1=m1, p1=p1, cols2=cols2, a2=a2, m2=m2, flat=flat, z=z)

    def train_epoch(self) -> None:
        n_all = self.x.shape[0]
        order = self.rng.permutation(n_all)
        for lo in range(0, n_all, self.batch):
            idx = order[lo : lo + self.batch]
            xb, yb = self.x[idx], self.y[idx]
            n = xb.shape[0]
            f = self._forward(xb)
            z = f["z"] - f["z"].max(axis=1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(axis=1, keepdims=True)
            rows = np.arange(n)
            self.loss = -np.log(p[rows, yb]).mean()
            dz = p
            dz[rows, yb] -= 1
            dz /= n
            dw3, db3 = f["flat"].T @ dz, dz.sum(axis=0)
            dp2 = (dz @ self.w3.T).reshape(n, 7, 1, 7, 1, 32)
            da2 = (f["m2"] * dp2).reshape(n * 196, 32)
            da2 *= f["a2"].reshape(n * 196, 32) > 0
            dk2, db2 = f["cols2"].T @ da2, da2.sum(axis=0)
            dp1 = _col2im_3x3_same(da2 @ self.k2.T, f["p1"].shape)
            da1 = (f["m1"] * dp1.reshape(n, 14, 1, 14, 1, 16)).reshape(n * 784, 16)
            da1 *= f["a1"].reshape(n * 784, 16) > 0
            dk1, db1 = f["cols1"].T @ da1, da1.sum(axis=0)
            for param, grad in (
                (self.w3, dw3),
                (self.b3, db3),
                (self.k2, dk2),
                (self.b2, db2),
                (self.k1, dk1),
                (self.b1, db1),
            ):
                param -= LEARNING_RATE * grad

    def predict(self, x: np.ndarray, batch_size: int) -> np.ndarray:
        return np.concatenate(
            [self._forward(x[i : i + batch_size])["z"] for i in range(0, x.shape[0], batch_size)]
        )


# ----- the seed's class -----------------------------------------------------------------------
class SeedMLP:
    """The seed notebook's NeuralNetwork (float64, as written; softmax output, see the copy)."""

    name = "seed"

    def __init__(self, sizes: list[int], x: np.ndarray, y: np.ndarray, batch: int) -> None:
        from seed_reference import SoftmaxNeuralNetwork

        np.random.seed(0)
        self.net = SoftmaxNeuralNetwork(sizes)
        # The seed works in float64 throughout: its users' data are float64 arrays.
        self.x = x.astype(np.float64)
        self.y = one_hot(y, sizes[-1], np.float64)
        self.batch = batch

    def train_epoch(self) -> None:
        self.net.fit(
            self.x, self.y, epochs=1, learning_rate=LEARNING_RATE, batch_size=self.batch,
            verbose=False,
        )  # fmt: skip

    def predict(self, x: np.ndarray, batch_size: int) -> np.ndarray:
        x = x.astype(np.float64)
        return np.concatenate(
            [self.net.predict(x[i : i + batch_size]) for i in range(0, x.shape[0], batch_size)]
        )


# ----- PyTorch ----------------------------------------------------------------------------
def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise Unavailable("PyTorch not installed (pip install torch==2.13.0)") from None
    return torch


class TorchTrainer:
    """PyTorch on the CPU, eager mode, its default thread count."""

    name = "torch"

    def __init__(
        self, net: Any, x: np.ndarray, y: np.ndarray, batch: int, images: bool = False
    ) -> None:
        torch = self.torch = _torch()
        self.net, self.images = net, images
        self.opt = torch.optim.SGD(net.parameters(), lr=LEARNING_RATE)
        self.loss_fn = torch.nn.CrossEntropyLoss()
        self.x, self.y = torch.from_numpy(self.layout(x)), torch.from_numpy(y.astype(np.int64))
        self.batch = batch

    def train_epoch(self) -> None:
        torch, n = self.torch, self.x.shape[0]
        order = torch.randperm(n)
        for lo in range(0, n, self.batch):
            idx = order[lo : lo + self.batch]
            self.opt.zero_grad(set_to_none=True)
            loss = self.loss_fn(self.net(self.x[idx]), self.y[idx])
            loss.backward()
            self.opt.step()
            self.loss = loss.item()

    def layout(self, x: np.ndarray) -> np.ndarray:
        """PyTorch wants images NCHW: they are transposed once, outside the timed region."""
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2)) if self.images else x

    def predict(self, x: np.ndarray, batch_size: int) -> np.ndarray:
        torch = self.torch
        xt = torch.from_numpy(self.layout(x))
        with torch.inference_mode():
            parts = [self.net(xt[i : i + batch_size]) for i in range(0, x.shape[0], batch_size)]
            return torch.softmax(torch.cat(parts), dim=1).numpy()


def torch_mlp(sizes: list[int], x: np.ndarray, y: np.ndarray, batch: int) -> TorchTrainer:
    torch = _torch()
    torch.manual_seed(0)
    layers: list[Any] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    return TorchTrainer(torch.nn.Sequential(*layers), x, y, batch)


def torch_cnn(x: np.ndarray, y: np.ndarray, batch: int) -> TorchTrainer:
    torch = _torch()
    torch.manual_seed(0)
    nn = torch.nn
    net = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 7 * 7, 10),
    )
    return TorchTrainer(net, x, y, batch, images=True)


# ----- JAX --------------------------------------------------------------------------------
def _jax() -> Any:
    try:
        import jax
    except ImportError:
        raise Unavailable("JAX not installed (pip install jax)") from None
    return jax


class JaxTrainer:
    """JAX on the CPU: one jit-compiled step (forward, loss, grad, SGD) per batch."""

    name = "jax"

    def __init__(self, params: Any, apply: Any, x: np.ndarray, y: np.ndarray, batch: int) -> None:
        jax = self.jax = _jax()
        import jax.numpy as jnp

        def loss_fn(params: Any, xb: Any, yb: Any) -> Any:
            logp = jax.nn.log_softmax(apply(params, xb))
            return -jnp.mean(jnp.take_along_axis(logp, yb[:, None], axis=1))

        def step(params: Any, xb: Any, yb: Any) -> Any:
            loss, grads = jax.value_and_grad(loss_fn)(params, xb, yb)
            return jax.tree_util.tree_map(lambda p, g: p - LEARNING_RATE * g, params, grads), loss

        self.step = jax.jit(step, donate_argnums=0)
        self.forward = jax.jit(lambda params, xb: jax.nn.softmax(apply(params, xb)))
        self.params = jax.tree_util.tree_map(jnp.asarray, params)
        self.x, self.y, self.batch = x, y.astype(np.int32), batch
        self.rng = np.random.default_rng(0)

    def train_epoch(self) -> None:
        n = self.x.shape[0]
        order = self.rng.permutation(n)
        for lo in range(0, n, self.batch):
            idx = order[lo : lo + self.batch]
            self.params, loss = self.step(self.params, self.x[idx], self.y[idx])
        self.loss = float(loss)  # waits for the last step

    def predict(self, x: np.ndarray, batch_size: int) -> np.ndarray:
        parts = [
            np.asarray(self.forward(self.params, x[i : i + batch_size]))
            for i in range(0, x.shape[0], batch_size)
        ]
        return np.concatenate(parts)


def jax_mlp(sizes: list[int], x: np.ndarray, y: np.ndarray, batch: int) -> JaxTrainer:
    jax = _jax()
    rng = np.random.default_rng(0)
    shapes = zip(sizes[:-1], sizes[1:])
    params = [(he_normal(rng, a, b), np.zeros(b, np.float32)) for a, b in shapes]

    def apply(params: Any, h: Any) -> Any:
        for i, (w, b) in enumerate(params):
            h = h @ w + b
            if i < len(params) - 1:
                h = jax.nn.relu(h)
        return h

    return JaxTrainer(params, apply, x, y, batch)


def jax_cnn(x: np.ndarray, y: np.ndarray, batch: int) -> JaxTrainer:
    jax = _jax()
    from jax import lax

    rng = np.random.default_rng(0)
    params = {
        "k1": he_normal(rng, 9, 16).reshape(3, 3, 1, 16),
        "b1": np.zeros(16, np.float32),
        "k2": he_normal(rng, 9 * 16, 32).reshape(3, 3, 16, 32),
        "b2": np.zeros(32, np.float32),
        "w3": he_normal(rng, 7 * 7 * 32, 10),
        "b3": np.zeros(10, np.float32),
    }
    dims = ("NHWC", "HWIO", "NHWC")

    def pool(h: Any) -> Any:
        return lax.reduce_window(h, -np.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")

    def apply(p: Any, h: Any) -> Any:
        h = lax.conv_general_dilated(h, p["k1"], (1, 1), "SAME", dimension_numbers=dims)
        h = pool(jax.nn.relu(h + p["b1"]))
        h = lax.conv_general_dilated(h, p["k2"], (1, 1), "SAME", dimension_numbers=dims)
        h = pool(jax.nn.relu(h + p["b2"]))
        return h.reshape(h.shape[0], -1) @ p["w3"] + p["b3"]

    return JaxTrainer(params, apply, x, y, batch)
