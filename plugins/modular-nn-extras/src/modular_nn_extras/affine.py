"""The affine map both gated layers use, z = x W + b on the last axis, and its backward."""

from __future__ import annotations

import numpy as np


def affine(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """z = x W + b, with W of shape ``(in, out)`` applied on the last axis of ``x``."""
    z = x @ kernel
    z += bias
    return z


def affine_backward(
    x: np.ndarray,
    dz: np.ndarray,
    kernel: np.ndarray,
    grad_kernel: np.ndarray,
    grad_bias: np.ndarray,
) -> np.ndarray:
    """Fill dL/dW = x^T dz and dL/db = sum over samples of dz in place; return dz W^T.

    Inputs of any rank are flattened to rows first (every axis but the last is
    a batch of rows).
    """
    rows_x = x.reshape(-1, x.shape[-1])
    rows_dz = dz.reshape(-1, dz.shape[-1])
    np.matmul(rows_x.T, rows_dz, out=grad_kernel)
    np.sum(rows_dz, axis=0, out=grad_bias)
    return dz @ kernel.T
