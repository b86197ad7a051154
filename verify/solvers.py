"""Minimise symmetric InfoNCE L_N over paired unit vectors under a constraint.

The claims of Yi, Douady & Chen (arXiv 2510.03268, Theorems 1-4) are about the minimiser
of L_N(X, Y) = (1/N) sum_i [ -log softmax_j(x_i . y_j / tau)_i - log softmax_j(y_i . x_j / tau)_i ]
(docs/theory.md §1) over (X, Y) in a feasible set of :mod:`verify.constraints`. This module
finds it and says how sure it is:

- ``method="lbfgs"``: Riemannian L-BFGS (Huang, Gallivan & Absil, SIAM J. Optim. 25 (2015);
  Boumal, An Introduction to Optimization on Smooth Manifolds, 2023, §8) on the product of
  spheres of the constraint's lift; numpy float64; reaches a stationarity of 1e-9 on small
  cases. Our own implementation, not pymanopt's or geoopt's: the problem is a product of
  spheres with an analytic gradient, so the whole method is ~100 lines with no autodiff
  overhead; pymanopt's L-BFGS-free solvers (steepest descent, CG, trust regions) need an
  autodiff backend per call, and geoopt warns at import under torch 2.13.
- ``method="rgd"``: the reference, projected Riemannian gradient descent with
  Barzilai-Borwein steps and a non-monotone Armijo search (the spectral projected gradient
  of Birgin, Martinez & Raydan, SIAM J. Optim. 10 (2000)); steps x <- P(x - t grad) with
  P = ``constraint.project`` (exact nearest point). With variable cap centres there is no
  closed-form projection onto {(x, c): x . c >= cos alpha}, so rgd runs the same
  gradient descent on the lift instead (see verify.constraints).
- ``method="torch"``: the same L-BFGS in torch, CPU or CUDA, float32 or float64, for scale.

Every start is checked at the end in numpy float64 with the reference objective
:func:`verify.objective.infonce_and_grad`: ``grad_norm`` is the first-order KKT residual
:meth:`verify.constraints.Constraint.stationarity` (Riemannian gradient norm without caps;
norm of the projected gradient, multipliers mu >= 0 fitted by NNLS, with caps), and
``converged`` is True only if the run stopped on its own test and this final check is
<= tol with constraint violation <= 1e-12.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from scipy.linalg.blas import daxpy as _daxpy
from scipy.linalg.lapack import dtrtrs as _dtrtrs

from ._validation import InputError, check_int_in_range, check_positive
from .constraints import Constraint, FeasibleSet
from .objective import infonce_and_grad, infonce_and_grad_torch
from .observables import GapObservables
from .settings import FEAS_TOL, KKT_CHECK_MAX_GAP, KKT_CHECK_NEAR

__all__ = [
    "solve",
    "SolveResult",
    "StartRecord",
    "loss_and_grad",
    "final_check",
    "result_from_finals",
    "check_feasible_set",
]

_DEFAULT_MAX_ITER = {"lbfgs": 5000, "torch": 5000, "rgd": 50000}


# ----------------------------------------------------------------------------- objective


def loss_and_grad(X: np.ndarray, Y: np.ndarray, tau: float) -> tuple[float, np.ndarray, np.ndarray]:
    """Symmetric InfoNCE and its Euclidean gradient, fast float64 kernel (no validation).

    With E = exp(X Y^T / tau) (entries in [e^{-1/tau}, e^{1/tau}] for unit rows, so for
    1 / tau <= 300 neither overflow nor underflow in float64), r = E 1, c = E^T 1:
    L = (1/N) sum_i [log r_i + log c_i] - (2 / (N tau)) sum_i x_i . y_i,
    G = (diag(1/r) E + E diag(1/c) - 2 I) / (N tau) = E o (a 1^T + 1 b^T) - 2 I / (N tau)
    with a = 1 / (N tau r), b = 1 / (N tau c); dL/dX = G Y, dL/dY = G^T X
    (the formulas of verify.objective, docs/theory.md §1). One exponential per entry and three
    N x N x h products, the minimum for the loss and both gradients.
    For 1 / tau > 300 it defers to :func:`verify.objective.infonce_and_grad`.
    """
    return _loss_grad_numpy(X, Y, float(tau))


_LOCAL = threading.local()


def _workspace(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Two N x N float64 buffers, reused across calls with the same N (one set per thread):
    re-allocating 2 N^2 doubles each call costs page faults comparable to the exp pass."""
    ws = getattr(_LOCAL, "ws", None)
    if ws is None or ws[0].shape[0] != n:
        ws = (np.empty((n, n)), np.empty((n, n)))
        _LOCAL.ws = ws
    return ws


def release_workspace() -> None:
    """Free the N x N buffers kept by the numpy kernel in this thread."""
    _LOCAL.ws = None


def _loss_grad_numpy(X: np.ndarray, Y: np.ndarray, tau: float):
    n = X.shape[0]
    inv = 1.0 / tau
    if inv > 300.0:
        return infonce_and_grad(X, Y, tau)
    Z, P = _workspace(n)
    np.matmul(X * inv, Y.T, out=Z)
    np.exp(Z, out=Z)
    r = Z.sum(axis=1)
    c = Z.sum(axis=0)
    diag = np.einsum("ij,ij->i", X, Y)
    loss = float((np.log(r).sum() + np.log(c).sum()) / n - 2.0 * inv * diag.mean())
    # E o (a 1^T + 1 b^T) in two passes over N x N (write P, then Z *= P)
    np.add((1.0 / (n * tau * r))[:, None], (1.0 / (n * tau * c))[None, :], out=P)
    Z *= P
    k = 2.0 / (n * tau)
    gX = Z @ Y
    gX -= k * Y
    gY = Z.T @ X
    gY -= k * X
    return loss, gX, gY


def _loss_grad_torch(X, Y, tau: float):
    """Torch twin of :func:`loss_and_grad` (same formulas, but with E = exp((S - 1) / tau),
    entries <= 1, so that float32 cannot overflow; the shift cancels in G and adds 2 / tau
    to L); chunked reference beyond 2^28 entries or when E could underflow in the working
    precision."""
    import torch

    n = X.shape[0]
    inv = 1.0 / tau
    limit = 600.0 if X.dtype == torch.float64 else 80.0
    if 2.0 * inv > limit or n * n > 2**28:
        loss, gX, gY = infonce_and_grad_torch(X, Y, tau)
        return float(loss), gX, gY
    Z = (X * inv) @ Y.T
    Z -= inv
    Z.exp_()
    r = Z.sum(dim=1)
    c = Z.sum(dim=0)
    diag = (X * Y).sum(dim=1)
    loss = float((r.log().sum() + c.log().sum()) / n + 2.0 * inv - 2.0 * inv * diag.mean())
    ar = 1.0 / (n * tau * r)
    ac = 1.0 / (n * tau * c)
    Z *= ar[:, None] + ac[None, :]
    k = 2.0 / (n * tau)
    gX = Z @ Y - k * Y
    gY = Z.T @ X - k * X
    return loss, gX, gY


# ----------------------------------------------------------------------------- product of spheres


class _Layout:
    """Points and tangent vectors of a product of spheres stored as one flat array.

    Block b is an (m_b, d_b) matrix of unit rows (m_b spheres S^{d_b - 1}); the flat array
    works for numpy and torch alike (views by slicing and reshape).
    """

    def __init__(self, shapes: Sequence[tuple[int, int]]):
        self.shapes = list(shapes)
        self.offsets = []
        o = 0
        for m, d in self.shapes:
            self.offsets.append(o)
            o += m * d
        self.size = o
        widths = {d for _, d in self.shapes}
        #: the common row length when every block has the same d (then the row-wise
        #: operations below run on the whole flat array at once; same arithmetic per row)
        self.row_width = widths.pop() if len(widths) == 1 else None

    def _rows(self, v) -> list:
        """The rows of v: one (sum m_b, d) view when the blocks share d, else the blocks."""
        return [v.reshape(-1, self.row_width)] if self.row_width else self.split(v)

    def split(self, v) -> list:
        return [
            v[o : o + m * d].reshape(m, d)
            for o, (m, d) in zip(self.offsets, self.shapes, strict=True)
        ]

    def join(self, blocks: list):
        if _is_torch(blocks[0]):
            import torch

            return torch.cat([b.reshape(-1) for b in blocks])
        return np.concatenate([np.ravel(b) for b in blocks])

    def proj(self, x, v):
        """Tangent projection v - (v . x) x, row by row."""
        out = v.clone() if _is_torch(v) else v.copy()
        for xb, ob in zip(self._rows(x), self._rows(out), strict=True):
            ob -= (ob * xb).sum(-1)[:, None] * xb
        return out

    def retract(self, x, v):
        """Metric projection retraction R_x(v) = (x + v) / |x + v|, row by row."""
        out = x + v
        for ob in self._rows(out):
            ob /= ((ob * ob).sum(-1) ** 0.5)[:, None]
        return out

    def max_row(self, v) -> float:
        """The largest row norm of v."""
        return max(float(((b * b).sum(-1)).max()) ** 0.5 for b in self._rows(v))


def _is_torch(a: Any) -> bool:
    return type(a).__module__.startswith("torch")


def _dot(u, v) -> float:
    return float(u @ v)


def _axpy(a: float, x, y):
    """y <- a x + y in place (BLAS daxpy for numpy float64; Tensor.add_ for torch)."""
    if _is_torch(y):
        return y.add_(x, alpha=a)
    return _daxpy(x, y, a=a)


# ----------------------------------------------------------------------------- optimisers


@dataclass
class _Run:
    x: Any
    f: float
    n_iter: int
    n_fev: int
    stopped_ok: bool
    message: str


class _Objective:
    """L_N composed with the constraint's lift (or the identity in projection mode)."""

    def __init__(
        self, constraint: Constraint, tau: float, layout: _Layout, lifted: bool, torch_mode: bool
    ):
        self.c = constraint
        self.tau = tau
        self.layout = layout
        self.lifted = lifted
        self.kernel = _loss_grad_torch if torch_mode else _loss_grad_numpy
        self.n_fev = 0

    def __call__(self, x):
        """(f, Euclidean gradient in the flat layout, info = (X, Y, gX, gY, centres))."""
        self.n_fev += 1
        blocks = self.layout.split(x)
        if self.lifted:
            X, Y, aux = self.c.forward(blocks)
            f, gX, gY = self.kernel(X, Y, self.tau)
            g = self.layout.join(self.c.vjp(blocks, gX, gY, aux))
            return f, g, (X, Y, gX, gY, aux[0])
        X, Y = blocks
        f, gX, gY = self.kernel(X, Y, self.tau)
        return f, self.layout.join([gX, gY]), (X, Y, gX, gY, None)


class _Measure:
    """First-order stationarity of the original problem, computed from ``info``.

    Without caps it equals the Riemannian gradient norm in the parameters (the lift is an
    isometry onto S(A) x S(B)), so no extra work; with caps, the KKT residual of
    Constraint.stationarity, evaluated in numpy float64 (with variable centres only once the
    lifted gradient is small, since it needs an NNLS solve).
    """

    def __init__(self, constraint: Constraint, tol: float, n: int, active_tol: float = 1e-12):
        self.c = constraint
        self.tol = tol
        self.active_tol = active_tol
        self.cheap = (not constraint.has_cap) or (not constraint.variable_centres) or n <= 64
        self._wait = 0
        self._gap = 1

    def __call__(self, pnorm: float, info) -> float:
        if not self.c.has_cap:
            return pnorm
        if not self.cheap and pnorm > 1e3 * self.tol:
            return math.inf
        if self._wait > 0 and pnorm > self.tol:  # spacing (settings.KKT_CHECK_NEAR, _MAX_GAP)
            self._wait -= 1
            return math.inf
        X, Y, gX, gY = (_to_numpy(a) for a in info[:4])
        centres = info[4]
        if centres is not None:  # float32 centres are unit only to ~1e-7
            centres = tuple(c / np.linalg.norm(c) for c in (_to_numpy(ci) for ci in centres))
        r = self.c.stationarity(X, Y, gX, gY, centres, active_tol=self.active_tol)
        if r > self.tol:
            near = r <= KKT_CHECK_NEAR * self.tol
            self._gap = 1 if near else min(2 * self._gap, KKT_CHECK_MAX_GAP)
            self._wait = self._gap - 1
        return r


def _to_numpy(a) -> np.ndarray:
    if _is_torch(a):
        return a.detach().to("cpu").double().numpy()
    return np.asarray(a, dtype=np.float64)


def _eps_f(x) -> float:
    if _is_torch(x):
        import torch

        return 1e-14 if x.dtype == torch.float64 else 50.0 * float(torch.finfo(x.dtype).eps)
    return 1e-14


def _progress(fun: _Objective, x, f: float, g, info, it: int, measure, callback, tol: float):
    """(|grad| in the parameters, a converged _Run or None) at the current iterate; calls
    ``callback(it, f, stationarity)``."""
    pnorm = math.sqrt(_dot(g, g))
    gn = measure(pnorm, info)
    if callback is not None:
        callback(it, f, gn if math.isfinite(gn) else pnorm)
    if gn <= tol:
        return pnorm, _Run(x, f, it, fun.n_fev, True, "gradient norm below tol")
    return pnorm, None


#: numpy L-BFGS keeps more pairs than this in the compact representation, fewer in the
#: two-loop recursion. Measured, one thread: with 10 pairs at (N, h) = (40, 4) the two-loop
#: iteration costs 120-135 us, the compact one 171-175 us (its fixed cost: two triangular
#: solves, gathers of the m x m blocks); with 100 pairs on a (32, 3) cap problem the compact
#: form is 2.9x faster per solve (the two-loop's 400 vector operations per iteration).
COMPACT_MEMORY_ABOVE = 16


class _TwoLoopMemory:
    """L-BFGS memory as lists of pairs, applied by the two-loop recursion (Nocedal & Wright,
    Alg. 7.4); numpy or torch vectors (the torch method)."""

    def __init__(self, memory: int):
        self.memory = memory
        self.clear()

    def clear(self) -> None:
        self.S: list = []
        self.Y: list = []
        self.rho: list = []
        self.gamma = 1.0

    def __len__(self) -> int:
        return len(self.S)

    def push(self, s, y, sy: float, yy: float) -> None:
        self.gamma = sy / yy
        self.S.append(s)
        self.Y.append(y)
        self.rho.append(1.0 / sy)
        if len(self.S) > self.memory:
            self.S.pop(0)
            self.Y.pop(0)
            self.rho.pop(0)

    def apply(self, g):
        """H g (H the inverse-Hessian approximation; g itself when the memory is empty)."""
        q = g.clone() if _is_torch(g) else g.copy()
        alphas = []
        for s_i, y_i, r_i in zip(
            reversed(self.S), reversed(self.Y), reversed(self.rho), strict=True
        ):
            a_i = r_i * _dot(s_i, q)
            q = _axpy(-a_i, y_i, q)
            alphas.append(a_i)
        if self.S:
            q *= self.gamma
        for s_i, y_i, r_i, a_i in zip(self.S, self.Y, self.rho, reversed(alphas), strict=True):
            b = r_i * _dot(y_i, q)
            q = _axpy(a_i - b, s_i, q)
        return q


class _CompactMemory:
    """L-BFGS memory in the compact representation of Byrd, Nocedal & Schnabel (Math. Prog.
    63, 1994, eq. 3.1; Nocedal & Wright eq. 7.24), numpy float64:

        H g = gamma g + S^T p - gamma Y^T w,  R w = S g,
        R^T p = (D + gamma Y Y^T) w - gamma Y g,

    S, Y the stored pairs as rows in chronological order, R the upper triangle of S Y^T,
    D its diagonal. Algebraically the H of the two-loop recursion; a handful of
    matrix-vector products and two m x m triangular solves instead of 4 m vector
    operations (with 100 pairs the two-loop's Python loop was half of a solve's time).
    The pairs sit in a ring buffer (no copy when the oldest is dropped); S Y^T and Y Y^T
    are kept in slot order, one row and column updated per stored pair, and only these
    m x m matrices are permuted into chronological order."""

    def __init__(self, memory: int, size: int):
        self.memory = memory
        self.S = np.zeros((memory, size))
        self.Y = np.zeros((memory, size))
        self.SY = np.zeros((memory, memory))  # SY[i, j] = s_i . y_j, slot order
        self.YY = np.zeros((memory, memory))
        self.clear()

    def clear(self) -> None:
        self.k = 0
        self.next = 0  # the slot the next pair goes to
        self.gamma = 1.0

    def __len__(self) -> int:
        return self.k

    def _order(self) -> np.ndarray:
        """Slots of the stored pairs, oldest first."""
        return (self.next - self.k + np.arange(self.k)) % self.memory

    def push(self, s, y, sy: float, yy: float) -> None:
        self.gamma = sy / yy
        j = self.next
        self.S[j] = s
        self.Y[j] = y
        self.k = min(self.k + 1, self.memory)
        self.next = (j + 1) % self.memory
        self.SY[j, :] = self.Y @ s  # (unused slots: stale values, never read)
        self.SY[:, j] = self.S @ y
        self.SY[j, j] = sy
        self.YY[j, :] = self.YY[:, j] = self.Y @ y

    def apply(self, g):
        """H g (H the inverse-Hessian approximation; g itself when the memory is empty)."""
        if not self.k:
            return g.copy()
        # products over the whole ring (no gather of the pairs); unused slots get weight 0
        Sg, Yg = self.S @ g, self.Y @ g
        start = (self.next - self.k) % self.memory
        if start + self.k <= self.memory:  # the pairs sit in consecutive slots: views
            o = slice(start, start + self.k)
            R, YY = self.SY[o, o], self.YY[o, o]
        else:
            o = self._order()
            R, YY = self.SY[np.ix_(o, o)], self.YY[np.ix_(o, o)]
        # R is the upper triangle of S Y^T: dtrtrs (lower=0) reads that triangle only
        w, _ = _dtrtrs(R, Sg[o], lower=0, trans=0)
        rhs = np.diagonal(R) * w + self.gamma * (YY @ w - Yg[o])
        p, _ = _dtrtrs(R, rhs, lower=0, trans=1)
        cp = np.zeros(self.memory)
        cw = np.zeros(self.memory)
        cp[o], cw[o] = p, w
        Hg = cp @ self.S
        Hg -= self.gamma * (cw @ self.Y)
        Hg += self.gamma * g
        return Hg


def _rlbfgs(
    fun: _Objective,
    layout: _Layout,
    x,
    *,
    tol: float,
    max_iter: int,
    measure: _Measure,
    memory: int = 10,
    stall: int = 200,
    callback: Callable | None = None,
) -> _Run:
    """Riemannian L-BFGS on a product of spheres with the metric-projection retraction.

    The L-BFGS direction (:class:`_CompactMemory` in numpy with more than
    :data:`COMPACT_MEMORY_ABOVE` pairs, otherwise the two-loop recursion of
    :class:`_TwoLoopMemory`) on the stored pairs s_k = x_{k+1} - x_k,
    y_k = grad_{k+1} - grad_k (ambient differences, the identity vector transport of the
    embedding; the direction is projected back to the tangent space and checked to be a
    descent direction, else the memory is reset), initial scaling gamma = s.y / y.y, pairs
    kept only if
    s.y > 1e-10 |s| |y|. Step: backtracking from t = 1 with the approximate Armijo test
    f(R_x(t d)) <= f + 1e-4 t <grad, d> + eps |f| (eps = 1e-14 in float64; Hager & Zhang,
    SIAM J. Optim. 16 (2005), §4), which stays usable when the decrease is below rounding.
    Stops unconverged when the loss has not decreased beyond eps |f| in ``stall`` iterations.
    """
    f, eg, info = fun(x)
    g = layout.proj(x, eg)
    compact = not _is_torch(x) and memory > COMPACT_MEMORY_ABOVE
    mem = _CompactMemory(memory, layout.size) if compact else _TwoLoopMemory(memory)
    eps_f = _eps_f(x)
    it = 0
    best_f, best_it = f, 0
    while True:
        pnorm, done = _progress(fun, x, f, g, info, it, measure, callback, tol)
        if done is not None:
            return done
        if f < best_f - eps_f * max(1.0, abs(best_f)):
            best_f, best_it = f, it
        elif it - best_it >= stall:
            return _Run(
                x,
                f,
                it,
                fun.n_fev,
                False,
                f"no decrease of the loss beyond rounding in {stall} iterations "
                "(precision floor: tol not reachable in this dtype?)",
            )
        if pnorm <= 1e-3 * tol:
            return _Run(
                x,
                f,
                it,
                fun.n_fev,
                False,
                "stationary in the lift but not a KKT point of the constrained problem",
            )
        if it >= max_iter:
            return _Run(x, f, it, fun.n_fev, False, "iteration limit reached")
        d = layout.proj(x, -mem.apply(g))
        dg = _dot(d, g)
        if not len(mem) or not dg < -1e-12 * math.sqrt(_dot(d, d)) * pnorm:
            mem.clear()
            d = -g
            dg = -pnorm * pnorm
            t = 0.1 / max(layout.max_row(g), 1e-300)
        else:
            t = 1.0
        accepted = False
        for _ in range(60):
            xn = layout.retract(x, t * d)
            fn, egn, infon = fun(xn)
            if fn <= f + 1e-4 * t * dg + eps_f * max(1.0, abs(f)):
                accepted = True
                break
            denom = 2.0 * (fn - f - dg * t)
            t_q = -dg * t * t / denom if denom > 0 and math.isfinite(denom) else 0.5 * t
            t = min(max(t_q, 0.1 * t), 0.5 * t)
        if not accepted:
            if len(mem):  # retry once along the steepest descent direction
                mem.clear()
                continue
            return _Run(x, f, it, fun.n_fev, False, "line search failed")
        gnew = layout.proj(xn, egn)
        s = xn - x
        y = gnew - g
        sy = _dot(s, y)
        yy = _dot(y, y)
        if sy > 1e-10 * math.sqrt(_dot(s, s) * yy):
            mem.push(s, y, sy, yy)
        x, f, g, info = xn, fn, gnew, infon
        it += 1


def _spg(
    fun: _Objective,
    layout: _Layout,
    x,
    *,
    retract: Callable,
    tangent: Callable,
    tol: float,
    max_iter: int,
    measure: _Measure,
    history: int = 10,
    callback: Callable | None = None,
) -> _Run:
    """Spectral projected (Riemannian) gradient: x+ = P(x - t grad f), t from
    Barzilai-Borwein t = s.s / s.y (s = x+ - x, y = grad+ - grad), accepted when
    f(x+) <= max of the last 10 values + 1e-4 <grad, x+ - x> + eps |f| (non-monotone
    Armijo of Grippo, Lampariello & Lucidi 1986; Birgin, Martinez & Raydan 2000)."""
    f, eg, info = fun(x)
    g = tangent(x, eg, info)
    fhist = [f]
    t = 0.1 / max(layout.max_row(g), 1e-300)
    eps_f = _eps_f(x)
    it = 0
    while True:
        _, done = _progress(fun, x, f, g, info, it, measure, callback, tol)
        if done is not None:
            return done
        if it >= max_iter:
            return _Run(x, f, it, fun.n_fev, False, "iteration limit reached")
        fref = max(fhist[-history:])
        accepted = False
        for _ in range(60):
            xn = retract(x, -t * g)
            dx = xn - x
            gd = _dot(g, dx)
            fn, egn, infon = fun(xn)
            if fn <= fref + 1e-4 * gd + eps_f * max(1.0, abs(f)):
                accepted = True
                break
            t *= 0.5
        if not accepted:
            return _Run(x, f, it, fun.n_fev, False, "line search failed")
        gnew = tangent(xn, egn, infon)
        s = dx
        y = gnew - g
        sy = _dot(s, y)
        t = _dot(s, s) / sy if sy > 0 else 1e3 * t
        t = min(max(t, 1e-12), 1e12)
        x, f, g, info = xn, fn, gnew, infon
        fhist.append(f)
        it += 1


# ----------------------------------------------------------------------------- results


class StartRecord(NamedTuple):
    """Outcome of one start: (seed, loss, grad_norm, converged, n_iter, message)."""

    seed: int | None
    loss: float
    grad_norm: float
    converged: bool
    n_iter: int
    message: str


@dataclass
class SolveResult:
    """Result of :func:`solve` (scipy.optimize.OptimizeResult style).

    X, Y: the best start's point (numpy float64, feasible to 1e-12); loss = L_N(X, Y);
    loss_shifted = loss - 2 log N (the quantity whose large-N limit the paper studies);
    grad_norm: first-order KKT residual at (X, Y) (see Constraint.stationarity);
    converged/message: why the best start stopped (never True at an iteration limit);
    loss_spread: max - min of the final loss over starts; per_start: StartRecord per start;
    centres: the cap centres (c_x, c_y) for cone constraints (variables or fixed), else None.
    """

    X: np.ndarray
    Y: np.ndarray
    loss: float
    loss_shifted: float
    grad_norm: float
    n_iter: int
    wall_time: float
    converged: bool
    message: str
    loss_spread: float
    per_start: list[StartRecord]
    method: str
    seed: int | None
    tau: float
    tol: float
    violation: float
    n_fev: int = 0
    centres: tuple[np.ndarray, np.ndarray] | None = None
    constraint: dict = field(default_factory=dict)

    def observables(self) -> GapObservables:
        """Gap observables of the returned point (docs/theory.md §2, §5): the one
        :class:`~modgap.verify.observables.GapObservables` type, with the "configuration"
        centre rule (a mean shorter than the solver's position accuracy, 1e-3, leaves the
        centre angle undefined, with the reason). Angles in radians."""
        from .observables import gap_observables

        return gap_observables(self.X, self.Y, source="configuration")

    @property
    def cap_centre_angle(self) -> float | None:
        """Angle (radians) between the constraint's cap centres c_x, c_y; None without caps.
        Computed as 2 atan2(|c_x - c_y|, |c_x + c_y|) (accurate near 0 and pi)."""
        if self.centres is None:
            return None
        u, v = self.centres
        return float(2.0 * np.arctan2(np.linalg.norm(u - v), np.linalg.norm(u + v)))

    def coverage(self):
        """The coverage of this multi-start result (:func:`modgap.verify.coverage.coverage`
        over every start's final loss and convergence flag: distinct minima, starts at the
        best, Good-Turing estimate of the chance that one more start finds an unseen basin).
        """
        from .coverage import coverage

        return coverage([r.loss for r in self.per_start], [r.converged for r in self.per_start])

    def summary(self) -> dict:
        """The numbers of the result (no arrays), JSON-serialisable."""
        return {
            "n": int(self.X.shape[0]),
            "h": int(self.X.shape[1]),
            "tau": self.tau,
            "method": self.method,
            "constraint": self.constraint,
            "loss": self.loss,
            "loss_shifted": self.loss_shifted,
            "grad_norm": self.grad_norm,
            "tol": self.tol,
            "converged": self.converged,
            "message": self.message,
            "n_iter": self.n_iter,
            "n_fev": self.n_fev,
            "wall_time": self.wall_time,
            "loss_spread": self.loss_spread,
            "seed": self.seed,
            "violation": self.violation,
            "per_start": [r._asdict() for r in self.per_start],
            "gap": self.observables().to_dict(),
            "cap_centre_angle": self.cap_centre_angle,
        }


# ----------------------------------------------------------------------------- solve


def _torch_setup(dtype, device):
    import torch

    if dtype is None:
        dtype = torch.float64
    elif isinstance(dtype, str):
        if dtype not in ("float32", "float64"):
            raise InputError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
        dtype = getattr(torch, dtype)
    elif dtype not in (torch.float32, torch.float64):
        raise InputError(f"dtype must be torch.float32 or torch.float64, got {dtype!r}")
    device = torch.device(device or "cpu")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise InputError("device 'cuda' requested but torch.cuda.is_available() is False")
    return dtype, device


def solve(
    constraint: FeasibleSet,
    n: int,
    tau: float,
    *,
    seeds: Sequence[int] = (0, 1, 2),
    method: str = "lbfgs",
    tol: float = 1e-9,
    max_iter: int | None = None,
    dtype: Any = None,
    device: Any = None,
    X0: np.ndarray | None = None,
    Y0: np.ndarray | None = None,
    centres0: tuple[np.ndarray, np.ndarray] | None = None,
    memory: int = 10,
    callback: Callable[[int, float, float], None] | None = None,
    stall: int = 200,
) -> SolveResult:
    """Minimise L_N(X, Y) (docs/theory.md §1) over the feasible set of ``constraint``.

    Multi-start: one start per seed (np.random.default_rng(seed), uniform on the lift), or
    a single start from (X0, Y0) (projected onto the feasible set; with variable centres
    from ``centres0`` or the smallest enclosing caps). The start with the lowest final loss
    is returned; ``converged`` is True only if that start met ``tol`` on the final float64
    check of the KKT residual and its violation is <= 1e-12. Same seeds and machine give
    identical results (no randomness besides the seeds).

    method: "lbfgs" (numpy float64, default), "rgd" (reference projected gradient), or
    "torch" (L-BFGS in torch; ``dtype`` float32/float64, ``device`` "cpu"/"cuda"; its
    float32 runs are re-evaluated in float64, so ask for a tol that float32 can reach).
    ``callback(iteration, loss, grad_norm)`` is called once per iteration (for benchmarks).
    ``stall``: lbfgs/torch stop unconverged after this many iterations without a decrease
    of the loss beyond rounding (the precision floor of a loss-based line search).
    """
    check_feasible_set(constraint)
    n = check_int_in_range(n, "n", 2, 10**7)
    tau = check_positive(tau, "tau")
    tol = check_positive(tol, "tol")
    if method not in _DEFAULT_MAX_ITER:
        raise InputError(f"method must be one of {sorted(_DEFAULT_MAX_ITER)}, got {method!r}")
    max_iter = _DEFAULT_MAX_ITER[method] if max_iter is None else max_iter
    max_iter = check_int_in_range(max_iter, "max_iter", 0, 10**9)
    memory = check_int_in_range(memory, "memory", 1, 1000)
    stall = check_int_in_range(stall, "stall", 1, 10**9)
    torch_mode = method == "torch"
    if torch_mode:
        dtype, device = _torch_setup(dtype, device)
    elif dtype not in (None, "float64", np.float64) or device not in (None, "cpu"):
        raise InputError(f"method {method!r} runs in numpy float64 on the CPU; use method='torch'")

    if (X0 is None) != (Y0 is None):
        raise InputError("give both X0 and Y0, or neither")
    if X0 is not None:
        X0, Y0 = constraint.check_xy(X0, Y0, ("X0", "Y0"))
        if X0.shape[0] != n:
            raise InputError(f"X0 must have n = {n} rows, got {X0.shape[0]}")
        c0 = constraint.resolve_centres(X0, Y0, centres0) if constraint.has_cap else None
        X0, Y0 = constraint.project(X0, Y0, c0)
        starts: list = [(None, X0, Y0, c0)]
    else:
        seeds = list(seeds)
        if not seeds:
            raise InputError("seeds must contain at least one seed")
        starts = []
        for s in seeds:
            s = check_int_in_range(s, "seed", 0, 2**63 - 1)
            X, Y, aux = constraint.forward(constraint.random_params(n, np.random.default_rng(s)))
            starts.append((s, X, Y, aux[0]))

    projection_mode = (
        method == "rgd" and isinstance(constraint, Constraint) and not constraint.variable_centres
    )
    t_all = time.perf_counter()
    records: list[StartRecord] = []
    finals = []
    for seed, X, Y, centres in starts:
        finals.append(
            _one_start(
                constraint,
                tau,
                X,
                Y,
                centres,
                method,
                tol,
                max_iter,
                memory,
                callback,
                projection_mode,
                dtype if torch_mode else None,
                device if torch_mode else None,
                stall,
            )
        )
        fin = finals[-1]
        records.append(
            StartRecord(
                seed, fin["loss"], fin["grad_norm"], fin["converged"], fin["n_iter"], fin["message"]
            )
        )
    wall = time.perf_counter() - t_all
    return result_from_finals(constraint, n, tau, tol, method, records, finals, wall)


def result_from_finals(
    constraint: Any,
    n: int,
    tau: float,
    tol: float,
    method: str,
    records: list[StartRecord],
    finals: list[dict],
    wall: float,
    best: int | None = None,
    n_fev: int | None = None,
) -> SolveResult:
    """The SolveResult of a multi-start run: the best start (lowest final loss, or index
    ``best``) from its :func:`final_check` dict, every start's StartRecord, and
    loss_spread = max - min of the final losses (shared by every multi-start solver)."""
    losses = [r.loss for r in records]
    best = int(np.argmin(losses)) if best is None else best
    fin = finals[best]
    return SolveResult(
        X=fin["X"],
        Y=fin["Y"],
        loss=fin["loss"],
        loss_shifted=fin["loss"] - 2.0 * math.log(n),
        grad_norm=fin["grad_norm"],
        n_iter=fin["n_iter"],
        wall_time=wall,
        converged=fin["converged"],
        message=fin["message"],
        loss_spread=float(max(losses) - min(losses)),
        per_start=records,
        method=method,
        seed=records[best].seed,
        tau=tau,
        tol=tol,
        violation=fin["violation"],
        n_fev=fin["n_fev"] if n_fev is None else n_fev,
        centres=fin["centres"],
        constraint=constraint.describe(),
    )


def _one_start(
    constraint: Constraint,
    tau: float,
    X: np.ndarray,
    Y: np.ndarray,
    centres,
    method: str,
    tol: float,
    max_iter: int,
    memory: int,
    callback,
    projection_mode: bool,
    dtype,
    device,
    stall: int = 200,
) -> dict:
    n = X.shape[0]
    f32 = dtype is not None and str(dtype).endswith("float32")
    # float32 iterates sit on a cap boundary only to ~1e-7: epsilon-active set and snap to match
    near = 1e-5 if f32 else 1e-10
    measure = _Measure(constraint, tol, n, active_tol=1e-5 if f32 else 1e-12)
    if projection_mode:
        h = constraint.h
        layout = _Layout([(n, h), (n, h)])
        fun = _Objective(constraint, tau, layout, lifted=False, torch_mode=False)

        def retract(x, v):
            return layout.join(list(constraint.project(*layout.split(x + v), centres)))

        def tangent(x, eg, info):
            grads = constraint.sphere_gradient(*layout.split(x), *layout.split(eg))
            return layout.join(list(grads))

        def measure_fixed(pnorm, info):
            Xb, Yb, gX, gY, _ = info
            return constraint.stationarity(Xb, Yb, gX, gY, centres)

        run = _spg(
            fun,
            layout,
            layout.join([X, Y]),
            retract=retract,
            tangent=tangent,
            tol=tol,
            max_iter=max_iter,
            measure=measure_fixed,
            callback=callback,
        )
        Xf, Yf = (np.array(b) for b in layout.split(run.x))
        cf = centres
    else:
        layout = _Layout(constraint.block_shapes(n))
        x0 = layout.join(constraint.lift(X, Y, centres))
        if dtype is not None:
            import torch

            x0 = torch.as_tensor(x0, dtype=dtype, device=device)
        fun = _Objective(constraint, tau, layout, lifted=True, torch_mode=dtype is not None)
        if method == "rgd":
            run = _spg(
                fun,
                layout,
                x0,
                retract=layout.retract,
                tangent=lambda x, eg, info: layout.proj(x, eg),
                tol=tol,
                max_iter=max_iter,
                measure=measure,
                callback=callback,
            )
        else:
            run = _rlbfgs(
                fun,
                layout,
                x0,
                tol=tol,
                max_iter=max_iter,
                measure=measure,
                memory=memory,
                callback=callback,
                stall=stall,
            )
        xf = _to_numpy(run.x)
        blocks = [b / np.linalg.norm(b, axis=1, keepdims=True) for b in layout.split(xf)]
        Xf, Yf, aux = constraint.forward(blocks)
        cf = aux[0]
        if dtype is not None:  # float32/torch result: make it feasible to 1e-12 in float64
            Xf, Yf = constraint.project(Xf, Yf, cf)
    return final_check(constraint, tau, Xf, Yf, cf, run, tol, near)


def final_check(
    constraint: FeasibleSet, tau: float, X, Y, centres, run, tol: float, near: float = 1e-10
) -> dict:
    """The float64 verdict on one start's final point (shared by every solver).

    Rows within ``near`` of a cap boundary are snapped onto it, L_N and its gradient are
    recomputed with the reference :func:`verify.objective.infonce_and_grad`, and
    converged = (the run stopped on its own test) and (KKT residual <= tol) and
    (violation <= FEAS_TOL). ``run`` needs ``stopped_ok``, ``message``, ``n_iter``, ``n_fev``.
    """
    cf = centres
    if cf is not None:
        cf = tuple(np.array(c, dtype=np.float64) for c in cf)
    Xf, Yf = constraint.snap(np.array(X), np.array(Y), cf, tol=near)
    loss, gX, gY = infonce_and_grad(Xf, Yf, tau)
    gn = constraint.stationarity(Xf, Yf, gX, gY, cf)
    viol = constraint.violation(Xf, Yf, cf)
    converged = run.stopped_ok and gn <= tol and viol <= FEAS_TOL
    message = run.message
    if run.stopped_ok and not converged:
        message = (
            f"stopping test met during the run, but the final float64 check gives "
            f"grad_norm = {gn:.3g} (tol {tol:.3g}) and violation = {viol:.3g}"
        )
    return {
        "X": Xf,
        "Y": Yf,
        "centres": cf,
        "loss": float(loss),
        "grad_norm": float(gn),
        "violation": float(viol),
        "converged": bool(converged),
        "message": message,
        "n_iter": run.n_iter,
        "n_fev": run.n_fev,
    }


def check_feasible_set(constraint: Any) -> None:
    """InputError (a TypeError) unless ``constraint`` implements
    :class:`verify.constraints.FeasibleSet`."""
    if not isinstance(constraint, FeasibleSet):
        missing = [m for m in _PROTOCOL_MEMBERS if not hasattr(constraint, m)]
        raise InputError(
            "constraint must implement verify.constraints.FeasibleSet "
            f"(missing {', '.join(missing) or '?'}), got {constraint!r}"
        )


_PROTOCOL_MEMBERS = (
    "h",
    "has_cap",
    "variable_centres",
    "check_xy",
    "resolve_centres",
    "block_shapes",
    "random_params",
    "lift",
    "forward",
    "vjp",
    "project",
    "stationarity",
    "violation",
    "snap",
    "describe",
)
