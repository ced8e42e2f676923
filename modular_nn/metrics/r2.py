"""The coefficient of determination R^2, for regression outputs."""

from __future__ import annotations

import math

import numpy as np

from modular_nn.components.metric import Metric


class R2Score(Metric):
    """R^2 = 1 - SS_res / SS_tot per output unit, averaged uniformly over units
    (scikit-learn's ``r2_score`` with ``multioutput="uniform_average"``); a unit whose
    targets are constant scores 1 when predicted exactly, else 0 (scikit-learn's
    ``force_finite``).

    Exact over batches: per unit it keeps n, sum(y), sum(y^2) and sum((y - p)^2) in
    float64 (state: those four rows, flattened; additive), and SS_tot = sum(y^2) -
    sum(y)^2 / n.
    """

    type_name = "r2"
    tasks = ("regression",)

    def reset(self) -> None:
        units = int(self.output_shape[-1]) if self.output_shape else None
        self.sums: np.ndarray | None = np.zeros((4, units)) if units else None

    def update(self, y_pred: np.ndarray, y_true: np.ndarray) -> None:
        y_pred = np.asarray(y_pred, dtype=np.float64)
        units = y_pred.shape[-1] if y_pred.ndim > 1 else 1
        if self.sums is None:
            self.sums = np.zeros((4, units))
        p = y_pred.reshape(-1, units)
        y = np.asarray(y_true, dtype=np.float64).reshape(-1, units)
        self.sums[0] += len(y)
        self.sums[1] += y.sum(axis=0)
        self.sums[2] += (y * y).sum(axis=0)
        self.sums[3] += ((y - p) ** 2).sum(axis=0)

    def result(self) -> float:
        if self.sums is None or not self.sums[0].any():
            return math.nan
        n, sum_y, sum_y2, ss_res = self.sums
        ss_tot = sum_y2 - sum_y * sum_y / n
        constant = ss_tot <= 1e-12 * np.maximum(sum_y2, 1e-300)
        safe = np.where(constant, 1.0, ss_tot)
        scores = np.where(constant, np.where(ss_res == 0, 1.0, 0.0), 1.0 - ss_res / safe)
        return float(scores.mean())

    def state(self) -> np.ndarray:
        return np.zeros(0) if self.sums is None else self.sums.reshape(-1).copy()

    def merge(self, state: np.ndarray) -> None:
        state = np.asarray(state, dtype=np.float64).reshape(-1)
        if not state.size:
            return
        if self.sums is None:
            self.sums = np.zeros((4, state.size // 4))
        self.sums += self._check_state(state, self.sums.size).reshape(self.sums.shape)
