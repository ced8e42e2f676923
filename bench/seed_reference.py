"""The seed notebook's DenseLayer and NeuralNetwork, kept as a speed reference.

Copied from ``shared/seed/000_8cde24bcead32cba.txt`` (section 2 and 3) as
written: float64 weights from the global ``np.random``, the activation chosen
by string, the update applied inside ``backward``. Only two things are added,
both needed for a 10-class softmax output (the seed's network ends in a
sigmoid with binary cross-entropy):

* ``DenseLayer._activate`` gains a ``'softmax'`` branch; its derivative falls
  through to the seed's own ``else`` branch (ones), which is right because
* ``SoftmaxNeuralNetwork`` (a subclass, the seed's class untouched) uses
  categorical cross-entropy and passes dL/dz = p - y to the last layer, the
  fused softmax + cross-entropy gradient (the seed's layers divide by the batch
  size themselves), in place of the seed's sigmoid/BCE ``da``.

Everything else (forward, backward, fit with ``np.random.permutation`` and
per-batch fancy indexing) is the seed's code.
"""

from __future__ import annotations

from typing import List  # noqa: UP035 - as written in the seed

import numpy as np


class DenseLayer:
    """
    Fully connected layer.

    Shape:
    - Input: (batch_size, n_inputs)
    - Output: (batch_size, n_outputs)
    - Weights: (n_inputs, n_outputs)
    """

    def __init__(self, n_inputs: int, n_outputs: int, activation: str = "relu"):
        self.W = np.random.randn(n_inputs, n_outputs) * np.sqrt(2.0 / n_inputs)
        self.b = np.zeros(n_outputs)
        self.activation = activation

    def _activate(self, z: np.ndarray) -> np.ndarray:
        if self.activation == "relu":
            return np.maximum(0, z)
        elif self.activation == "sigmoid":
            return 1 / (1 + np.exp(-np.clip(z, -500, 500)))
        elif self.activation == "tanh":
            return np.tanh(z)
        elif self.activation == "softmax":  # added for the benchmark (see module docstring)
            e = np.exp(z - z.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)
        else:
            return z

    def _activate_derivative(self, z: np.ndarray) -> np.ndarray:
        if self.activation == "relu":
            return (z > 0).astype(float)
        elif self.activation == "sigmoid":
            s = self._activate(z)
            return s * (1 - s)
        elif self.activation == "tanh":
            return 1 - np.tanh(z) ** 2
        else:
            return np.ones_like(z)

    def forward(self, X: np.ndarray) -> np.ndarray:
        self.X = X
        self.z = X @ self.W + self.b
        self.a = self._activate(self.z)
        return self.a

    def backward(self, da: np.ndarray, learning_rate: float) -> np.ndarray:
        batch_size = self.X.shape[0]
        dz = da * self._activate_derivative(self.z)
        dW = (self.X.T @ dz) / batch_size
        db = np.sum(dz, axis=0) / batch_size
        dX = dz @ self.W.T
        self.W -= learning_rate * dW
        self.b -= learning_rate * db
        return dX


class NeuralNetwork:
    def __init__(self, layer_sizes: List[int], activation: str = "relu"):  # noqa: UP006
        self.layers = []
        for i in range(len(layer_sizes) - 1):
            act = "sigmoid" if i == len(layer_sizes) - 2 else activation
            layer = DenseLayer(layer_sizes[i], layer_sizes[i + 1], act)
            self.layers.append(layer)

    def forward(self, X: np.ndarray) -> np.ndarray:
        a = X
        for layer in self.layers:
            a = layer.forward(a)
        return a

    def compute_loss(self, y_pred: np.ndarray, y_true: np.ndarray) -> float:
        eps = 1e-10
        y_pred = np.clip(y_pred, eps, 1 - eps)
        loss = -np.mean(y_true * np.log(y_pred) + (1 - y_true) * np.log(1 - y_pred))
        return loss

    def backward(self, y_pred: np.ndarray, y_true: np.ndarray, learning_rate: float):
        eps = 1e-10
        y_pred = np.clip(y_pred, eps, 1 - eps)
        da = (y_pred - y_true) / (y_pred * (1 - y_pred) + eps)
        for layer in reversed(self.layers):
            da = layer.backward(da, learning_rate)

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        epochs: int = 100,
        learning_rate: float = 0.01,
        batch_size: int = 32,
        verbose: bool = True,
    ):
        n_samples = X.shape[0]
        history = []
        for epoch in range(epochs):
            indices = np.random.permutation(n_samples)
            epoch_loss = 0
            n_batches = 0
            for start in range(0, n_samples, batch_size):
                batch_idx = indices[start : start + batch_size]
                X_batch = X[batch_idx]
                y_batch = y[batch_idx]
                y_pred = self.forward(X_batch)
                loss = self.compute_loss(y_pred, y_batch)
                epoch_loss += loss
                n_batches += 1
                self.backward(y_pred, y_batch, learning_rate)
            avg_loss = epoch_loss / n_batches
            history.append(avg_loss)
            if verbose and (epoch + 1) % 100 == 0:
                print(f"Epoch {epoch + 1}/{epochs}, Loss: {avg_loss:.4f}")
        return history

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.forward(X)


class SoftmaxNeuralNetwork(NeuralNetwork):
    """The seed's network with a softmax output and categorical cross-entropy (bench only)."""

    def __init__(self, layer_sizes: List[int], activation: str = "relu"):  # noqa: UP006
        super().__init__(layer_sizes, activation)
        self.layers[-1].activation = "softmax"

    def compute_loss(self, y_pred: np.ndarray, y_true: np.ndarray) -> float:
        eps = 1e-10
        return -np.mean(np.sum(y_true * np.log(np.clip(y_pred, eps, 1.0)), axis=1))

    def backward(self, y_pred: np.ndarray, y_true: np.ndarray, learning_rate: float):
        da = y_pred - y_true  # dL/dz of softmax + CE (times the batch size)
        for layer in reversed(self.layers):
            da = layer.backward(da, learning_rate)
