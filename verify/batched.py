"""Batched multi-start Riemannian L-BFGS: B starts of one problem advanced together.

The problem is that of :func:`verify.solvers.solve`: minimise symmetric InfoNCE
L_N(X, Y) (docs/theory.md §1; Yi, Douady & Chen, arXiv 2510.03268) over a feasible set that
implements :class:`verify.constraints.FeasibleSet`, on the product of spheres of its lift.
At the small sizes of the finite-N theorem checks (N ~ 40, h ~ 4) one start costs a few
thousand flops per iteration, so a sequential search is dominated by Python overhead;
here the starts advanced together are the rows of (B, P) float64 arrays (numpy on the CPU,
torch on CUDA), and each iteration is a handful of batched operations for all of them.
Continuous batching: when a start stops, its row is refilled from the queue of starts, so
the batch stays full and one slow start never holds up the rest; the batch width is
cache-sized (:data:`WIDTH_BYTES`) and the kernel runs in cache-sized blocks
(:data:`KERNEL_BLOCK_BYTES`), because at B = 1000 the passes over the N x N arrays and the
L-BFGS memory are bound by memory bandwidth, not arithmetic (docs/solver.md).

Each start keeps its own state, as the sequential solver does (Huang, Gallivan & Absil,
SIAM J. Optim. 25 (2015); Nocedal & Wright, Numerical Optimization, 2nd ed., Alg. 7.4):
its own L-BFGS memory (the last ``memory`` iterations; a pair is stored only if
s.y > 1e-10 |s| |y|, otherwise that slot stays empty for this start; the direction from
the compact representation of Byrd, Nocedal & Schnabel 1994, the same matrix as the
two-loop recursion of the sequential solver, so paths agree up to rounding), its own initial
scaling gamma = s.y / y.y, its own backtracking Armijo line search with the same
approximate test f(R_x(t d)) <= f + 1e-4 t <g, d> + eps |f| (Hager & Zhang 2005) and
quadratic interpolation, its own descent check and memory reset, its own stall counter
and its own stopping test. A start that stops (converged, stalled, line search failed, or
iteration limit) leaves the batch and its row takes the next start of the queue.

Stopping test: without caps the lift is an isometry onto S(A) x S(B), so the Riemannian
gradient norm in the parameters is the KKT residual; with caps, a start whose lifted
gradient is below 1e3 tol is checked with :meth:`FeasibleSet.stationarity` in numpy
float64; after a failed check far from tol the next one waits 2, 4, ... up to
:data:`KKT_CHECK_MAX_GAP` iterations (each check is an NNLS solve: checked at every
iteration they took 90 % of the time of a cap search), within :data:`KKT_CHECK_NEAR` x tol
it is repeated at every iteration, and it is never skipped once the lifted gradient meets
tol. Every start's final point then goes through the same float64 check as the sequential
solver (:func:`verify.solvers.final_check`): converged only when the KKT residual is
<= tol and the violation <= 1e-12.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._validation import InputError, check_int_in_range, check_positive
from .constraints import FeasibleSet
from .settings import KKT_CHECK_MAX_GAP, KKT_CHECK_NEAR
from .solvers import (
    SolveResult,
    StartRecord,
    _Layout,
    check_feasible_set,
    final_check,
    loss_and_grad,
    result_from_finals,
)

__all__ = ["solve_batched", "solve_batched_points", "default_chunk", "default_width"]

_RECORD_KEYS = ("loss", "grad_norm", "converged", "n_iter", "message")
#: Bytes of working memory a chunk of starts may use (the chunk size follows from it).
CHUNK_BYTES = 512 * 2**20
#: numpy backend: bytes of L-BFGS state (memory pairs and work vectors) of the starts
#: advanced together. Cache-sized rather than memory-sized: at (N, h) = (40, 4) a batch of
#: 1000 starts (51 MB of memory pairs) is bound by memory bandwidth and ran 1.6x slower per
#: start-iteration than 256 (bench/batched.py --widths).
WIDTH_BYTES = 16 * 2**20


@dataclass
class _Stop:
    x: np.ndarray
    f: float
    n_iter: int
    n_fev: int
    stopped_ok: bool
    message: str


def default_chunk(n: int, param_size: int, memory: int, h: int) -> int:
    """Starts per chunk so that one chunk's tensors fit in :data:`CHUNK_BYTES`: per start,
    (2 memory + 8) parameter vectors of ``param_size`` doubles plus about 4 N x N and
    6 N x h work arrays of the kernel."""
    per_start = 8 * ((2 * memory + 8) * param_size + 4 * n * n + 6 * n * h)
    return max(1, int(CHUNK_BYTES // per_start))


def default_width(n: int, param_size: int, memory: int, h: int, backend: str) -> int:
    """Starts advanced together by default: the :func:`default_chunk` memory rule, and on
    the numpy backend at most :data:`WIDTH_BYTES` of L-BFGS state ((2 memory + 8) vectors
    of ``param_size`` doubles per start), at least 8 starts."""
    cap = default_chunk(n, param_size, memory, h)
    if backend != "numpy":
        return cap
    return max(1, min(cap, max(8, int(WIDTH_BYTES // (8 * (2 * memory + 8) * param_size)))))


class _Ops:
    """The array operations of the batched loop, for numpy (CPU, the default: its per-call
    overhead is several times lower than torch's for these small stacked arrays, measured
    in bench/batched.py) or torch (``device`` "cuda", or ``backend="torch"``)."""

    def __init__(self, backend: str, device: Any = None):
        self.backend = backend
        if backend == "numpy":
            self.xp = np
            self.device = None
        else:
            import torch

            self.xp = torch
            self.device = device

    def asarray(self, a):
        if self.backend == "numpy":
            return np.array(a, dtype=np.float64)
        return self.xp.as_tensor(np.asarray(a), dtype=self.xp.float64, device=self.device)

    def zeros(self, shape, kind: str = "float"):
        xp = self.xp
        if self.backend == "numpy":
            return np.zeros(shape, dtype={"float": np.float64, "bool": bool, "int": np.int64}[kind])
        dt = {"float": xp.float64, "bool": xp.bool, "int": xp.long}[kind]
        return xp.zeros(shape, dtype=dt, device=self.device)

    def arange(self, n: int):
        if self.backend == "numpy":
            return np.arange(n)
        return self.xp.arange(n, device=self.device)

    def nonzero(self, mask):
        if self.backend == "numpy":
            return np.flatnonzero(mask)
        return self.xp.nonzero(mask).flatten()

    def copy(self, a):
        return a.copy() if self.backend == "numpy" else a.clone()

    def clamp_min(self, a, v: float):
        return np.maximum(a, v) if self.backend == "numpy" else self.xp.clamp(a, min=v)

    def clamp_max(self, a, v: float):
        return np.minimum(a, v) if self.backend == "numpy" else self.xp.clamp(a, max=v)

    def to_float(self, mask):
        if self.backend == "numpy":
            return mask.astype(np.float64)
        return mask.to(self.xp.float64)

    def count(self, mask) -> int:
        return int(mask.sum())

    def indices(self, idx) -> list[int]:
        return [int(i) for i in idx.tolist()]


def _rowdot(a, b):
    """sum_k a[..., k] b[..., k]. For the short rows of the sphere blocks (d <= 8) an
    explicit sum over the columns: numpy's reduction over a last axis of length 3 costs
    about 15x more than these d elementwise products (measured, B x N x 3 arrays)."""
    d = a.shape[-1]
    if d > 8:
        return (a * b).sum(-1)
    out = a[..., 0] * b[..., 0]
    for k in range(1, d):
        out += a[..., k] * b[..., k]
    return out


def _np(a) -> np.ndarray:
    """A float64 numpy copy (never a view: the batch arrays are reused in place)."""
    if isinstance(a, np.ndarray):
        return np.array(a, dtype=np.float64)
    return a.detach().to("cpu").double().numpy().copy()


#: numpy backend: the kernel runs over blocks of starts whose N x N work arrays take about
#: this many bytes (cache-sized: measured 2x faster than whole-batch arrays at B = 1000,
#: N = 40, whose passes over 13 MB arrays are bound by memory bandwidth).
KERNEL_BLOCK_BYTES = 2**20


class _BatchProblem:
    """L_N composed with the lift, for a batch of flat parameter vectors (B, P)."""

    def __init__(self, constraint: FeasibleSet, n: int, tau: float, ops: _Ops):
        self.c = constraint
        self.tau = tau
        self.ops = ops
        lay = _Layout(constraint.block_shapes(n))
        self.shapes, self.offsets, self.size = lay.shapes, lay.offsets, lay.size
        self.n_fev = 0
        # numpy: evaluate the kernel in blocks whose N x N arrays stay in the cache, in two
        # work buffers allocated once
        self.block = max(1, KERNEL_BLOCK_BYTES // (8 * n * n))
        self._work = None
        if ops.backend == "numpy":
            self._work = (np.empty((self.block, n, n)), np.empty((self.block, n, n)))

    def split(self, x) -> list:
        b = x.shape[0]
        return [
            x[:, o : o + m * d].reshape(b, m, d)
            for o, (m, d) in zip(self.offsets, self.shapes, strict=True)
        ]

    def join(self, blocks: list):
        flat = [blk.reshape(blk.shape[0], -1) for blk in blocks]
        if self.ops.backend == "numpy":
            return np.concatenate(flat, axis=1)
        return self.ops.xp.cat(flat, dim=1)

    def proj(self, x, v):
        """Row-wise tangent projection v - (v . x) x of every block."""
        out = self.ops.copy(v)
        for xb, ob in zip(self.split(x), self.split(out), strict=True):
            ob -= _rowdot(ob, xb)[..., None] * xb
        return out

    def retract(self, x, v):
        """Metric projection retraction (x + v) / |x + v|, row by row."""
        out = x + v
        for ob in self.split(out):
            ob /= self.ops.xp.sqrt(_rowdot(ob, ob))[..., None]
        return out

    def max_row(self, v):
        """Largest row norm over all blocks, per start: (B,)."""
        xp = self.ops.xp
        return xp.sqrt(xp.amax(xp.stack([xp.amax(_rowdot(vb, vb), -1) for vb in self.split(v)]), 0))

    def __call__(self, x):
        """(f (B,), Euclidean gradient (B, P)) at x."""
        b = x.shape[0]
        self.n_fev += b
        if self.ops.backend != "numpy" or b <= self.block:
            return self._evaluate(x)
        f = np.empty(b)
        g = np.empty_like(x)
        k = self.block
        for lo in range(0, b, k):
            f[lo : lo + k], g[lo : lo + k] = self._evaluate(x[lo : lo + k])
        return f, g

    def _evaluate(self, x):
        blocks = self.split(x)
        X, Y, aux = self.c.forward(blocks)
        f, gX, gY = _batched_loss_grad(X, Y, self.tau, self._work)
        return f, self.join(self.c.vjp(blocks, gX, gY, aux))

    def stationarity(self, xj, active_tol: float = 1e-12) -> float:
        """KKT residual of the original problem at one start's parameters (numpy float64,
        :meth:`FeasibleSet.stationarity`, at the gradient of the fast float64 kernel
        :func:`verify.solvers.loss_and_grad`, as in the sequential solver's stopping test;
        the final check recomputes it with the reference objective)."""
        X, Y, aux = self.c.forward(_split_np(_np(xj), self.shapes, self.offsets))
        _, gX, gY = loss_and_grad(X, Y, self.tau)
        cs = aux[0]
        if cs is not None:
            cs = tuple(None if c is None else c / np.linalg.norm(c) for c in cs)
        return self.c.stationarity(X, Y, gX, gY, cs, active_tol=active_tol)


def _batched_loss_grad(X, Y, tau: float, work: tuple | None = None):
    """Symmetric InfoNCE and its gradient for a batch (B, N, h) of (X, Y) pairs (numpy or
    torch arrays, the same formulas).

    E = exp((X Y^T - 1) / tau) (entries <= 1 for unit rows; the shift cancels in the
    gradient and adds 2 / tau to L), r = E 1, c = E^T 1:
    L = (1/N) sum_i [log r_i + log c_i] + 2 / tau - (2 / (N tau)) sum_i x_i . y_i,
    G = E o (a 1^T + 1 b^T) - 2 I / (N tau), a = 1 / (N tau r), b = 1 / (N tau c);
    dL/dX = G Y, dL/dY = G^T X (docs/theory.md §1; the formulas of
    verify.solvers.loss_and_grad). float64 keeps E above underflow for 1 / tau <= 300
    (|x . y - 1| <= 2). ``work``: two numpy buffers of at least (B, N, N) for E and the
    scale (reused across calls: a fresh N x N x B allocation per call cost as much as the
    arithmetic, measured).
    """
    xp = np if isinstance(X, np.ndarray) else __import__("torch")
    b, n = X.shape[0], X.shape[-2]
    inv = 1.0 / tau
    if work is None:
        Z = (X * inv) @ Y.swapaxes(-1, -2)
    else:
        Z = np.matmul(X * inv, Y.swapaxes(-1, -2), out=work[0][:b])
    Z -= inv
    xp.exp(Z, out=Z)
    r = Z.sum(-1)
    c = Z.sum(-2)
    diag = _rowdot(X, Y)
    loss = (xp.log(r).sum(-1) + xp.log(c).sum(-1)) / n + 2.0 * inv - 2.0 * inv * diag.mean(-1)
    a_, b_ = (1.0 / (n * tau * r))[..., :, None], (1.0 / (n * tau * c))[..., None, :]
    if work is None:
        Z *= a_ + b_
    else:
        Z *= np.add(a_, b_, out=work[1][:b])
    k = 2.0 / (n * tau)
    gX = Z @ Y
    gX -= k * Y
    gY = Z.swapaxes(-1, -2) @ X
    gY -= k * X
    return loss, gX, gY


def _triangular_solves(R, a, ops: _Ops):
    """w = R^{-1} a (upper triangular R) for every start, by back substitution over the
    memory index (m steps of (B,)-vector operations: no per-start call)."""
    m = R.shape[-1]
    w = ops.zeros(a.shape)
    for i in range(m - 1, -1, -1):
        acc = a[:, i] - (R[:, i, i + 1 :] * w[:, i + 1 :]).sum(-1)
        w[:, i] = acc / R[:, i, i]
    return w


def _triangular_solves_t(R, rhs, ops: _Ops):
    """p = R^{-T} rhs (R upper triangular, so R^T lower) by forward substitution."""
    m = R.shape[-1]
    p = ops.zeros(rhs.shape)
    for i in range(m):
        acc = rhs[:, i] - (R[:, :i, i] * p[:, :i]).sum(-1)
        p[:, i] = acc / R[:, i, i]
    return p


def _compact_direction(g, SY, StY, YtY, valid, gamma, slot: int, ops: _Ops):
    """-H g for every start, H the L-BFGS inverse-Hessian approximation in the compact form
    of Byrd, Nocedal & Schnabel (Math. Prog. 63, 1994, eq. 3.1; Nocedal & Wright eq. 7.24):

        H g = gamma g + S p - gamma Y w,  R w = S^T g,
        R^T p = (D + gamma Y^T Y) w - gamma Y^T g,

    R = upper triangle of S^T Y in chronological order, D = diag(s_i . y_i). Algebraically
    the same H as the two-loop recursion. The memory is one (B, 2m, P) array SY (the s
    pairs in rows 0..m-1, the y in m..2m-1), so S^T g, Y^T g is one batched product and
    S p - gamma Y w another. S^T Y and Y^T Y are kept up to date by :func:`_push` (slot
    order); only these m x m matrices are permuted into chronological order. Empty slots
    are masked out (R_ii = 1, zero rows and columns) and drop out exactly."""
    xp = ops.xp
    m = StY.shape[1]
    order = [(slot + i) % m for i in range(m)]
    vf = ops.to_float(valid)
    ab = xp.einsum("bkp,bp->bk", SY, g)
    a_ = ab[:, :m] * vf
    b_ = ab[:, m:] * vf
    mask = vf[:, :, None] * vf[:, None, :]
    StYo = (StY * mask)[:, order][:, :, order]
    YtYo = (YtY * mask)[:, order][:, :, order]
    vo = vf[:, order]
    R = xp.triu(StYo)
    idx = list(range(m))
    R[:, idx, idx] += 1.0 - vo
    Dg = StYo[:, idx, idx]
    w = _triangular_solves(R, a_[:, order], ops)
    rhs = Dg * w + gamma[:, None] * ((YtYo * w[:, None, :]).sum(-1) - b_[:, order])
    p = _triangular_solves_t(R, rhs, ops)
    coef = ops.zeros((g.shape[0], 2 * m))
    coef[:, order] = p
    coef[:, [m + o for o in order]] = -gamma[:, None] * w
    Hg = xp.einsum("bk,bkp->bp", coef, SY)
    Hg += gamma[:, None] * g
    return -Hg


def _push(SY, StY, YtY, s, y, slot: int, ops: _Ops) -> None:
    """Store (s, y) in ``slot`` (zeros where a start stores nothing) and update the slot-order
    inner-product matrices S^T Y, Y^T Y in place (row and column ``slot``)."""
    xp = ops.xp
    m = StY.shape[1]
    SY[:, slot] = s
    SY[:, m + slot] = y
    Ys = xp.einsum("bkp,bp->bk", SY[:, m:], s)
    SYy = xp.einsum("bkp,bp->bk", SY, y)
    StY[:, slot, :] = Ys
    StY[:, :, slot] = SYy[:, :m]
    YtY[:, slot, :] = SYy[:, m:]
    YtY[:, :, slot] = SYy[:, m:]


#: Compact the batch (drop the rows of finished starts) once this fraction of its rows has
#: finished; until then a finished row stays in the arrays, frozen (never accepted again).
COMPACT_FRACTION = 0.125


def _batched_lbfgs(
    prob: _BatchProblem,
    params: np.ndarray,
    *,
    width: int,
    tol: float,
    max_iter: int,
    memory: int,
    stall: int,
) -> list[_Stop]:
    """Run L-BFGS from every row of ``params`` (Q, P) until each start stops; one _Stop per
    row, in order.

    Continuous batching: at most ``width`` starts are advanced together; when a start stops,
    its row is refilled with the next start of the queue (fresh memory, its own iteration
    count), so the batch stays full until the queue is empty and a slow start never holds
    up the others. Once the queue is empty the batch is compacted whenever
    :data:`COMPACT_FRACTION` of its rows have finished (a finished row stays in the arrays
    until then, frozen: it is never in a line search again)."""
    ops = prob.ops
    xp = ops.xp
    Q, P = params.shape
    eps_f = 1e-14
    has_cap = prob.c.has_cap
    out: list[_Stop | None] = [None] * Q
    rows = min(width, Q)
    nxt = rows
    ids = ops.arange(rows)
    x = ops.asarray(params[:rows])
    f, eg = prob(x)
    g = prob.proj(x, eg)
    SY = ops.zeros((rows, 2 * memory, P))
    StY = ops.zeros((rows, memory, memory))
    YtY = ops.zeros((rows, memory, memory))
    valid = ops.zeros((rows, memory), "bool")
    live = ~ops.zeros(rows, "bool")
    gamma = ops.zeros(rows) + 1.0
    best_f = ops.copy(f)
    best_it = ops.zeros(rows, "int")
    fev = ops.zeros(rows, "int") + 1
    its = ops.zeros(rows, "int")
    # caps: a row whose KKT test failed is tested again after 1, 2, 4, ... 32 iterations
    check_at = ops.zeros(rows, "int")
    check_gap = ops.zeros(rows, "int") + 1
    slot = 0

    def finish(mask, ok: bool, message: str):
        for j in ops.indices(ops.nonzero(mask)):
            out[int(ids[j])] = _Stop(_np(x[j]), float(f[j]), int(its[j]), int(fev[j]), ok, message)
        live[mask] = False

    while True:
        pnorm = xp.sqrt((g * g).sum(-1))
        if not has_cap:
            conv = live & (pnorm <= tol)
        else:  # screen by the lifted gradient, then the float64 KKT residual
            conv = ops.zeros(pnorm.shape[0], "bool")
            near = ops.zeros(pnorm.shape[0], "bool")
            due = live & (pnorm <= 1e3 * tol) & ((its >= check_at) | (pnorm <= tol))
            for j in ops.indices(ops.nonzero(due)):
                r = prob.stationarity(x[j])
                conv[j] = r <= tol
                near[j] = r <= KKT_CHECK_NEAR * tol
            far = due & ~conv & ~near
            check_gap[due & near] = 1
            check_gap[far] = ops.clamp_max(2 * check_gap[far], KKT_CHECK_MAX_GAP)
            check_at[due] = its[due] + check_gap[due]
        finish(conv, True, "gradient norm below tol")
        better = f < best_f - eps_f * ops.clamp_min(xp.abs(best_f), 1.0)
        best_f = xp.where(better, f, best_f)
        best_it = xp.where(better, its, best_it)
        stalled = live & ~better & (its - best_it >= stall)
        finish(
            stalled,
            False,
            f"no decrease of the loss beyond rounding in {stall} iterations "
            "(precision floor: tol not reachable in this dtype?)",
        )
        flat = live & (pnorm <= 1e-3 * tol)
        finish(flat, False, "stationary in the lift but not a KKT point of the constrained problem")
        finish(live & (its >= max_iter), False, "iteration limit reached")
        n_live = ops.count(live)
        n_rows = live.shape[0]
        if n_live < n_rows and nxt < Q:  # refill finished rows from the queue
            free = ops.nonzero(~live)[: Q - nxt]
            k = int(free.shape[0])
            xk = ops.asarray(params[nxt : nxt + k])
            fk, egk = prob(xk)
            ids[free] = ops.arange(k) + nxt
            nxt += k
            x[free], f[free], g[free] = xk, fk, prob.proj(xk, egk)
            SY[free], StY[free], YtY[free], valid[free] = 0.0, 0.0, 0.0, False
            gamma[free], best_f[free], best_it[free] = 1.0, fk, 0
            fev[free], its[free], live[free] = 1, 0, True
            check_at[free], check_gap[free] = 0, 1
            continue  # the new starts are tested before their first step
        if not n_live:
            break
        if n_rows - n_live >= COMPACT_FRACTION * n_rows:
            keep = ops.nonzero(live)
            ids, x, f, g, pnorm = ids[keep], x[keep], f[keep], g[keep], pnorm[keep]
            SY, valid, StY, YtY, live = SY[keep], valid[keep], StY[keep], YtY[keep], live[keep]
            gamma, best_f, best_it = gamma[keep], best_f[keep], best_it[keep]
            fev, its, check_at, check_gap = fev[keep], its[keep], check_at[keep], check_gap[keep]
        has_mem = valid.any(1)
        d = prob.proj(x, _compact_direction(g, SY, StY, YtY, valid, gamma, slot, ops))
        dg = (d * g).sum(-1)
        dnorm = xp.sqrt((d * d).sum(-1))
        steep = ~has_mem | ~(dg < -1e-12 * dnorm * pnorm)
        valid[steep] = False
        d = xp.where(steep[:, None], -g, d)
        dg = xp.where(steep, -pnorm * pnorm, dg)
        t = xp.where(steep, 0.1 / ops.clamp_min(prob.max_row(g), 1e-300), 1.0)
        # backtracking line search, each start on its own
        xn = ops.copy(x)
        fn = ops.copy(f)
        egn = ops.zeros(g.shape)
        accepted = ops.zeros(f.shape[0], "bool")
        pending = ops.copy(live)
        for _ in range(60):
            pi = ops.nonzero(pending)
            if not pi.shape[0]:
                break
            xt = prob.retract(x[pi], t[pi, None] * d[pi])
            ft, egt = prob(xt)
            fev[pi] += 1
            ok = ft <= f[pi] + 1e-4 * t[pi] * dg[pi] + eps_f * ops.clamp_min(xp.abs(f[pi]), 1.0)
            acc = pi[ok]
            xn[acc], fn[acc], egn[acc] = xt[ok], ft[ok], egt[ok]
            accepted[acc] = True
            pending[acc] = False
            rej = pi[~ok]
            tr, fr = t[rej], ft[~ok]
            denom = 2.0 * (fr - f[rej] - dg[rej] * tr)
            good = (denom > 0) & xp.isfinite(denom)
            tq = xp.where(good, -dg[rej] * tr * tr / xp.where(good, denom, 1.0), 0.5 * tr)
            t[rej] = xp.minimum(xp.maximum(tq, 0.1 * tr), 0.5 * tr)
        failed = live & ~accepted
        finish(failed & steep, False, "line search failed")
        valid[failed] = False  # retry along steepest descent next iteration
        gnew = prob.proj(xn, egn)
        s = xn - x
        y = gnew - g
        sy = (s * y).sum(-1)
        yy = (y * y).sum(-1)
        ss = (s * s).sum(-1)
        push = accepted & (sy > 1e-10 * xp.sqrt(ss * yy))
        keep_pair = push[:, None]
        _push(SY, StY, YtY, xp.where(keep_pair, s, 0.0), xp.where(keep_pair, y, 0.0), slot, ops)
        valid[:, slot] = push
        gamma = xp.where(push, sy / xp.where(push, yy, 1.0), gamma)
        slot = (slot + 1) % memory
        x = xp.where(accepted[:, None], xn, x)
        f = xp.where(accepted, fn, f)
        g = xp.where(accepted[:, None], gnew, g)
        its[live] += 1
    return out  # type: ignore[return-value]


def solve_batched(
    constraint: FeasibleSet,
    n: int,
    tau: float,
    *,
    seeds: Sequence[int] = (0, 1, 2),
    starts: Sequence[tuple[np.ndarray, np.ndarray, Any]] | None = None,
    tol: float = 1e-9,
    max_iter: int = 5000,
    memory: int = 10,
    stall: int = 200,
    device: Any = None,
    chunk: int | None = None,
    return_points: bool = False,
    backend: str | None = None,
) -> SolveResult | tuple[SolveResult, list[dict]]:
    """Minimise L_N (docs/theory.md §1) from many starts at once; same answer as
    :func:`verify.solvers.solve` with method="lbfgs", run as one batch.

    Starts: one per seed (the same random lift point as ``solve`` uses for that seed), or
    the given feasible points ``starts`` = [(X0, Y0, centres0), ...] (centres0 None for
    constraints without caps or to use the smallest enclosing caps). float64 throughout:
    ``backend`` "numpy" (the default on the CPU) or "torch" (the default for ``device``
    "cuda"; ``backend="torch"`` with no device runs torch on the CPU, same formulas),
    ``chunk`` starts advanced together (continuous batching; default :func:`default_width`).
    Returns a :class:`verify.solvers.SolveResult` with method "batched": the best start's
    point, its float64 KKT check, and one StartRecord
    per start (in the order of the seeds / starts). ``return_points=True`` also returns
    every start's final point: a list of :func:`verify.solvers.final_check` dicts (X, Y,
    centres, loss, grad_norm, violation, converged, message, n_iter, n_fev).
    """
    check_feasible_set(constraint)
    n = check_int_in_range(n, "n", 2, 10**7)
    tau = check_positive(tau, "tau")
    tol = check_positive(tol, "tol")
    max_iter = check_int_in_range(max_iter, "max_iter", 0, 10**9)
    memory = check_int_in_range(memory, "memory", 1, 1000)
    stall = check_int_in_range(stall, "stall", 1, 10**9)
    if 1.0 / tau > 300.0:
        raise InputError(
            f"tau must be >= 1/300 for the batched float64 kernel (exp((x.y - 1) / tau) "
            f"underflows below it), got {tau}; the sequential solver (method 'lbfgs', "
            "--method lbfgs) handles it with the stable reference objective"
        )
    ops = _make_ops(backend, device)
    prob = _BatchProblem(constraint, n, tau, ops)
    labels, params = _start_params(constraint, n, seeds, starts)
    if chunk is None:
        chunk = default_width(n, prob.size, memory, constraint.h, ops.backend)
    chunk = check_int_in_range(chunk, "chunk", 1, 10**9)

    t0 = time.perf_counter()
    stops = _batched_lbfgs(
        prob,
        np.stack(params),
        width=chunk,
        tol=tol,
        max_iter=max_iter,
        memory=memory,
        stall=stall,
    )
    finals = []
    for stop in stops:
        blocks = [
            b / np.linalg.norm(b, axis=1, keepdims=True)
            for b in _split_np(stop.x, prob.shapes, prob.offsets)
        ]
        X, Y, aux = constraint.forward(blocks)
        finals.append(final_check(constraint, tau, X, Y, aux[0], stop, tol))
    wall = time.perf_counter() - t0
    records = [
        StartRecord(lab, *(fin[k] for k in _RECORD_KEYS))
        for lab, fin in zip(labels, finals, strict=True)
    ]
    res = result_from_finals(
        constraint, n, tau, tol, "batched", records, finals, wall, n_fev=prob.n_fev
    )
    return (res, finals) if return_points else res


def _make_ops(backend: str | None, device: Any) -> _Ops:
    """The array backend of a run: numpy unless torch is asked for (by ``backend`` or a
    non-CPU ``device``); errors name the argument."""
    if backend not in (None, "numpy", "torch"):
        raise InputError(f"backend must be 'numpy' or 'torch', got {backend!r}")
    dev_name = None if device is None else str(device)
    if dev_name in (None, "cpu") and backend != "torch":
        return _Ops("numpy")
    if backend == "numpy":
        raise InputError(f"backend 'numpy' runs on the CPU only, got device {dev_name!r}")
    import torch

    try:
        dev = torch.device(dev_name or "cpu")
    except RuntimeError as exc:
        raise InputError(f"device: {exc}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InputError("device 'cuda' requested but torch.cuda.is_available() is False")
    return _Ops("torch", dev)


def _split_np(x: np.ndarray, shapes, offsets) -> list[np.ndarray]:
    return [x[o : o + m * d].reshape(m, d) for o, (m, d) in zip(offsets, shapes, strict=True)]


def _start_params(constraint: FeasibleSet, n: int, seeds, starts) -> tuple[list, list]:
    """(labels, flat lift parameters) of every start."""
    if starts is not None:
        starts = list(starts)
        if not starts:
            raise InputError("starts must contain at least one (X0, Y0, centres0) start")
        labels, params = [], []
        for i, st in enumerate(starts):
            if len(st) != 3:
                raise InputError(f"starts[{i}] must be a triple (X0, Y0, centres0)")
            X0, Y0 = constraint.check_xy(st[0], st[1], (f"starts[{i}][0]", f"starts[{i}][1]"))
            if X0.shape[0] != n:
                raise InputError(f"starts[{i}] must have n = {n} rows, got {X0.shape[0]}")
            c0 = constraint.resolve_centres(X0, Y0, st[2]) if constraint.has_cap else None
            X0, Y0 = constraint.project(X0, Y0, c0)
            labels.append(None)
            params.append(np.concatenate([np.ravel(b) for b in constraint.lift(X0, Y0, c0)]))
        return labels, params
    seeds = list(seeds)
    if not seeds:
        raise InputError("seeds must contain at least one seed")
    params = []
    for s in seeds:
        check_int_in_range(s, "seed", 0, 2**63 - 1)
        X, Y, aux = constraint.forward(constraint.random_params(n, np.random.default_rng(s)))
        blocks = constraint.lift(X, Y, aux[0])  # the start of verify.solvers.solve
        params.append(np.concatenate([np.ravel(b) for b in blocks]))
    return [int(s) for s in seeds], params


def solve_batched_points(constraint: FeasibleSet, n: int, tau: float, **kwargs):
    """:func:`solve_batched` with ``return_points=True``: (SolveResult, final points)."""
    return solve_batched(constraint, n, tau, return_points=True, **kwargs)
