"""Input validation shared by every public function of :mod:`verify`.

Every check raises :class:`InputError` (a subclass of both :class:`ValueError` and
:class:`TypeError`, so ``except ValueError`` keeps working) with a message that names the
offending argument, so that bad input never turns into a silent wrong number. The command
line reports :class:`InputError` as bad input (exit 2) and lets every other exception
surface as a traceback: an internal bug must never pass for a user's mistake.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

__all__ = [
    "InputError",
    "as_array",
    "as_matrix",
    "as_unit_rows",
    "row_norms",
    "check_paired",
    "check_positive",
    "check_nonnegative",
    "check_int_in_range",
    "check_orthonormal",
    "check_angle",
    "check_indices",
]


class InputError(ValueError, TypeError):
    """Bad input from the caller (wrong type, shape, value, file); the message names it.

    The project's one input-error type: every validation raises it. It derives from both
    ValueError and TypeError, the types scikit-learn/numpy users expect for bad values and
    bad types.
    """


def as_array(value: Any, name: str, *, ndim: int | None = None, dtype=np.float64) -> np.ndarray:
    """Convert ``value`` to a finite float array, checking its number of dimensions.

    Raises TypeError for non-numeric input, ValueError for a wrong ``ndim``, an empty
    array, or NaN/inf entries. The message names ``name``.
    """
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor
        value = value.detach().cpu().numpy()
    try:
        arr = np.asarray(value)
    except Exception as exc:  # pragma: no cover - numpy raises for ragged input
        raise InputError(f"{name} must be array-like of numbers: {exc}") from exc
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)
    ):
        raise InputError(f"{name} must be an array of real numbers, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise InputError(f"{name} must be real, got complex dtype {arr.dtype}")
    arr = arr.astype(dtype, copy=False)
    if ndim is not None and arr.ndim != ndim:
        raise InputError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")
    if arr.size == 0:
        raise InputError(f"{name} is empty (shape {arr.shape})")
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise InputError(f"{name} contains {bad} NaN or infinite value(s)")
    return arr


def as_matrix(value: Any, name: str, *, min_rows: int = 1, dtype=np.float64) -> np.ndarray:
    """A finite 2-D float array with at least ``min_rows`` rows (rows = samples)."""
    arr = as_array(value, name, ndim=2, dtype=dtype)
    if arr.shape[0] < min_rows:
        raise InputError(f"{name} needs at least {min_rows} rows, got {arr.shape[0]}")
    return arr


def row_norms(A: np.ndarray) -> np.ndarray:
    """Euclidean norm of each row of a finite 2-D float array, without overflow.

    ``|a_i| = sqrt(sum_j a_ij^2)`` in the array's dtype; rows whose sum of squares
    overflows (float32 entries above ~1e19, float64 above ~1e154) are recomputed as
    ``m_i |a_i / m_i|`` with ``m_i = max_j |a_ij|`` (the scaling of LAPACK's ``xNRM2``,
    Blue 1978), so finite values of any magnitude have a finite norm.
    """
    norms = np.sqrt(np.einsum("ij,ij->i", A, A))
    bad = np.flatnonzero(~np.isfinite(norms))
    if bad.size:
        sub = A[bad]
        m = np.max(np.abs(sub), axis=1)
        scaled = sub / m[:, None]
        norms[bad] = m * np.sqrt(np.einsum("ij,ij->i", scaled, scaled))
    return norms


def as_unit_rows(
    value: Any,
    name: str,
    *,
    normalize: bool = False,
    atol: float = 1e-6,
    min_rows: int = 1,
    dtype=np.float64,
) -> np.ndarray:
    """Rows on the unit sphere: x_i / |x_i|.

    With ``normalize=False`` (default) rows must already have unit norm within ``atol``;
    with ``normalize=True`` they are divided by their norm (:func:`row_norms`: finite rows
    of any magnitude, e.g. 1e25 in float32 or 1e200 in float64, are normalised, not
    mistaken for zero rows). A zero (or sub-1e-12) row is
    always an error, since its direction is undefined.
    """
    arr = as_matrix(value, name, min_rows=min_rows, dtype=dtype)
    norms = row_norms(arr)
    tiny = np.flatnonzero(norms < 1e-12)
    if tiny.size:
        raise InputError(
            f"{name} has {tiny.size} zero row(s) (first at index {int(tiny[0])}); "
            "a zero vector has no direction on the sphere"
        )
    if normalize:
        return arr / norms[:, None]
    dev = float(np.max(np.abs(norms - 1.0)))
    if dev > atol:
        raise InputError(
            f"{name} rows must be unit vectors (max |norm - 1| = {dev:.3g} > {atol:g}); "
            "pass normalize=True to normalise them explicitly"
        )
    return arr


def check_paired(X: np.ndarray, Y: np.ndarray, names: tuple[str, str] = ("X", "Y")) -> None:
    """Raise ValueError unless X and Y have the same shape (row i of X pairs row i of Y)."""
    if X.shape != Y.shape:
        raise InputError(
            f"{names[0]} and {names[1]} must have the same shape (paired rows), "
            f"got {X.shape} and {Y.shape}"
        )


def _as_real_scalar(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        arr = np.asarray(value)
        if arr.ndim != 0 or not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
            raise InputError(f"{name} must be a real number, got {value!r}")
        value = arr.item()
    out = float(value)
    if not np.isfinite(out):
        raise InputError(f"{name} must be finite, got {out}")
    return out


def check_positive(value: Any, name: str) -> float:
    """A finite real number > 0 (e.g. the temperature tau)."""
    out = _as_real_scalar(value, name)
    if out <= 0:
        raise InputError(f"{name} must be > 0, got {out}")
    return out


def check_nonnegative(value: Any, name: str) -> float:
    """A finite real number >= 0 (e.g. a vMF concentration kappa)."""
    out = _as_real_scalar(value, name)
    if out < 0:
        raise InputError(f"{name} must be >= 0, got {out}")
    return out


def check_int_in_range(value: Any, name: str, low: int, high: int) -> int:
    """An integer with low <= value <= high (e.g. a subspace dimension 1 <= k <= h)."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
        raise InputError(f"{name} must be an integer, got {value!r}")
    out = int(value)
    if not low <= out <= high:
        raise InputError(f"{name} must satisfy {low} <= {name} <= {high}, got {out}")
    return out


def check_angle(value: Any, name: str, *, low: float = 0.0, high: float = np.pi / 2) -> float:
    """An angle in radians inside [low, high] (default [0, pi/2], a principal angle)."""
    out = _as_real_scalar(value, name)
    if not low <= out <= high:
        raise InputError(f"{name} must lie in [{low:.6g}, {high:.6g}] radians, got {out:.6g}")
    return out


def check_orthonormal(Q: Any, name: str, *, h: int | None = None, atol: float = 1e-8) -> np.ndarray:
    """An h x k matrix with orthonormal columns (Q^T Q = I_k within ``atol``), k <= h."""
    arr = as_matrix(Q, name)
    if h is not None and arr.shape[0] != h:
        raise InputError(f"{name} must have {h} rows (ambient dimension), got {arr.shape[0]}")
    if arr.shape[1] > arr.shape[0]:
        raise InputError(
            f"{name} has more columns ({arr.shape[1]}) than rows ({arr.shape[0]}); "
            "a basis of a subspace of R^h has at most h vectors"
        )
    err = float(np.max(np.abs(arr.T @ arr - np.eye(arr.shape[1]))))
    if err > atol:
        raise InputError(f"{name} must have orthonormal columns (max |Q^T Q - I| = {err:.3g})")
    return arr


def check_indices(idx: np.ndarray, high: int, label: str, what: str, name: str) -> None:
    """Raise InputError unless every entry of the int array ``idx`` lies in [0, high).

    The message names ``label`` (the argument or file) and the first offender as
    ``name[j]``; ``what`` says what the indices point at, e.g. "image rows".
    """
    bad = np.flatnonzero((idx < 0) | (idx >= high))
    if bad.size:
        j = int(bad[0])
        raise InputError(
            f"{label}: {bad.size} index(es) out of range [0, {high}) for {high} {what} "
            f"(first: {name}[{j}] = {int(idx[j])})"
        )
