"""Symmetric InfoNCE, the CLIP objective (docs/theory.md §1 of the seed paper).

    L_N(X, Y) = (1/N) sum_i [ -log softmax_j(x_i . y_j / tau)_i - log softmax_j(y_i . x_j / tau)_i ]
              = (1/N) sum_i [ -2 s_ii / tau + LSE_j(s_ij / tau) + LSE_j(s_ji / tau) ],

with S = X Y^T, the positive pair included in each denominator (Radford et al. 2021;
Yi, Douady & Chen, arXiv 2510.03268, §2). Euclidean gradient, with P the row-softmax and
Q the column-softmax of S / tau:

    G = dL/dS = (P + Q - 2 I) / (N tau),   dL/dX = G Y,   dL/dY = G^T X.

The numpy functions are the float64 reference. The torch functions compute the same in
row chunks of S (memory O(chunk * N) instead of O(N^2)), on CPU or CUDA, float32 or
float64, with an autograd-aware wrapper whose backward recomputes the chunks.
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp

from ._validation import InputError, as_unit_rows, check_paired, check_positive

__all__ = [
    "infonce",
    "infonce_and_grad",
    "infonce_torch",
    "infonce_and_grad_torch",
]


def _validated(X, Y, tau, normalize: bool):
    X = as_unit_rows(X, "X", normalize=normalize)
    Y = as_unit_rows(Y, "Y", normalize=normalize)
    check_paired(X, Y)
    tau = check_positive(tau, "tau")
    return X, Y, tau


def _loss_and_grad(X: np.ndarray, Y: np.ndarray, tau: float, want_grad: bool):
    n = X.shape[0]
    Z = (X @ Y.T) / tau
    row_lse = logsumexp(Z, axis=1)
    col_lse = logsumexp(Z, axis=0)
    loss = float(np.mean(row_lse + col_lse - 2.0 * np.diag(Z)))
    if not want_grad:
        return loss, None, None
    G = np.exp(Z - row_lse[:, None]) + np.exp(Z - col_lse[None, :])
    G[np.diag_indices(n)] -= 2.0
    G /= n * tau
    return loss, G @ Y, G.T @ X


def infonce(X, Y, tau: float, *, normalize: bool = False) -> float:
    """Symmetric InfoNCE L_N(X, Y) (formula in the module docstring), float64.

    X, Y: (N, h) paired rows, unit norm (or ``normalize=True``); tau > 0. Stable through
    log-sum-exp for tau down to 1e-3 and any h.
    """
    X, Y, tau = _validated(X, Y, tau, normalize)
    return _loss_and_grad(X, Y, tau, want_grad=False)[0]


def infonce_and_grad(
    X, Y, tau: float, *, normalize: bool = False
) -> tuple[float, np.ndarray, np.ndarray]:
    """L_N(X, Y) and its Euclidean gradients (dL/dX, dL/dY) = (G Y, G^T X).

    G = (P + Q - 2I)/(N tau), P row-softmax and Q column-softmax of X Y^T / tau. The
    gradient is with respect to X, Y as points of R^{N x h}; the Riemannian gradient on
    the sphere is its tangent part g - (g . x) x (see verify.solvers).
    """
    X, Y, tau = _validated(X, Y, tau, normalize)
    return _loss_and_grad(X, Y, tau, want_grad=True)


# ----------------------------------------------------------------------------- torch


def _check_torch_inputs(X, Y, tau):
    import torch

    for name, T in (("X", X), ("Y", Y)):
        if not isinstance(T, torch.Tensor):
            raise InputError(f"{name} must be a torch.Tensor, got {type(T).__name__}")
        if T.ndim != 2:
            raise InputError(f"{name} must be 2-dimensional, got shape {tuple(T.shape)}")
        if not T.is_floating_point():
            raise InputError(f"{name} must be a floating tensor, got {T.dtype}")
        if not bool(torch.isfinite(T).all()):
            raise InputError(f"{name} contains NaN or infinite values")
        norms = T.detach().norm(dim=1)
        atol = 1e-4 if T.dtype in (torch.float32, torch.float16, torch.bfloat16) else 1e-8
        dev = float((norms - 1).abs().max())
        if dev > atol:
            raise InputError(
                f"{name} rows must be unit vectors (max |norm - 1| = {dev:.3g} > {atol:g})"
            )
    if X.shape != Y.shape:
        raise InputError(
            f"X and Y must have the same shape, got {tuple(X.shape)} and {tuple(Y.shape)}"
        )
    if X.dtype != Y.dtype or X.device != Y.device:
        raise InputError("X and Y must share dtype and device")
    return check_positive(tau, "tau")


def _default_chunk(n: int, budget_elems: int = 2**25) -> int:
    return max(1, min(n, budget_elems // max(n, 1)))


def _lse_rows_cols(X, Y, tau: float, chunk: int):
    """Row and column log-sum-exp of X Y^T / tau, computed in row chunks."""
    import torch

    n = X.shape[0]
    row_lse = torch.empty(n, dtype=X.dtype, device=X.device)
    col_lse = torch.empty(n, dtype=X.dtype, device=X.device)
    for s in range(0, n, chunk):
        row_lse[s : s + chunk] = torch.logsumexp((X[s : s + chunk] @ Y.T) / tau, dim=1)
        col_lse[s : s + chunk] = torch.logsumexp((Y[s : s + chunk] @ X.T) / tau, dim=1)
    return row_lse, col_lse


def _torch_loss_and_grad(X, Y, tau: float, chunk: int, want_grad: bool):
    import torch

    n = X.shape[0]
    row_lse, col_lse = _lse_rows_cols(X, Y, tau, chunk)
    diag = (X * Y).sum(dim=1) / tau
    loss = (row_lse + col_lse - 2.0 * diag).mean()
    if not want_grad:
        return loss, None, None
    gX = torch.empty_like(X)
    gY = torch.zeros_like(Y)
    for s in range(0, n, chunk):
        Z = (X[s : s + chunk] @ Y.T) / tau
        G = torch.exp(Z - row_lse[s : s + chunk, None]) + torch.exp(Z - col_lse[None, :])
        idx = torch.arange(G.shape[0], device=X.device)
        G[idx, idx + s] -= 2.0
        G /= n * tau
        gX[s : s + chunk] = G @ Y
        gY += G.T @ X[s : s + chunk]
    return loss, gX, gY


def infonce_and_grad_torch(X, Y, tau: float, *, chunk: int | None = None):
    """Torch twin of :func:`infonce_and_grad`: (loss tensor, dL/dX, dL/dY), no autograd.

    Works on CPU or CUDA in float32 or float64. S = X Y^T is formed ``chunk`` rows at a
    time (default: about 2^25 entries per block), so N = 16384, h = 512 needs well under
    2 GB. Inputs must be unit-norm rows (atol 1e-4 in float32, 1e-8 in float64).
    """
    import torch

    tau = _check_torch_inputs(X, Y, tau)
    chunk = chunk or _default_chunk(X.shape[0])
    with torch.no_grad():
        return _torch_loss_and_grad(X.detach(), Y.detach(), tau, chunk, want_grad=True)


def infonce_torch(X, Y, tau: float, *, chunk: int | None = None):
    """Torch twin of :func:`infonce` that supports autograd with chunked memory.

    The forward pass stores only the row/column log-sum-exp vectors; the backward pass
    recomputes S chunk by chunk and applies dL/dX = G Y, dL/dY = G^T X (module docstring).
    Returns a 0-dim tensor. Inputs must be unit-norm rows; to train through a
    normalisation, normalise first (torch.nn.functional.normalize) and pass the result.
    """
    import torch

    tau = _check_torch_inputs(X, Y, tau)
    chunk = chunk or _default_chunk(X.shape[0])

    class _InfoNCE(torch.autograd.Function):
        @staticmethod
        def forward(ctx, Xin, Yin):
            ctx.save_for_backward(Xin, Yin)
            with torch.no_grad():
                return _torch_loss_and_grad(Xin, Yin, tau, chunk, want_grad=False)[0]

        @staticmethod
        def backward(ctx, grad_out):
            Xin, Yin = ctx.saved_tensors
            with torch.no_grad():
                _, gX, gY = _torch_loss_and_grad(Xin, Yin, tau, chunk, want_grad=True)
            return grad_out * gX, grad_out * gY

    return _InfoNCE.apply(X, Y)
