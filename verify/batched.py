"""Batched multi-start Riemannian L-BFGS: B starts of one problem advanced as one tensor.

The problem is that of :func:`verify.solvers.solve`: minimise symmetric InfoNCE
L_N(X, Y) (THEORY.md §1; Yi, Douady & Chen, arXiv 2510.03268) over a feasible set that
implements :class:`verify.constraints.FeasibleSet`, on the product of spheres of its lift.
At the small sizes of the finite-N theorem checks (N ~ 40, h ~ 4) one start costs a few
thousand flops per iteration, so a sequential search is dominated by Python overhead;
here every start of a chunk is one slice of a (B, P) torch float64 tensor, and each
iteration is a handful of batched matrix products for all of them.

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
iteration limit) leaves the batch; the batch shrinks until it is empty.

Stopping test: without caps the lift is an isometry onto S(A) x S(B), so the Riemannian
gradient norm in the parameters is the KKT residual; with caps, a start whose lifted
gradient is below 1e3 tol is checked with :meth:`FeasibleSet.stationarity` in numpy
float64 (the same screen as the sequential solver). Every start's final point then goes
through the same float64 check as the sequential solver (:func:`verify.solvers.final_check`):
converged only when the KKT residual is <= tol and the violation <= 1e-12.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._validation import InputError, check_int_in_range, check_positive
from .constraints import FeasibleSet
from .solvers import (
    SolveResult,
    StartRecord,
    _Layout,
    check_feasible_set,
    final_check,
    result_from_finals,
)

__all__ = ["solve_batched", "solve_batched_points", "default_chunk"]

_RECORD_KEYS = ("loss", "grad_norm", "converged", "n_iter", "message")
#: Bytes of working memory a chunk of starts may use (the chunk size follows from it).
CHUNK_BYTES = 512 * 2**20


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


class _BatchProblem:
    """L_N composed with the lift, for a batch of flat parameter vectors (B, P)."""

    def __init__(self, constraint: FeasibleSet, n: int, tau: float):
        self.c = constraint
        self.tau = tau
        lay = _Layout(constraint.block_shapes(n))
        self.shapes, self.offsets, self.size = lay.shapes, lay.offsets, lay.size
        self.n_fev = 0

    def split(self, x) -> list:
        b = x.shape[0]
        return [
            x[:, o : o + m * d].reshape(b, m, d)
            for o, (m, d) in zip(self.offsets, self.shapes, strict=True)
        ]

    def join(self, blocks: list):
        import torch

        return torch.cat([blk.reshape(blk.shape[0], -1) for blk in blocks], dim=1)

    def proj(self, x, v):
        """Row-wise tangent projection v - (v . x) x of every block."""
        out = []
        for xb, vb in zip(self.split(x), self.split(v), strict=True):
            out.append(vb - (vb * xb).sum(-1, keepdim=True) * xb)
        return self.join(out)

    def retract(self, x, v):
        """Metric projection retraction (x + v) / |x + v|, row by row."""
        out = []
        for zb in self.split(x + v):
            out.append(zb / (zb * zb).sum(-1, keepdim=True).sqrt())
        return self.join(out)

    def max_row(self, v):
        """Largest row norm over all blocks, per start: (B,)."""
        import torch

        return torch.stack([(vb * vb).sum(-1).amax(-1).sqrt() for vb in self.split(v)], dim=0).amax(
            0
        )

    def __call__(self, x):
        """(f (B,), Euclidean gradient (B, P)) at x."""
        self.n_fev += x.shape[0]
        blocks = self.split(x)
        X, Y, aux = self.c.forward(blocks)
        f, gX, gY = _batched_loss_grad(X, Y, self.tau)
        return f, self.join(self.c.vjp(blocks, gX, gY, aux))

    def stationarity(self, xj, active_tol: float = 1e-12) -> float:
        """KKT residual of the original problem at one start's parameters (numpy float64,
        :meth:`FeasibleSet.stationarity`, at the reference gradient)."""
        from .objective import infonce_and_grad

        X, Y, aux = self.c.forward(_split_np(_np(xj), self.shapes, self.offsets))
        _, gX, gY = infonce_and_grad(X, Y, self.tau)
        cs = aux[0]
        if cs is not None:
            cs = tuple(None if c is None else c / np.linalg.norm(c) for c in cs)
        return self.c.stationarity(X, Y, gX, gY, cs, active_tol=active_tol)


def _batched_loss_grad(X, Y, tau: float):
    """Symmetric InfoNCE and its gradient for a batch (B, N, h) of (X, Y) pairs.

    E = exp((X Y^T - 1) / tau) (entries <= 1 for unit rows; the shift cancels in the
    gradient and adds 2 / tau to L), r = E 1, c = E^T 1:
    L = (1/N) sum_i [log r_i + log c_i] + 2 / tau - (2 / (N tau)) sum_i x_i . y_i,
    G = E o (a 1^T + 1 b^T) - 2 I / (N tau), a = 1 / (N tau r), b = 1 / (N tau c);
    dL/dX = G Y, dL/dY = G^T X (THEORY.md §1; the formulas of verify.solvers.loss_and_grad).
    float64 keeps E above underflow for 1 / tau <= 300 (|x . y - 1| <= 2).
    """
    n = X.shape[-2]
    inv = 1.0 / tau
    Z = (X * inv) @ Y.transpose(-1, -2)
    Z -= inv
    Z.exp_()
    r = Z.sum(-1)
    c = Z.sum(-2)
    diag = (X * Y).sum(-1)
    loss = (r.log().sum(-1) + c.log().sum(-1)) / n + 2.0 * inv - 2.0 * inv * diag.mean(-1)
    Z *= (1.0 / (n * tau * r))[..., :, None] + (1.0 / (n * tau * c))[..., None, :]
    k = 2.0 / (n * tau)
    gX = Z @ Y - k * Y
    gY = Z.transpose(-1, -2) @ X - k * X
    return loss, gX, gY


def _np(a) -> np.ndarray:
    return a.detach().to("cpu").double().numpy()


def _compact_direction(g, S, Yh, StY, YtY, valid, gamma, slot: int):
    """-H g for every start, H the L-BFGS inverse-Hessian approximation in the compact form
    of Byrd, Nocedal & Schnabel (Math. Prog. 63, 1994, eq. 3.1; Nocedal & Wright eq. 7.24):

        H g = gamma g + S p - gamma Y w,  R w = S^T g,
        R^T p = (D + gamma Y^T Y) w - gamma Y^T g,

    R = upper triangle of S^T Y in chronological order, D = diag(s_i . y_i). Algebraically
    the same H as the two-loop recursion; a few batched products over the memory instead
    of 4 m vector operations. S^T Y and Y^T Y are kept up to date by :func:`_push` (slot
    order); only these m x m matrices are permuted into chronological order. Empty slots
    are masked out (R_ii = 1, zero rows and columns) and drop out exactly."""
    import torch

    m = S.shape[1]
    order = torch.tensor([(slot + i) % m for i in range(m)], device=g.device)
    vf = valid.to(g.dtype)
    a_ = (S @ g[:, :, None])[..., 0] * vf
    b_ = (Yh @ g[:, :, None])[..., 0] * vf
    mask = vf[:, :, None] * vf[:, None, :]
    StYo = (StY * mask)[:, order][:, :, order]
    YtYo = (YtY * mask)[:, order][:, :, order]
    vo = valid[:, order]
    eye = torch.eye(m, dtype=g.dtype, device=g.device)
    R = torch.triu(StYo) + eye * (~vo).to(g.dtype)[:, None, :]
    Dg = torch.diagonal(StYo, dim1=1, dim2=2)
    w = torch.linalg.solve_triangular(R, a_[:, order, None], upper=True)[..., 0]
    rhs = Dg * w + gamma[:, None] * ((YtYo @ w[:, :, None])[..., 0] - b_[:, order])
    p = torch.linalg.solve_triangular(R.transpose(1, 2), rhs[:, :, None], upper=False)[..., 0]
    ps = torch.empty_like(p)
    ws = torch.empty_like(w)
    ps[:, order] = p
    ws[:, order] = w
    Hg = gamma[:, None] * g + (ps[:, None, :] @ S)[:, 0]
    Hg -= gamma[:, None] * (ws[:, None, :] @ Yh)[:, 0]
    return -Hg


def _push(S, Yh, StY, YtY, s, y, slot: int) -> None:
    """Store (s, y) in ``slot`` (zeros where a start stores nothing) and update the slot-order
    inner-product matrices S^T Y, Y^T Y in place (row and column ``slot``)."""
    S[:, slot] = s
    Yh[:, slot] = y
    sY = (Yh @ s[:, :, None])[..., 0]
    Sy = (S @ y[:, :, None])[..., 0]
    yY = (Yh @ y[:, :, None])[..., 0]
    StY[:, slot, :] = sY
    StY[:, :, slot] = Sy
    YtY[:, slot, :] = yY
    YtY[:, :, slot] = yY


def _batched_lbfgs(
    prob: _BatchProblem,
    x,
    *,
    tol: float,
    max_iter: int,
    memory: int,
    stall: int,
) -> list[_Stop]:
    """Run L-BFGS on every row of x (B, P) until each start stops; one _Stop per row."""
    import torch

    B, P = x.shape
    dev, dt = x.device, x.dtype
    eps_f = 1e-14
    has_cap = prob.c.has_cap
    ids = torch.arange(B, device=dev)
    out: list[_Stop | None] = [None] * B

    f, eg = prob(x)
    g = prob.proj(x, eg)
    S = torch.zeros((B, memory, P), dtype=dt, device=dev)
    Yh = torch.zeros_like(S)
    StY = torch.zeros((B, memory, memory), dtype=dt, device=dev)
    YtY = torch.zeros_like(StY)
    valid = torch.zeros((B, memory), dtype=torch.bool, device=dev)
    gamma = torch.ones(B, dtype=dt, device=dev)
    best_f = f.clone()
    best_it = torch.zeros(B, dtype=torch.long, device=dev)
    fev = torch.ones(B, dtype=torch.long, device=dev)
    slot = 0
    it = 0

    def finish(mask, ok: bool, message: str):
        for j in torch.nonzero(mask).flatten().tolist():
            k = int(ids[j])
            out[k] = _Stop(_np(x[j]), float(f[j]), it, int(fev[j]), ok, message)

    while True:
        pnorm = (g * g).sum(-1).sqrt()
        if not has_cap:
            conv = pnorm <= tol
        else:  # screen by the lifted gradient, then the float64 KKT residual
            conv = torch.zeros_like(pnorm, dtype=torch.bool)
            for j in torch.nonzero(pnorm <= 1e3 * tol).flatten().tolist():
                conv[j] = prob.stationarity(x[j]) <= tol
        finish(conv, True, "gradient norm below tol")
        done = conv.clone()
        better = f < best_f - eps_f * torch.clamp(best_f.abs(), min=1.0)
        best_f = torch.where(better, f, best_f)
        best_it = torch.where(better, torch.full_like(best_it, it), best_it)
        stalled = ~done & ~better & (it - best_it >= stall)
        finish(
            stalled,
            False,
            f"no decrease of the loss beyond rounding in {stall} iterations "
            "(precision floor: tol not reachable in this dtype?)",
        )
        done |= stalled
        flat = ~done & (pnorm <= 1e-3 * tol)
        finish(flat, False, "stationary in the lift but not a KKT point of the constrained problem")
        done |= flat
        if it >= max_iter:
            finish(~done, False, "iteration limit reached")
            break
        if bool(done.any()):
            keep = ~done
            ids, x, f, g, pnorm = ids[keep], x[keep], f[keep], g[keep], pnorm[keep]
            S, Yh, valid, StY, YtY = S[keep], Yh[keep], valid[keep], StY[keep], YtY[keep]
            gamma, best_f, best_it, fev = gamma[keep], best_f[keep], best_it[keep], fev[keep]
        if not ids.numel():
            break
        has_mem = valid.any(1)
        d = prob.proj(x, _compact_direction(g, S, Yh, StY, YtY, valid, gamma, slot))
        dg = (d * g).sum(-1)
        dnorm = (d * d).sum(-1).sqrt()
        steep = ~has_mem | ~(dg < -1e-12 * dnorm * pnorm)
        valid[steep] = False
        d = torch.where(steep[:, None], -g, d)
        dg = torch.where(steep, -pnorm * pnorm, dg)
        t = torch.where(steep, 0.1 / torch.clamp(prob.max_row(g), min=1e-300), 1.0)
        # backtracking line search, each start on its own
        xn = x.clone()
        fn = f.clone()
        egn = torch.zeros_like(g)
        accepted = torch.zeros_like(steep)
        pending = torch.ones_like(steep)
        for _ in range(60):
            pi = torch.nonzero(pending).flatten()
            if not pi.numel():
                break
            xt = prob.retract(x[pi], t[pi, None] * d[pi])
            ft, egt = prob(xt)
            fev[pi] += 1
            ok = ft <= f[pi] + 1e-4 * t[pi] * dg[pi] + eps_f * torch.clamp(f[pi].abs(), min=1.0)
            acc = pi[ok]
            xn[acc], fn[acc], egn[acc] = xt[ok], ft[ok], egt[ok]
            accepted[acc] = True
            pending[acc] = False
            rej = pi[~ok]
            tr, fr = t[rej], ft[~ok]
            denom = 2.0 * (fr - f[rej] - dg[rej] * tr)
            good = (denom > 0) & torch.isfinite(denom)
            tq = torch.where(good, -dg[rej] * tr * tr / torch.where(good, denom, 1.0), 0.5 * tr)
            t[rej] = torch.minimum(torch.maximum(tq, 0.1 * tr), 0.5 * tr)
        failed = ~accepted
        dead = failed & steep
        finish(dead, False, "line search failed")
        valid[failed] = False  # retry along steepest descent next iteration
        gnew = prob.proj(xn, egn)
        s = xn - x
        y = gnew - g
        sy = (s * y).sum(-1)
        yy = (y * y).sum(-1)
        ss = (s * s).sum(-1)
        push = accepted & (sy > 1e-10 * (ss * yy).sqrt())
        keep_pair = push[:, None]
        _push(S, Yh, StY, YtY, torch.where(keep_pair, s, 0.0), torch.where(keep_pair, y, 0.0), slot)
        valid[:, slot] = push
        gamma = torch.where(push, sy / torch.where(push, yy, 1.0), gamma)
        slot = (slot + 1) % memory
        x = torch.where(accepted[:, None], xn, x)
        f = torch.where(accepted, fn, f)
        g = torch.where(accepted[:, None], gnew, g)
        it += 1
        if bool(dead.any()):
            keep = ~dead
            ids, x, f, g = ids[keep], x[keep], f[keep], g[keep]
            S, Yh, valid, StY, YtY = S[keep], Yh[keep], valid[keep], StY[keep], YtY[keep]
            gamma, best_f, best_it, fev = gamma[keep], best_f[keep], best_it[keep], fev[keep]
            if not ids.numel():
                break
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
) -> SolveResult | tuple[SolveResult, list[dict]]:
    """Minimise L_N (THEORY.md §1) from many starts at once; same answer as
    :func:`verify.solvers.solve` with method="lbfgs", run as one batch.

    Starts: one per seed (the same random lift point as ``solve`` uses for that seed), or
    the given feasible points ``starts`` = [(X0, Y0, centres0), ...] (centres0 None for
    constraints without caps or to use the smallest enclosing caps). torch float64 on
    ``device`` ("cpu" default, "cuda" where available), in chunks of ``chunk`` starts
    (default :func:`default_chunk`). Returns a :class:`verify.solvers.SolveResult` with
    method "batched": the best start's point, its float64 KKT check, and one StartRecord
    per start (in the order of the seeds / starts). ``return_points=True`` also returns
    every start's final point: a list of :func:`verify.solvers.final_check` dicts (X, Y,
    centres, loss, grad_norm, violation, converged, message, n_iter, n_fev).
    """
    import torch

    check_feasible_set(constraint)
    n = check_int_in_range(n, "n", 2, 10**7)
    tau = check_positive(tau, "tau")
    tol = check_positive(tol, "tol")
    max_iter = check_int_in_range(max_iter, "max_iter", 0, 10**9)
    memory = check_int_in_range(memory, "memory", 1, 1000)
    stall = check_int_in_range(stall, "stall", 1, 10**9)
    if 1.0 / tau > 300.0:
        raise InputError(f"tau must be >= 1/300 for the batched float64 kernel, got {tau}")
    device = torch.device(device or "cpu")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise InputError("device 'cuda' requested but torch.cuda.is_available() is False")
    prob = _BatchProblem(constraint, n, tau)
    labels, params = _start_params(constraint, n, seeds, starts)
    if chunk is None:
        chunk = default_chunk(n, prob.size, memory, constraint.h)
    chunk = check_int_in_range(chunk, "chunk", 1, 10**9)

    t0 = time.perf_counter()
    stops: list[_Stop] = []
    for lo in range(0, len(params), chunk):
        x0 = torch.as_tensor(np.stack(params[lo : lo + chunk]), dtype=torch.float64, device=device)
        stops += _batched_lbfgs(prob, x0, tol=tol, max_iter=max_iter, memory=memory, stall=stall)
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
