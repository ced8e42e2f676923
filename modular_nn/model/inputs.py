"""Checking user arrays before they reach the layers."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from modular_nn.errors import DataError

#: Row length of the matrix that ``all_finite`` multiplies by a vector of ones.
ROW = 1024


@cache
def _ones(dtype: np.dtype) -> np.ndarray:
    ones = np.ones(ROW, dtype)
    ones.flags.writeable = False
    return ones


def all_finite(arr: np.ndarray) -> bool:
    """True when no element is NaN or infinite, in one pass and without a temporary.

    A sum holding a NaN or an infinity is NaN or infinite, so finite sums settle it.
    A contiguous float32 or float64 array is summed in rows of ``ROW`` elements by a
    matrix-vector product with a vector of ones: BLAS streams the array on every core
    in vector registers, about 10x as fast as ``np.sum`` (a NaN or an infinity times
    one stays one, and no element is skipped: no factor is zero). Other arrays are
    summed by ``np.add.reduce``. A sum that is not finite may only have overflowed:
    then ``min`` and ``max`` decide (NaN propagates through both, and an infinity is
    one of them).
    """
    arr = np.asarray(arr)
    if arr.dtype.kind not in "fc" or arr.size == 0:
        return True
    if arr.dtype.kind == "c":  # min/max order complex numbers by their real parts first
        return all_finite(arr.real) and all_finite(arr.imag)
    with np.errstate(over="ignore", invalid="ignore"):
        if _sums_finite(arr):
            return True
    return bool(np.isfinite(arr.min()) and np.isfinite(arr.max()))


def _sums_finite(arr: np.ndarray) -> bool:
    if (
        arr.size >= ROW
        and arr.dtype in (np.float32, np.float64)
        and (arr.flags.c_contiguous or arr.flags.f_contiguous)
    ):
        flat = arr.ravel(order="K")  # a view: the array is contiguous
        body = flat.size - flat.size % ROW
        row_sums = flat[:body].reshape(-1, ROW) @ _ones(arr.dtype)
        return bool(np.isfinite(row_sums).all() and np.isfinite(np.add.reduce(flat[body:])))
    wider = np.float32 if arr.dtype == np.float16 else None  # float16 sums overflow early
    return bool(np.isfinite(np.add.reduce(arr, axis=None, dtype=wider)))


def _shape_text(shape: tuple[int, ...]) -> str:
    return "(n, " + ", ".join(str(d) for d in shape) + ")"


def prepare_inputs(
    x: Any,
    input_shape: tuple[int, ...],
    dtype: np.dtype,
    *,
    integer_input: bool = False,
    check_finite: bool = True,
) -> np.ndarray:
    """``x`` as a C-contiguous array of the model's dtype, checked for shape and (unless
    ``check_finite`` is false: the caller checks each batch with ``require_finite``)
    finiteness."""
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as exc:
        raise DataError(f"inputs must be a numeric array, could not convert: {exc}") from None
    if arr.dtype.kind not in "biuf":
        raise DataError(f"inputs must be numeric, received an array of dtype {arr.dtype}")
    if arr.ndim == len(input_shape) and arr.shape == tuple(input_shape):
        raise DataError(
            f"expected a batch of inputs of shape {_shape_text(input_shape)}, received a single "
            f"sample of shape {arr.shape}; add the batch axis (x[None])"
        )
    if tuple(arr.shape[1:]) != tuple(input_shape):
        raise DataError(
            f"expected inputs of shape {_shape_text(input_shape)}, received {arr.shape}"
        )
    if integer_input and arr.dtype.kind in "biu":
        return np.ascontiguousarray(arr)
    # checked in the model's dtype: a float64 value beyond float32's range is an
    # infinity to a float32 model (predict checks its batches of this same array)
    with np.errstate(over="ignore"):
        arr = np.ascontiguousarray(arr, dtype=dtype)
    if check_finite:
        require_finite(arr)
    return arr


def require_finite(batch: np.ndarray, whole: np.ndarray | None = None) -> None:
    """``DataError`` if ``batch`` holds a NaN or an infinity; the message counts them in
    ``whole`` (the array ``batch`` was cut from, default ``batch`` itself)."""
    if not all_finite(batch):
        arr = batch if whole is None else whole
        bad = int(np.count_nonzero(~np.isfinite(arr)))
        raise DataError(
            f"inputs contain {bad} NaN or infinite value(s) in {arr.dtype}; clean the data first"
        )


def check_same_length(x: np.ndarray, y: np.ndarray) -> None:
    """Inputs and targets must have one row per sample each."""
    y_len = np.shape(y)[0] if np.ndim(y) else None
    if y_len != x.shape[0]:
        raise DataError(
            f"inputs and targets differ in length: x has {x.shape[0]} samples, "
            f"y has {y_len if y_len is not None else 'no sample axis'}"
        )


def check_finite_targets(y: np.ndarray) -> None:
    """Targets with NaN or Inf would poison the loss."""
    if not all_finite(y):
        raise DataError(
            f"targets contain NaN or infinite values in {y.dtype}; clean the data first"
        )


def integer_indices(values: Any, limit: int, what: str, bound: str) -> np.ndarray:
    """``values`` as an ``intp`` array of whole numbers in ``[0, limit)`` (class labels, ids).

    ``what`` names the values in messages ("embedding ids"); ``bound`` says where
    the limit comes from ("input_dim=1000", "a 10-class output").
    """
    arr = np.asarray(values)
    if arr.dtype.kind == "f":
        if not all_finite(arr) or np.any(arr != np.round(arr)):
            raise DataError(f"{what} must be whole numbers")
    elif arr.dtype.kind not in "iub":
        raise DataError(f"{what} must be integers, received dtype {arr.dtype}")
    indices = arr.astype(np.intp, copy=False)
    if indices.size and (indices.min() < 0 or indices.max() >= limit):
        raise DataError(
            f"{what} must be in [0, {limit}) for {bound}, received values from "
            f"{indices.min()} to {indices.max()}"
        )
    return indices
