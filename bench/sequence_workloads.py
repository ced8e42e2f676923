"""The sequence workloads of the benchmark (issue 15): LSTM, GRU and self-attention
training, modular_nn against PyTorch on the CPU.

Each workload is a JSON spec in ``bench/specs`` (the layer under test, then a small
softmax head so that there is a loss to train) and the same network written in
PyTorch. A training step is forward, softmax cross-entropy, backward and a plain
SGD update (lr 0.01), as for the other workloads; the data are standard-normal
float32 sequences with 10 random classes (throughput does not depend on the values).

- ``lstm_train_b64``: batch 64, 32 steps of 128 features, ``lstm`` with 256 units
  (the last state) -> dense 10 softmax; PyTorch ``nn.LSTM(128, 256, batch_first=True)``
  and ``nn.Linear`` on its last output.
- ``gru_train_b64``: the same with ``gru`` / ``nn.GRU``.
- ``attention_train_b32``: batch 32, 64 steps of d 128, self-attention with 4 heads of
  32 (``multi_head_attention`` / ``nn.MultiheadAttention(128, 4, batch_first=True)``),
  then the mean over time (``global_avg_pool1d``) -> dense 10 softmax.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import baselines as bl
import numpy as np


@dataclass(frozen=True)
class Workload:
    """A sequence workload: its spec in ``bench/specs``, batch size, sequence shape."""

    name: str
    spec: str
    layer: str  # the layer type under test (the workload is skipped without it)
    batch: int
    steps: int
    features: int
    note: str

    def data(self, samples: int) -> tuple[np.ndarray, np.ndarray]:
        """``samples`` random sequences ``(samples, steps, features)`` and their labels."""
        rng = np.random.default_rng(4)
        x = rng.standard_normal((samples, self.steps, self.features), dtype=np.float32)
        return x, rng.integers(0, 10, samples)


WORKLOADS = (
    Workload(
        "lstm_train_b64", "lstm", "lstm", 64, 32, 128,
        "lstm 256 units over 32 steps of 128 features, last state -> dense10; batch 64",
    ),
    Workload(
        "gru_train_b64", "gru", "gru", 64, 32, 128,
        "gru 256 units (reset_after) over 32 steps of 128 features -> dense10; batch 64",
    ),
    Workload(
        "attention_train_b32", "attention", "multi_head_attention", 32, 64, 128,
        "self-attention, 4 heads of 32, 64 steps of d 128, mean over time -> dense10; batch 32",
    ),
)  # fmt: skip


def torch_trainer(workload: Workload, x: np.ndarray, y: np.ndarray) -> bl.TorchTrainer:
    """The workload's network in PyTorch (eager, CPU, its default threads)."""
    torch = bl._torch()
    torch.manual_seed(0)
    nn = torch.nn
    features = workload.features

    class Recurrent(nn.Module):
        def __init__(self, cell: Any) -> None:
            super().__init__()
            self.rnn = cell(features, 256, batch_first=True)
            self.out = nn.Linear(256, 10)

        def forward(self, x: Any) -> Any:
            seq, _ = self.rnn(x)
            return self.out(seq[:, -1])

    class SelfAttention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.attention = nn.MultiheadAttention(features, 4, batch_first=True)
            self.out = nn.Linear(features, 10)

        def forward(self, x: Any) -> Any:
            seq, _ = self.attention(x, x, x, need_weights=False)
            return self.out(seq.mean(dim=1))

    nets = {
        "lstm": lambda: Recurrent(nn.LSTM),
        "gru": lambda: Recurrent(nn.GRU),
        "attention": SelfAttention,
    }
    return bl.TorchTrainer(nets[workload.spec](), x, y, workload.batch)
