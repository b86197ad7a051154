"""Population (large-N) reading of the symmetric InfoNCE objective under vMF marginals.

Seed paper: L. Yi, R. Douady, C. Chen, arXiv 2510.03268 (docs/theory.md §1 and §3): the paper
studies lim_{N -> inf} (L_N - 2 log N) with each modality modelled as a von Mises-Fisher
distribution. The paper's closed forms J and J~ are UNKNOWN to this project; what follows is
THIS PROJECT'S READING, computed from first principles.

The population objective
------------------------
For N i.i.d. pairs (x_i, y_i) drawn from a coupling pi of the two marginals,

    L_N - 2 log N = (1/N) sum_i [ -2 x_i.y_i / tau
                                  + log( (1/N) sum_j exp(x_i.y_j / tau) )
                                  + log( (1/N) sum_j exp(y_i.x_j / tau) ) ].

For fixed i the inner average converges (law of large numbers; the single j = i term is
O(1/N)) to E_{y'} exp(x_i.y'/tau) with y' an independent copy of y, and the outer average
converges to an expectation over the pairs, so almost surely

    F = -(2/tau) E_pi[x.y] + E_x log E_{y'} exp(x.y'/tau) + E_y log E_{x'} exp(y.x'/tau).

F depends on the coupling only through E_pi[x.y] (the alignment term); the two uniformity
terms depend only on the marginals.

Inner expectations in closed form (vMF MGF, docs/theory.md §1; Mardia & Jupp 2000, §9.3):
E_{y' ~ vMF(c_y, kappa_y)} exp(a.y') = C_m(kappa_y) / C_m(|kappa_y c_y + a|), so with
a = x/tau (no constraint) |kappa_y c_y + x/tau|^2 = kappa_y^2 + 2 kappa_y (x.c_y)/tau + 1/tau^2,
and in the subspace setting (x in hyperplane A, y' on the unit sphere of hyperplane B, m = h-1)
a = P_B x / tau, |kappa_y c_y + P_B x/tau|^2 = kappa_y^2 + 2 kappa_y (x.c_y)/tau + |P_B x|^2/tau^2
(the paper's M~(w, t) with w = x.c_y, t = |P_B x|, Bessel order (h-1)/2 - 1).

Outer expectations by quadrature over the low-dimensional law of the projections that enter:
for x ~ vMF(c, kappa) on S^{m-1}, x = t c + s u with t = x.c, s = sqrt(1 - t^2) and u uniform
on the unit sphere of c^perp (independent of t). t = cos(theta) has density proportional to
sin(theta)^{m-2} e^{kappa cos theta} on [0, pi]; the projection of u onto one unit direction
of c^perp is v = cos(psi) with density prop. to sin(psi)^{m-3} on [0, pi]; onto two orthonormal
directions it is rho (cos omega, sin omega) with rho = sin(chi), density prop. to
sin(chi) cos(chi)^{m-4} on [0, pi/2] and omega uniform (m >= 4; rho = 1 when m = 3).
Each 1-D law is integrated by Gauss-Legendre on the window where its log-density lies within
``DROP`` = 40 nats of its maximum (mass outside < 1e-15), split at the mode, weights formed in
log space and normalised; omega by the (spectrally accurate) periodic trapezoid rule.
Accuracy is stated by refinement: every objective can report |F_n - F_2n|.

Couplings (the paper does not give one: UNKNOWN; this project's choice, stated)
------------------------------------------------------------------------------
"polar" (comonotone polar coupling): write x = t c_x + s u as above and set
y = t' c_y + s' M u, with t' = G_y^{-1}(G_x(t)) the quantile (comonotone) map between the
laws of x.c_x and y.c_y, s' = sqrt(1 - t'^2), and M an isometry taking c_x to c_y and
c_x^perp to c_y^perp (inside the allowed sets). Then y has exactly the vMF(c_y, kappa_y) law
and, since E u = 0 and E[u.Mu] = tr(P M)/(m-1) (P the projector onto c_x^perp),

    E[x.y] = (c_x.c_y) E[t t'] + E[s s'] tr(P M) / (m - 1).

No constraint: M = R, the rotation in the plane (c_x, c_y) by Delta_theta, tr(P R) = m-2+cos Delta,

    E[x.y] = cos(Delta) E[t t'] + E[s s'] (1 - (1 - cos Delta)/(m - 1)).

When kappa_x = kappa_y, t' = t and y = R x exactly (the "rotation coupling"), so
E[x.y] = 1 - (1 - cos Delta)(E t^2 + E (x.e)^2) with the vMF moments of verify.vmf.moments.
Subspace setting: M = Q R_H, with R_H the hyperplane rotation fixing C = A cap B and taking A
onto B (verify.geometry.rotation_onto) and Q the rotation inside B, in the plane of
(R_H c_x, c_y), taking R_H c_x to c_y.
"independent": x and y independent, E[x.y] = A_m(kappa_x) A_m(kappa_y) cos(Delta)
(a deliberately misaligned coupling, used to probe Theorem 1's bound).

Frames
------
No constraint: c_x = e_0, c_y = cos(Delta) e_0 + sin(Delta) e_1 in R^h (sphere S^{h-1}, m = h).
Subspace: the frame of verify.geometry.hyperplanes_with_angle(h, phi): C = span(e_0..e_{h-3}),
a = e_{h-2} (A = C + a), n_A = e_{h-1}, b = cos(phi) a + sin(phi) n_A (B = C + b), a.b = cos phi.
Centres: c_x = cos(beta_x) a + sin(beta_x) p, c_y = cos(beta_y) b + sin(beta_y) p' with p, p'
unit vectors of C at angle gamma (p' = e_0, p = cos(gamma) e_0 + sin(gamma) e_1). Up to the
rotations of C (which fix A and B), (beta_x, beta_y, gamma) parametrise every pair of centres.
The paper's claimed optimum (Theorem 3) is beta_x = beta_y = 0 (Delta_theta = phi).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize

from modgap.verify import vmf
from modgap.verify._validation import (
    as_unit_rows,
    check_angle,
    check_int_in_range,
    check_nonnegative,
    check_paired,
    check_positive,
)
from modgap.verify.objective import infonce

from ._validation import InputError

__all__ = [
    "DROP",
    "ProjectionRule",
    "PopulationValue",
    "DeltaMinimum",
    "SubspaceMinimum",
    "MCEstimate",
    "theorem1_bound",
    "polar_rule",
    "tangent_rule",
    "projection_rule",
    "comonotone_moments",
    "cone_pair_cosine",
    "cone_objective",
    "cone_objective_grid",
    "cone_curvature_at_zero",
    "minimise_over_delta",
    "subspace_frame",
    "subspace_centres",
    "subspace_pair_cosine",
    "subspace_objective",
    "subspace_objective_grid",
    "minimise_subspace",
    "sample_cone_pairs",
    "sample_subspace_pairs",
    "monte_carlo_objective",
    "monte_carlo_subspace_objective",
    "shifted_infonce",
    "uniform_finite_batch_correction",
]

#: Log-density drop (nats) that bounds every quadrature window (neglected mass < e^-40 * width).
DROP = 40.0
_NEG = -1e300
COUPLINGS = ("polar", "independent")


# ============================================================================ quadrature


@dataclass(frozen=True)
class ProjectionRule:
    """A discrete probability law (nodes, weights) for projections of x ~ vMF(c, kappa).

    values: (n_nodes, q) the values x.d_j at the nodes; t: (n_nodes,) x.c; weights: (n_nodes,)
    non-negative, summing to 1. E f(x.d_1, ..., x.d_q) ~= sum_k weights_k f(values_k).
    """

    values: np.ndarray
    t: np.ndarray
    weights: np.ndarray

    def expect(self, f: Callable[[np.ndarray], np.ndarray]) -> float:
        """sum_k w_k f(values)_k for a vectorised f of the (n_nodes, q) values."""
        return float(np.dot(self.weights, f(self.values)))


@functools.lru_cache(maxsize=32)
def _leggauss(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights on [-1, 1] (numpy.polynomial.legendre.leggauss), cached."""
    x, w = np.polynomial.legendre.leggauss(n)
    x.setflags(write=False)
    w.setflags(write=False)
    return x, w


def _safe_log(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        out = np.log(x)
    return np.where(np.isfinite(out), out, _NEG)


def _window_rule(
    logdens: Callable[[np.ndarray], np.ndarray], lo: float, hi: float, mode: float, n: int
) -> tuple[np.ndarray, np.ndarray, float, tuple[float, float]]:
    """Gauss-Legendre rule for the density exp(logdens) on [lo, hi] (unimodal, mode given).

    The window is {logdens >= max - DROP} (found by brentq on each side of the mode), split at
    the mode into two panels of n nodes each. Returns (nodes, normalised weights, log of the
    integral of exp(logdens) over the window).
    """

    def f(x: float) -> float:
        return float(logdens(np.array([x]))[0])

    l_star = f(mode)
    level = l_star - DROP
    left = lo if f(lo) >= level else optimize.brentq(lambda x: f(x) - level, lo, mode, xtol=1e-15)
    right = hi if f(hi) >= level else optimize.brentq(lambda x: f(x) - level, mode, hi, xtol=1e-15)
    g_x, g_w = _leggauss(n)
    nodes, weights = [], []
    for a, b in ((left, mode), (mode, right)):
        if b - a <= 0:
            continue
        nodes.append(0.5 * (b - a) * g_x + 0.5 * (a + b))
        weights.append(0.5 * (b - a) * g_w)
    x = np.concatenate(nodes)
    logw = np.log(np.concatenate(weights)) + logdens(x) - l_star
    w = np.exp(logw)
    total = float(w.sum())
    return x, w / total, l_star + math.log(total), (left, right)


def _check_m(m: Any) -> int:
    return check_int_in_range(m, "m", 3, vmf.MAX_DIM)


def _check_n(n: Any) -> int:
    return check_int_in_range(n, "n", 4, 4096)


@dataclass(frozen=True)
class _Polar:
    lo: float
    hi: float
    theta: np.ndarray
    t: np.ndarray
    s: np.ndarray
    weights: np.ndarray
    log_mass: float


def _polar_mode(m: int, kappa: float) -> float:
    """Mode of sin(theta)^{m-2} e^{kappa cos theta}: cos(theta) = root in [0, 1] of
    kappa c^2 + (m-2) c - kappa."""
    if kappa == 0.0:
        return 0.5 * math.pi if m > 2 else 0.0
    b = m - 2.0
    c = 2.0 * kappa / (b + math.sqrt(b * b + 4.0 * kappa * kappa))  # stable root
    return math.acos(min(1.0, c))


def polar_rule(m: int, kappa: float, n: int = 64) -> _Polar:
    """Quadrature for the law of theta = arccos(x.c), x ~ vMF(c, kappa) on S^{m-1}.

    Density of theta on [0, pi] proportional to sin(theta)^{m-2} exp(kappa cos theta)
    (Mardia & Jupp 2000, §9.3.2: t = x.c has density prop. to (1-t^2)^{(m-3)/2} e^{kappa t}).
    Mode: cos(theta*) = 2 kappa / ((m-2) + sqrt((m-2)^2 + 4 kappa^2)) (unimodal: the
    stationarity condition kappa c^2 + (m-2) c - kappa = 0 has one root in [-1, 1]).
    Returns the window [lo, hi], nodes theta, t = cos theta, s = sin theta, normalised weights,
    and log_mass = log of the integral of sin^{m-2} e^{kappa (cos theta - 1)} over the window.
    n: nodes per panel (two panels split at the mode).
    """
    return _polar_rule_cached(_check_m(m), check_nonnegative(kappa, "kappa"), _check_n(n))


def _read_only(*arrays: np.ndarray) -> None:
    for a in arrays:
        a.setflags(write=False)


@functools.lru_cache(maxsize=1024)
def _polar_rule_cached(m: int, kappa: float, n: int) -> _Polar:
    """:func:`polar_rule` after validation, memoised: the rule depends only on (m, kappa, n)
    and every population objective asks for the same few rules again and again (read-only
    arrays, so that a shared rule cannot be changed by a caller)."""

    def logdens(th: np.ndarray) -> np.ndarray:
        return (m - 2.0) * _safe_log(np.sin(th)) + kappa * (np.cos(th) - 1.0)

    mode = _polar_mode(m, kappa)
    th, w, log_mass, (lo, hi) = _window_rule(logdens, 0.0, math.pi, mode, n)
    t, s = np.cos(th), np.sin(th)
    _read_only(th, t, s, w)
    return _Polar(lo=lo, hi=hi, theta=th, t=t, s=s, weights=w, log_mass=log_mass)


def tangent_rule(m: int, rank: int, n: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """Quadrature for the projection of u ~ Uniform(S^{m-2}) (the unit sphere of c^perp in R^m)
    onto ``rank`` (0, 1 or 2) orthonormal directions.

    rank 1: v = cos(psi), psi density prop. to sin(psi)^{m-3} on [0, pi] (the marginal
    (1 - v^2)^{(m-4)/2} of a coordinate of a uniform point of S^{m-2}; m = 3 gives the arcsine
    law of cos of a uniform angle). rank 2: (v1, v2) = rho (cos omega, sin omega), rho = sin(chi),
    chi density prop. to sin(chi) cos(chi)^{m-4} on [0, pi/2] (the 2-D marginal has density
    prop. to (1 - rho^2)^{(m-5)/2}, m >= 4), omega uniform on [0, 2 pi) (trapezoid rule, 2n nodes);
    m = 3: rho = 1. Returns (values (k, rank), weights (k,)) with weights summing to 1.
    """
    return _tangent_rule_cached(_check_m(m), check_int_in_range(rank, "rank", 0, 2), _check_n(n))


@functools.lru_cache(maxsize=256)
def _tangent_rule_cached(m: int, rank: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`tangent_rule` after validation, memoised (read-only arrays, as
    :func:`_polar_rule_cached`)."""
    vals, w = _tangent_rule(m, rank, n)
    _read_only(vals, w)
    return vals, w


def _tangent_rule(m: int, rank: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    if rank == 0:
        return np.zeros((1, 0)), np.ones(1)
    if rank == 1:
        psi, w, _, _ = _window_rule(
            lambda p: (m - 3.0) * _safe_log(np.sin(p)), 0.0, math.pi, 0.5 * math.pi, n
        )
        return np.cos(psi)[:, None], w
    n_om = 2 * n
    om = 2.0 * math.pi * (np.arange(n_om) + 0.5) / n_om
    if m == 3:
        rho, w_rho = np.ones(1), np.ones(1)
    else:
        mode = 0.5 * math.pi if m == 4 else math.atan(1.0 / math.sqrt(m - 4.0))
        chi, w_rho, _, _ = _window_rule(
            lambda c: _safe_log(np.sin(c)) + (m - 4.0) * _safe_log(np.cos(c)),
            0.0,
            0.5 * math.pi,
            mode,
            n,
        )
        rho = np.sin(chi)
    R, O = np.meshgrid(rho, om, indexing="ij")
    W = np.outer(w_rho, np.full(n_om, 1.0 / n_om))
    vals = np.stack([(R * np.cos(O)).ravel(), (R * np.sin(O)).ravel()], axis=1)
    return vals, W.ravel()


def projection_rule(m: int, kappa: float, c: Any, D: Any, n: int = 64) -> ProjectionRule:
    """Law of (x.d_1, ..., x.d_q) for x ~ vMF(c, kappa) on S^{m-1}, by tensor quadrature.

    ``c`` (unit) and the rows of ``D`` (q x k, any length) are given in a k-dim coordinate
    frame (k <= m) of a subspace of R^m; the other m - k coordinates are implicit. With
    x = t c + s u (t = x.c, s = sqrt(1-t^2), u uniform on the unit sphere of c^perp):
    x.d_j = t (c.d_j) + s (u.f) . (F^T d_j), F an orthonormal basis of the tangential parts
    d_j - (c.d_j) c (rank <= 2). The t-law uses :func:`polar_rule` (n nodes per panel),
    the u-projection :func:`tangent_rule` (n per panel). Requires m >= 3.
    """
    m = _check_m(m)
    c = np.asarray(c, dtype=np.float64)
    D = np.atleast_2d(np.asarray(D, dtype=np.float64))
    if c.ndim != 1 or D.shape[1] != c.size or c.size > m:
        raise InputError(f"c (k,) and D (q, k) with k <= m = {m}; got {c.shape}, {D.shape}")
    if abs(np.linalg.norm(c) - 1.0) > 1e-9:
        raise InputError(f"c must be a unit vector, got norm {np.linalg.norm(c):.6g}")
    pol = polar_rule(m, kappa, n)
    along = D @ c  # (q,)
    tang = D - np.outer(along, c)
    U, sv, _ = np.linalg.svd(tang.T, full_matrices=False)
    rank = int(np.sum(sv > 1e-12 * max(1.0, float(sv.max(initial=0.0)))))
    if rank > 2:  # pragma: no cover - q <= 2 in this module
        raise InputError("at most two independent tangential directions are supported")
    F = U[:, :rank]  # (k, rank)
    coef = tang @ F  # (q, rank): d_j's tangential coordinates
    v, wv = tangent_rule(m, rank, n)
    vals = pol.t[:, None, None] * along[None, None, :] + pol.s[:, None, None] * (v @ coef.T)[None]
    W = np.outer(pol.weights, wv)
    T = np.broadcast_to(pol.t[:, None], W.shape)
    return ProjectionRule(values=vals.reshape(-1, D.shape[0]), t=T.ravel(), weights=W.ravel())


# ============================================================================ comonotone map


def _logsumexp_rows(a: np.ndarray) -> np.ndarray:
    """log sum_k exp(a[:, k]) per row, shifted by the row maximum (a row of -inf gives -inf).

    The formula of scipy.special.logsumexp without its per-call array-API dispatch, which
    cost more than the arithmetic on the small arrays of :func:`_log_cdf_theta`."""
    top = a.max(axis=1)
    shift = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return np.log(np.exp(a - shift[:, None]).sum(axis=1)) + shift


def _log_cdf_theta(m: int, kappa: float, pol: _Polar, theta: np.ndarray, n: int) -> np.ndarray:
    """log P(Theta <= theta) for the polar angle of vMF(kappa) on S^{m-1}: Gauss-Legendre
    (2n nodes) on [lo, theta], lo the left end of the window of ``pol`` (same log-density)."""
    lo = pol.lo
    g_x, g_w = _leggauss(2 * n)
    th = np.clip(theta, lo, math.pi)
    half = 0.5 * (th - lo)
    x = half[:, None] * g_x[None, :] + (0.5 * (th + lo))[:, None]
    ld = _polar_logdens(m, kappa)(x)
    with np.errstate(divide="ignore"):
        logint = _logsumexp_rows(ld + np.log(g_w)[None, :]) + np.log(half)
    out = np.where(half > 0, logint - pol.log_mass, -np.inf)
    return np.minimum(out, 0.0)


#: Grid cells that bracket each quantile before the safeguarded Newton steps, and the most
#: steps (each at least halves the bracket when Newton's step would leave it).
_QUANTILE_GRID, _QUANTILE_STEPS = 64, 60


def _quantile_theta(m: int, kappa: float, log_p: np.ndarray, n: int) -> np.ndarray:
    """Inverse of :func:`_log_cdf_theta`: theta with log G(theta) = log_p, vectorised.

    Bracketed: G on a grid of 65 angles across the window gives, per entry, a cell [a, b]
    with log G(a) < log_p <= log G(b) (the invariant of a bisection from [lo, hi]). Then
    safeguarded Newton on f(theta) = log G(theta) - log_p, whose slope is
    G'(theta) / G(theta) = exp(logdens(theta) - log_mass - log G(theta)): the Newton point
    where it falls inside the bracket (ends included), the bracket's midpoint otherwise, and the
    bracket shrunk by the sign of f; a Newton step longer than half the previous step is
    replaced by the midpoint too (Press et al., Numerical Recipes, 3rd ed., §9.4, 'rtsafe';
    it matters where G is flat at 1 within rounding). An entry stops when its step or its
    bracket is below 4 ulp of pi; each step works on the entries still moving (at most 60
    steps, each at least halving a bracket it does not Newton-step through).
    """
    pol = polar_rule(m, kappa, n)
    log_p = np.asarray(log_p, dtype=np.float64)
    at_lo = np.isneginf(log_p)  # G = 0: the left end (where bisection ends too)
    grid = np.linspace(pol.lo, pol.hi, _QUANTILE_GRID + 1)
    lg = np.maximum.accumulate(_log_cdf_theta(m, kappa, pol, grid, n))
    target = np.where(at_lo, lg[1], log_p)
    j = np.clip(np.searchsorted(lg, target, side="left") - 1, 0, _QUANTILE_GRID - 1)
    a, b = grid[j].copy(), grid[j + 1].copy()
    logdens = _polar_logdens(m, kappa)
    tol = 4.0 * np.finfo(np.float64).eps * math.pi
    th = 0.5 * (a + b)
    last_step = b - a
    act = np.arange(th.size)  # entries still moving: each step works on these only
    for _ in range(_QUANTILE_STEPS):
        x, lo_, hi_ = th[act], a[act], b[act]
        log_g = _log_cdf_theta(m, kappa, pol, x, n)
        f = log_g - target[act]
        below = f < 0
        lo_ = np.where(below, x, lo_)
        hi_ = np.where(below, hi_, x)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            newton = x - f / np.exp(logdens(x) - pol.log_mass - log_g)
        fast = np.abs(newton - x) <= 0.5 * last_step[act]  # else a bisection halves faster
        inside = np.isfinite(newton) & (newton >= lo_) & (newton <= hi_) & fast
        nxt = np.where(f == 0, x, np.where(inside, newton, 0.5 * (lo_ + hi_)))
        step = np.abs(nxt - x)
        th[act], a[act], b[act], last_step[act] = nxt, lo_, hi_, step
        act = act[(step > tol) & (hi_ - lo_ > tol)]
        if act.size == 0:
            break
    return np.where(at_lo, pol.lo, th)


def comonotone_moments(m: int, kappa_x: float, kappa_y: float, n: int = 64) -> tuple[float, float]:
    """(E[t t'], E[s s']) under the comonotone (quantile) coupling of t = x.c_x and t' = y.c_y.

    t ~ law of vMF(kappa_x), t' = G_y^{-1}(G_x(t)) ~ law of vMF(kappa_y) on S^{m-1}
    (G the CDFs; the coupling that maximises E[t t'] among couplings of the two laws, by the
    rearrangement inequality), s = sqrt(1-t^2), s' = sqrt(1-t'^2). Integrated on the nodes
    of :func:`polar_rule` for x, with the CDFs by Gauss-Legendre and the quantile by bisection.
    For kappa_x = kappa_y, t' = t and the result is (E t^2, 1 - E t^2) exactly.
    """
    m = _check_m(m)
    kx = check_nonnegative(kappa_x, "kappa_x")
    ky = check_nonnegative(kappa_y, "kappa_y")
    n = _check_n(n)
    return _comonotone_cached(m, kx, ky, n)


#: Log-density drops (nats below the mode) at which the comonotone rule puts panel breaks.
_LEVELS = (3.0, 10.0, 25.0)


def _polar_logdens(m: int, kappa: float) -> Callable[[np.ndarray], np.ndarray]:
    return lambda th: (m - 2.0) * _safe_log(np.sin(th)) + kappa * (np.cos(th) - 1.0)


def _level_points(m: int, kappa: float, pol: _Polar) -> list[float]:
    """Polar angles where the log-density is _LEVELS below its maximum (both sides), plus the
    mode and the window ends."""
    f = _polar_logdens(m, kappa)
    mode = _polar_mode(m, kappa)
    lo, hi = pol.lo, pol.hi
    top = float(f(np.array([mode]))[0])
    pts = [lo, mode, hi]
    for a, b in ((lo, mode), (mode, hi)):
        fa, fb = float(f(np.array([a]))[0]), float(f(np.array([b]))[0])
        for L in _LEVELS:
            lev = top - L
            if (fa - lev) * (fb - lev) < 0:
                pts.append(optimize.brentq(lambda x, v=lev: float(f(np.array([x]))[0]) - v, a, b))
    return pts


@functools.lru_cache(maxsize=4096)
def _comonotone_cached(m: int, kx: float, ky: float, n: int) -> tuple[float, float]:
    pol = polar_rule(m, kx, n)
    if kx == ky:
        return float(np.dot(pol.weights, pol.t**2)), float(np.dot(pol.weights, pol.s**2))
    # Composite Gauss-Legendre in x's polar angle, with panel breaks at x's own density levels
    # and at the images Q_x(G_y(.)) of y's density levels: t'(theta) = Q_y(G_x(theta)) is steep
    # where y's density is small, so each panel must cover a bounded range of both densities.
    pol_y = polar_rule(m, ky, n)
    ty_pts = np.array(_level_points(m, ky, pol_y))
    mapped = _quantile_theta(m, kx, _log_cdf_theta(m, ky, pol_y, ty_pts, n), n)
    lo, hi = pol.lo, pol.hi
    brk = np.unique(np.clip(np.concatenate([_level_points(m, kx, pol), mapped]), lo, hi))
    g_x, g_w = _leggauss(n)
    a, b = brk[:-1], brk[1:]
    keep = b - a > 1e-15 * max(1.0, hi)
    a, b = a[keep], b[keep]
    th = (0.5 * (b - a)[:, None] * g_x[None, :] + 0.5 * (a + b)[:, None]).ravel()
    logw = np.log((0.5 * (b - a)[:, None] * g_w[None, :]).ravel()) + _polar_logdens(m, kx)(th)
    w = np.exp(logw - logw.max())
    w /= w.sum()
    log_p = _log_cdf_theta(m, kx, pol, th, n)
    th_y = _quantile_theta(m, ky, log_p, n)
    t, sx = np.cos(th), np.sin(th)
    return float(np.dot(w, t * np.cos(th_y))), float(np.dot(w, sx * np.sin(th_y)))


# ============================================================================ records


@dataclass
class PopulationValue:
    """The population objective F and its parts (see module docstring).

    objective = alignment + uniformity_x + uniformity_y; alignment = -(2/tau) E[x.y];
    uniformity_x = E_x log E_{y'} exp(x.y'/tau); uniformity_y likewise; pair_cosine = E[x.y];
    quad_error = |F_n - F_2n| (NaN when not estimated); n = nodes per panel.
    """

    objective: float
    alignment: float
    uniformity_x: float
    uniformity_y: float
    pair_cosine: float
    quad_error: float = float("nan")
    n: int = 0
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass
class MCEstimate:
    """A Monte Carlo mean with its standard error (std / sqrt(n_samples))."""

    mean: float
    stderr: float
    n_samples: int


# ============================================================================ Theorem 1


def theorem1_bound(h: int, tau: float) -> float:
    """Theorem 1's bound B(h, tau) = -2/tau + 2 log( Gamma(nu+1) (2 tau)^nu I_nu(1/tau) ),
    nu = h/2 - 1 (Yi, Douady & Chen, arXiv 2510.03268, Theorem 1; docs/theory.md §3).

    Equals -2/tau + 2 log E exp(x.y/tau) for y uniform on S^{h-1} and any unit x (the uniform
    MGF at |a| = 1/tau, docs/theory.md §1), evaluated in log space by verify.vmf.log_mgf_uniform.
    """
    h = check_int_in_range(h, "h", 2, vmf.MAX_DIM)
    tau = check_positive(tau, "tau")
    return -2.0 / tau + 2.0 * float(vmf.log_mgf_uniform(h, 1.0 / tau))


# ============================================================================ no constraint / cone


def _inner_log_mgf(m: int, kappa: float, r: np.ndarray) -> np.ndarray:
    """log C_m(kappa) - log C_m(r): log E exp(a.y') for y' ~ vMF(kappa), |kappa c + a| = r."""
    return vmf.log_normalizer(m, kappa) - vmf.log_normalizer(m, r)


def _r_free(kappa: float, tau: float, w: np.ndarray) -> np.ndarray:
    """|kappa c + x/tau| = sqrt((kappa - 1/tau)^2 + 2 kappa (1 + w)/tau), w = x.c (no cancellation
    near w = -1, kappa = 1/tau)."""
    return np.sqrt((kappa - 1.0 / tau) ** 2 + 2.0 * kappa * np.maximum(1.0 + w, 0.0) / tau)


def _check_common(h: Any, tau: Any, kappa_x: Any, kappa_y: Any) -> tuple[int, float, float, float]:
    return (
        check_int_in_range(h, "h", 3, vmf.MAX_DIM),
        check_positive(tau, "tau"),
        check_nonnegative(kappa_x, "kappa_x"),
        check_nonnegative(kappa_y, "kappa_y"),
    )


def cone_pair_cosine(
    h: int, kappa_x: float, kappa_y: float, delta: float, *, coupling: str = "polar", n: int = 64
) -> float:
    """E[x.y] for x ~ vMF(c_x, kappa_x), y ~ vMF(c_y, kappa_y) on S^{h-1}, c_x.c_y = cos(delta).

    coupling "polar": cos(delta) E[t t'] + E[s s'] (1 - (1 - cos delta)/(h - 1)) (module
    docstring; this project's coupling, the paper's is UNKNOWN). coupling "independent":
    A_h(kappa_x) A_h(kappa_y) cos(delta), A_h the mean resultant length (verify.vmf).
    """
    h = check_int_in_range(h, "h", 3, vmf.MAX_DIM)
    delta = check_angle(delta, "delta", high=math.pi)
    if coupling == "independent":
        ax = float(vmf.mean_resultant_length(h, kappa_x))
        ay = float(vmf.mean_resultant_length(h, kappa_y))
        return ax * ay * math.cos(delta)
    if coupling != "polar":
        raise InputError(f"coupling must be one of {COUPLINGS}, got {coupling!r}")
    ett, ess = comonotone_moments(h, kappa_x, kappa_y, n)
    cd = math.cos(delta)
    return cd * ett + ess * (1.0 - (1.0 - cd) / (h - 1.0))


def _cone_value(
    h: int, tau: float, kx: float, ky: float, delta: float, coupling: str, n: int
) -> PopulationValue:
    cd, sd = math.cos(delta), math.sin(delta)
    e0 = np.array([1.0, 0.0])
    e_d = np.array([cd, sd])
    # x-side: w = x.c_y, x ~ vMF(e0, kx); y-side: w = y.c_x, y ~ vMF(e_d, ky).
    rule_x = projection_rule(h, kx, e0, e_d[None, :], n)
    rule_y = projection_rule(h, ky, e_d, e0[None, :], n)
    ux = rule_x.expect(lambda v: _inner_log_mgf(h, ky, _r_free(ky, tau, v[:, 0])))
    uy = rule_y.expect(lambda v: _inner_log_mgf(h, kx, _r_free(kx, tau, v[:, 0])))
    exy = cone_pair_cosine(h, kx, ky, delta, coupling=coupling, n=n)
    params = dict(h=h, tau=tau, kappa_x=kx, kappa_y=ky, delta=delta, coupling=coupling)
    return _assemble(tau, exy, ux, uy, n, params)


def _assemble(
    tau: float, exy: float, ux: float, uy: float, n: int, params: dict[str, Any]
) -> PopulationValue:
    """F = -(2/tau) E[x.y] + U_x + U_y as a :class:`PopulationValue`."""
    align = -2.0 / tau * exy
    return PopulationValue(
        objective=align + ux + uy,
        alignment=align,
        uniformity_x=ux,
        uniformity_y=uy,
        pair_cosine=exy,
        n=n,
        parameters=params,
    )


def _refined(
    value: Callable[[int], PopulationValue], n: int, estimate_error: bool
) -> PopulationValue:
    """value(n), or value(2n) with quad_error = |value(2n) - value(n)| when estimate_error."""
    coarse = value(n)
    if not estimate_error:
        return coarse
    fine = value(2 * n)
    fine.quad_error = abs(fine.objective - coarse.objective)
    return fine


def cone_objective(
    h: int,
    tau: float,
    kappa_x: float,
    kappa_y: float,
    delta: float,
    *,
    coupling: str = "polar",
    n: int = 48,
    estimate_error: bool = False,
) -> PopulationValue:
    """Population objective F for vMF marginals on S^{h-1} with centre angle ``delta``.

    F = -(2/tau) E[x.y] + E_x[log C_h(kappa_y) - log C_h(r_x)]
        + E_y[log C_h(kappa_x) - log C_h(r_y)],
    r_x = |kappa_y c_y + x/tau|, r_y = |kappa_x c_x + y/tau| (module docstring; docs/theory.md
    §1, §3: the objective of Theorems 1 and 2 in this project's population reading). The outer
    expectations are over the 2-D law of (x.c_x, tangential component) by :func:`projection_rule`.
    With ``estimate_error`` the rule is doubled and quad_error = |F_n - F_2n| is reported
    (the value returned is F_2n). Theorem 2's cone constraint is the fixed kappa > 0.
    """
    h, tau, kx, ky = _check_common(h, tau, kappa_x, kappa_y)
    delta = check_angle(delta, "delta", high=math.pi)
    n = _check_n(n)
    if coupling not in COUPLINGS:
        raise InputError(f"coupling must be one of {COUPLINGS}, got {coupling!r}")
    return _refined(lambda k: _cone_value(h, tau, kx, ky, delta, coupling, k), n, estimate_error)


def cone_objective_grid(
    h: int,
    tau: float,
    kappa_x: float,
    kappa_y: float,
    deltas: Sequence[float],
    *,
    coupling: str = "polar",
    n: int = 48,
) -> np.ndarray:
    """F(delta) of :func:`cone_objective` on a grid of centre angles (for figures: no maths
    there). Returns an array of the same length as ``deltas``."""
    return np.array(
        [
            cone_objective(h, tau, kappa_x, kappa_y, d, coupling=coupling, n=n).objective
            for d in deltas
        ]
    )


def _dgdw(m: int, kappa: float, tau: float, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and second derivatives in w of g(w) = L_nu(r(w)) - L_nu(kappa),
    r^2 = kappa^2 + 2 kappa w / tau + 1/tau^2.

    dL_nu/dr = I_{nu+1}(r)/I_nu(r) = A_m(r) (DLMF 10.29.2), A_m'(r) = 1 - A^2 - (m-1) A / r
    (Riccati equation of the Bessel ratio), dr/dw = kappa/(tau r), d^2r/dw^2 = -(kappa/tau)^2/r^3.
    """
    r = _r_free(kappa, tau, w)
    A = np.asarray(vmf.mean_resultant_length(m, r), dtype=np.float64)
    dA = 1.0 - A * A - (m - 1.0) * A / r
    k = kappa / tau
    g1 = A * k / r
    g2 = dA * (k / r) ** 2 - A * k * k / r**3
    return g1, g2


def cone_curvature_at_zero(
    h: int, tau: float, kappa_x: float, kappa_y: float, *, n: int = 48
) -> float:
    """d^2 F / d Delta^2 at Delta = 0 for the polar coupling (this project's reading).

    F(Delta) = -(2/tau)[cos(D) (E tt' + E ss'/(h-1)) + E ss' (1 - 1/(h-1))] + U_x(D) + U_y(D),
    U_x(D) = E g_y(t cos D + s v sin D) (g_y(w) = log E exp(...) as a function of w = x.c_y,
    v the tangential coordinate, E v^2 = 1/(h-1)). Differentiating twice at D = 0:

        F''(0) = (2/tau)(E tt' + E ss'/(h-1))
                 + sum_{(x, y), (y, x)} E_t[ g''(t)(1 - t^2)/(h-1) - t g'(t) ],

    with g', g'' from :func:`_dgdw`. dF/dDelta(0) = 0 by symmetry, so F''(0) > 0 means a strict
    local minimum at Delta = 0. Checked against finite differences in the tests.
    """
    h, tau, kx, ky = _check_common(h, tau, kappa_x, kappa_y)
    n = _check_n(n)
    ett, ess = comonotone_moments(h, kx, ky, n)
    out = 2.0 / tau * (ett + ess / (h - 1.0))
    for k_self, k_other in ((kx, ky), (ky, kx)):
        pol = polar_rule(h, k_self, n)
        g1, g2 = _dgdw(h, k_other, tau, pol.t)
        out += float(np.dot(pol.weights, g2 * pol.s**2 / (h - 1.0) - pol.t * g1))
    return out


@dataclass
class DeltaMinimum:
    """Result of :func:`minimise_over_delta`.

    delta_star, F_star: the minimiser found and F there; F_zero: F(0); grid, F_grid: the scan;
    curvature: d^2F/dDelta^2 at 0; quad_error: max |F_n - F_2n| at 0 and at delta_star;
    margin: F_star - F_zero (negative: a Delta > 0 beats Delta = 0).
    """

    delta_star: float
    F_star: float
    F_zero: float
    grid: np.ndarray
    F_grid: np.ndarray
    curvature: float
    quad_error: float
    margin: float
    parameters: dict[str, Any] = field(default_factory=dict)


def minimise_over_delta(
    h: int,
    tau: float,
    kappa_x: float,
    kappa_y: float,
    *,
    coupling: str = "polar",
    n: int = 48,
    n_grid: int = 25,
) -> DeltaMinimum:
    """Minimise Delta -> F(Delta) on [0, pi]: a grid of ``n_grid`` angles, then a bounded scalar
    refinement (scipy minimize_scalar, xatol 1e-6) on the bracket around the best grid point.

    The quadrature error bar is |F_n - F_2n| at Delta = 0 and at the minimiser (max of the two).
    Theorem 2 (Yi, Douady & Chen, arXiv 2510.03268; docs/theory.md §3) claims delta_star = 0.
    """
    grid = np.linspace(0.0, math.pi, n_grid)
    Fg = cone_objective_grid(h, tau, kappa_x, kappa_y, grid, coupling=coupling, n=n)
    i = int(np.argmin(Fg))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, n_grid - 1)]
    res = optimize.minimize_scalar(
        lambda d: cone_objective(h, tau, kappa_x, kappa_y, d, coupling=coupling, n=n).objective,
        bounds=(lo, hi),
        method="bounded",
        options={"xatol": 1e-6},
    )
    cands = [(float(Fg[i]), float(grid[i])), (float(res.fun), float(res.x))]
    F_star, d_star = min(cands)
    v0 = cone_objective(h, tau, kappa_x, kappa_y, 0.0, coupling=coupling, n=n, estimate_error=True)
    vs = cone_objective(
        h, tau, kappa_x, kappa_y, d_star, coupling=coupling, n=n, estimate_error=True
    )
    curv = (
        cone_curvature_at_zero(h, tau, kappa_x, kappa_y, n=n) if coupling == "polar" else math.nan
    )
    return DeltaMinimum(
        delta_star=d_star,
        F_star=vs.objective,
        F_zero=v0.objective,
        grid=grid,
        F_grid=Fg,
        curvature=curv,
        quad_error=max(v0.quad_error, vs.quad_error),
        margin=vs.objective - v0.objective,
        parameters=dict(h=h, tau=tau, kappa_x=kappa_x, kappa_y=kappa_y, coupling=coupling, n=n),
    )


# ============================================================================ subspace setting


def subspace_frame(h: int, phi: float) -> dict[str, np.ndarray]:
    """Explicit frame in R^h of the subspace setting (module docstring, "Frames").

    Returns a new dict with QA, QB (h x (h-1) bases, those of
    verify.geometry.hyperplanes_with_angle(h, phi) with seed None), QC (h x (h-2), basis of
    C = A cap B), a, b (unit, orthogonal to C, a.b = cos phi), nA, nB (unit normals of A, B),
    and RH = the hyperplane rotation (the rotation by phi in span(a, nA), taking a to b and A
    onto B, identity on C; equal to verify.geometry.rotation_onto(QA, QB), checked in tests).
    """
    h = check_int_in_range(h, "h", 4, vmf.MAX_DIM)
    phi = check_angle(phi, "phi")
    return dict(_frame(h, phi))


@functools.lru_cache(maxsize=64)
def _frame(h: int, phi: float) -> tuple[tuple[str, np.ndarray], ...]:
    from modgap.verify.geometry import hyperplanes_with_angle

    QA, QB = hyperplanes_with_angle(h, phi)
    E = np.eye(h)
    a, nA = E[h - 2], E[h - 1]
    b = math.cos(phi) * a + math.sin(phi) * nA
    nB = -math.sin(phi) * a + math.cos(phi) * nA
    RH = _plane_rotation(a, b)
    items = dict(QA=QA, QB=QB, QC=E[:, : h - 2], a=a, b=b, nA=nA, nB=nB, RH=RH)
    for v in items.values():
        v.setflags(write=False)
    return tuple(items.items())


def subspace_centres(
    h: int, phi: float, beta_x: float, beta_y: float, gamma: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Centres in R^h: c_x = cos(beta_x) a + sin(beta_x) p, c_y = cos(beta_y) b + sin(beta_y) p',
    p' = e_0, p = cos(gamma) e_0 + sin(gamma) e_1 (p, p' in C; module docstring "Frames").
    The paper's claimed optimum (Theorem 3) is beta_x = beta_y = 0: c_x = a, c_y = b,
    Delta_theta = phi. gamma != 0 needs h >= 4 (C of dimension >= 2)."""
    fr = subspace_frame(h, phi)
    p_prime = np.eye(h)[0]
    p = math.cos(gamma) * p_prime + math.sin(gamma) * np.eye(h)[1]
    cx = math.cos(beta_x) * fr["a"] + math.sin(beta_x) * p
    cy = math.cos(beta_y) * fr["b"] + math.sin(beta_y) * p_prime
    return cx, cy


def _plane_rotation(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotation in span(u, v) taking unit u to unit v, identity on the orthogonal complement:
    R = I + (cos t - 1)(uu^T + ww^T) + sin t (wu^T - uw^T), w = (v - (u.v)u)/|...|
    (the formula of verify.geometry.rotation_onto for one principal pair). u = -v: a plane
    through a fixed direction orthogonal to u is used."""
    k = u.size
    c = float(np.clip(u @ v, -1.0, 1.0))
    w = v - c * u
    nw = float(np.linalg.norm(w))
    if nw < 1e-14:
        if c > 0:
            return np.eye(k)
        e = np.eye(k)[int(np.argmin(np.abs(u)))]
        w = e - (e @ u) * u
        w = w / float(np.linalg.norm(w))
        t = math.pi
    else:
        w = w / nw
        t = math.atan2(nw, c)
    R = np.eye(k) + (math.cos(t) - 1.0) * (np.outer(u, u) + np.outer(w, w))
    R += math.sin(t) * (np.outer(w, u) - np.outer(u, w))
    return R


def _coupling_map(h: int, phi: float, cx: np.ndarray, cy: np.ndarray) -> np.ndarray:
    """M = Q R_H (h x h): R_H the hyperplane rotation (fixes C, a -> b), Q the rotation inside B
    taking R_H c_x to c_y. M maps A onto B isometrically and c_x to c_y."""
    RH = subspace_frame(h, phi)["RH"]
    return _plane_rotation(RH @ cx, cy) @ RH


def subspace_pair_cosine(
    h: int,
    phi: float,
    kappa_x: float,
    kappa_y: float,
    beta_x: float,
    beta_y: float,
    gamma: float = 0.0,
    *,
    n: int = 64,
) -> float:
    """E[x.y] under the polar coupling of the subspace setting (x on S(A), y on S(B), m = h-1):

        E[x.y] = (c_x.c_y) E[t t'] + E[s s'] tr(P M)/(m - 1),

    P the projector onto c_x^perp cap A, M = Q R_H (module docstring; this project's coupling).
    tr(P M) is computed from the explicit h x h matrices."""
    cx, cy = subspace_centres(h, phi, beta_x, beta_y, gamma)
    m = h - 1
    fr = subspace_frame(h, phi)
    M = _coupling_map(h, phi, cx, cy)
    QA = fr["QA"]
    trace = float(np.einsum("ij,ij->", QA, M @ QA)) - float(cx @ (M @ cx))  # tr(P M)
    ett, ess = comonotone_moments(m, kappa_x, kappa_y, n)
    return float(cx @ cy) * ett + ess * trace / (m - 1.0)


def _subspace_value(
    h: int, tau: float, kx: float, ky: float, phi: float, bx: float, by: float, g: float, n: int
) -> PopulationValue:
    m = h - 1
    cx, cy = subspace_centres(h, phi, bx, by, g)
    fr = subspace_frame(h, phi)
    QA, QB = fr["QA"], fr["QB"]
    sphi2 = math.sin(phi) ** 2
    # x on S(A) in A-coordinates: queries c_y (projected onto A) and a (for |P_B x|^2).
    rule_x = projection_rule(m, kx, QA.T @ cx, np.stack([QA.T @ cy, QA.T @ fr["a"]]), n)
    rule_y = projection_rule(m, ky, QB.T @ cy, np.stack([QB.T @ cx, QB.T @ fr["b"]]), n)

    def inner(kappa: float, v: np.ndarray) -> np.ndarray:
        w, al = v[:, 0], v[:, 1]
        q = 1.0 - sphi2 * al * al  # |P_B x|^2 for x in A (resp. |P_A y|^2)
        r2 = kappa * kappa + 2.0 * kappa * w / tau + q / tau**2
        return _inner_log_mgf(m, kappa, np.sqrt(np.maximum(r2, 0.0)))

    ux = rule_x.expect(lambda v: inner(ky, v))
    uy = rule_y.expect(lambda v: inner(kx, v))
    exy = subspace_pair_cosine(h, phi, kx, ky, bx, by, g, n=n)
    params = dict(
        h=h,
        tau=tau,
        kappa_x=kx,
        kappa_y=ky,
        phi=phi,
        beta_x=bx,
        beta_y=by,
        gamma=g,
        centre_angle=float(np.arccos(np.clip(cx @ cy, -1.0, 1.0))),
    )
    return _assemble(tau, exy, ux, uy, n, params)


def subspace_objective(
    h: int,
    tau: float,
    kappa_x: float,
    kappa_y: float,
    phi: float,
    beta_x: float,
    beta_y: float,
    gamma: float = 0.0,
    *,
    n: int = 32,
    estimate_error: bool = False,
) -> PopulationValue:
    """Population objective F of the subspace setting (Theorem 3, this project's reading).

    x ~ vMF(c_x, kappa_x) on the unit sphere of hyperplane A, y ~ vMF(c_y, kappa_y) on that of
    B (m = h - 1), centres from :func:`subspace_centres`, polar coupling M = Q R_H:
    F = -(2/tau) E[x.y] + E_x[log C_m(kappa_y) - log C_m(r_x)]
        + E_y[log C_m(kappa_x) - log C_m(r_y)],
    r_x^2 = kappa_y^2 + 2 kappa_y (x.c_y)/tau + |P_B x|^2/tau^2, |P_B x|^2 = 1 - sin^2(phi)(x.a)^2
    (the paper's M~(w, t), Bessel order (h-1)/2 - 1; docs/theory.md §3). Quadrature over the law of
    (x.c_y, x.a) (2-D when gamma = 0 or pi, 3-D otherwise). estimate_error: as cone_objective.
    """
    h = check_int_in_range(h, "h", 4, vmf.MAX_DIM)
    _, tau, kx, ky = _check_common(h, tau, kappa_x, kappa_y)
    phi = check_angle(phi, "phi")
    n = _check_n(n)
    args = (h, tau, kx, ky, phi, float(beta_x), float(beta_y), float(gamma))
    return _refined(lambda k: _subspace_value(*args, k), n, estimate_error)


def subspace_objective_grid(
    h: int,
    tau: float,
    kappa: float,
    phi: float,
    betas_x: Sequence[float],
    betas_y: Sequence[float],
    *,
    gamma: float = 0.0,
    n: int = 32,
) -> np.ndarray:
    """F(beta_x, beta_y) of :func:`subspace_objective` (kappa_x = kappa_y = kappa) on a grid,
    shape (len(betas_x), len(betas_y)) (for figures)."""
    return np.array(
        [
            [
                subspace_objective(h, tau, kappa, kappa, phi, bx, by, gamma, n=n).objective
                for by in betas_y
            ]
            for bx in betas_x
        ]
    )


@dataclass
class SubspaceMinimum:
    """Result of :func:`minimise_subspace`.

    best: (beta_x, beta_y, gamma) of the minimiser found and F_best there; claimed: F at the
    paper's configuration (beta = 0, Delta = phi); in_c: F with both centres at the same point
    of C (beta = pi/2, gamma = 0, Delta = 0); quad_error: max |F_n - F_2n| over those three;
    centre_angle_best: Delta_theta at the minimiser; starts: the local minima from each start.
    """

    best: tuple[float, float, float]
    F_best: float
    F_claimed: float
    F_in_c: float
    quad_error: float
    centre_angle_best: float
    starts: list[dict[str, float]]
    parameters: dict[str, Any] = field(default_factory=dict)


def minimise_subspace(
    h: int,
    tau: float,
    kappa: float,
    phi: float,
    *,
    n: int = 24,
    free_gamma: bool = False,
    n_grid: int = 9,
) -> SubspaceMinimum:
    """Minimise F over the centres' positions (beta_x, beta_y[, gamma]) for kappa_x = kappa_y.

    F is invariant under x -> -x (which maps A, B, C to themselves and negates both centres),
    so beta_x in [-pi/2, pi/2] and beta_y in [-pi, pi) cover every pair of centres with gamma = 0
    (the sign of beta_x covers gamma = pi). Grid scan of ``n_grid`` x (2 n_grid - 2) points, then
    Nelder-Mead (unbounded) from the best three grid points; with ``free_gamma`` a final
    Nelder-Mead in (beta_x, beta_y, gamma) from the best point (3-D quadrature). Reports F at
    the paper's claimed configuration (Theorem 3: beta = 0, Delta_theta = phi) and with both
    centres at the same point of C (beta = pi/2, Delta_theta = 0), feasible since C lies in A and B.
    """
    bxs = np.linspace(-0.5 * math.pi, 0.5 * math.pi, n_grid)
    bys = np.linspace(-math.pi, math.pi, 2 * n_grid - 1)[:-1]

    def F(bx: float, by: float, g: float = 0.0) -> float:
        return subspace_objective(h, tau, kappa, kappa, phi, bx, by, g, n=n).objective

    grid = np.array([[F(bx, by) for by in bys] for bx in bxs])
    starts = []
    nm = {"xatol": 1e-5, "fatol": 1e-11, "maxiter": 400}
    for idx in np.argsort(grid, axis=None)[:3]:
        i, j = np.unravel_index(idx, grid.shape)
        res = optimize.minimize(
            lambda z: F(z[0], z[1]), x0=[bxs[i], bys[j]], method="Nelder-Mead", options=nm
        )
        starts.append(
            dict(beta_x=float(res.x[0]), beta_y=float(res.x[1]), gamma=0.0, F=float(res.fun))
        )
    best = min(starts, key=lambda d: d["F"])
    if free_gamma:
        res = optimize.minimize(
            lambda z: F(z[0], z[1], z[2]),
            x0=[best["beta_x"], best["beta_y"], 0.3],
            method="Nelder-Mead",
            options=nm,
        )
        starts.append(
            dict(
                beta_x=float(res.x[0]),
                beta_y=float(res.x[1]),
                gamma=float(res.x[2]),
                F=float(res.fun),
            )
        )
        best = min(starts, key=lambda d: d["F"])
    pts = {
        "best": (best["beta_x"], best["beta_y"], best["gamma"]),
        "claimed": (0.0, 0.0, 0.0),
        "in_c": (0.5 * math.pi, 0.5 * math.pi, 0.0),
    }
    vals = {
        k: subspace_objective(h, tau, kappa, kappa, phi, *v, n=n, estimate_error=True)
        for k, v in pts.items()
    }
    return SubspaceMinimum(
        best=pts["best"],
        F_best=vals["best"].objective,
        F_claimed=vals["claimed"].objective,
        F_in_c=vals["in_c"].objective,
        quad_error=max(v.quad_error for v in vals.values()),
        centre_angle_best=vals["best"].parameters["centre_angle"],
        starts=starts,
        parameters=dict(h=h, tau=tau, kappa=kappa, phi=phi, n=n, free_gamma=free_gamma),
    )


# ============================================================================ Monte Carlo


def _comonotone_t(tx: np.ndarray, ty_draws: np.ndarray) -> np.ndarray:
    """Empirical comonotone coupling: the sorted independent draws of t' assigned by rank of t."""
    out = np.empty_like(tx)
    out[np.argsort(tx, kind="stable")] = np.sort(ty_draws)
    return out


def _polar_couple(
    X: np.ndarray, cx: np.ndarray, cy: np.ndarray, M: np.ndarray, ty: np.ndarray
) -> np.ndarray:
    """y = t' c_y + s' M u (u the unit direction of x - (x.c_x) c_x, s' = sqrt(1 - t'^2)),
    normalised (computed in place where it can: n is a Monte Carlo sample size)."""
    t = X @ cx
    s = np.sqrt(np.maximum(1.0 - t * t, 0.0))
    U = X - t[:, None] * cx[None, :]
    U /= np.maximum(s, 1e-300)[:, None]
    sp = np.sqrt(np.maximum(1.0 - ty * ty, 0.0))
    Y = U @ M.T
    del U
    Y *= sp[:, None]
    Y += ty[:, None] * cy[None, :]
    Y /= np.linalg.norm(Y, axis=1, keepdims=True)
    return Y


def sample_cone_pairs(
    h: int,
    kappa_x: float,
    kappa_y: float,
    delta: float,
    n: int,
    seed: int | None = 0,
    *,
    coupling: str = "polar",
    cdf_x: Callable[[np.ndarray], np.ndarray] | None = None,
    quantile_y: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """n pairs (x_i, y_i) in R^h from the stated coupling, with c_x = e_0, c_y = cos(delta) e_0 +
    sin(delta) e_1. Returns (X, Y, c_x, c_y).

    x ~ vMF(c_x, kappa_x) by verify.vmf.sample; "polar": y = t' c_y + s' R u with R the plane
    rotation and t' the EMPIRICAL comonotone coupling (independent draws of y.c_y from
    vMF(c_y, kappa_y) matched by rank to t; y = R x exactly when kappa_x = kappa_y);
    "independent": y drawn independently. An independent implementation of the coupling
    (no quantile function), for cross-checks of :func:`cone_pair_cosine` and :func:`cone_objective`.
    With kappa_x != kappa_y the rank matching makes the pairs dependent (see
    :func:`monte_carlo_objective`); ``quantile_y`` (a vectorised map p -> t') replaces it by an
    exact i.i.d. coupling t' = quantile_y(G_x(t)) when the caller has the CDFs in closed form
    (``cdf_x``: t -> G_x(t)).
    """
    h = check_int_in_range(h, "h", 3, vmf.MAX_DIM)
    rng = np.random.default_rng(seed)
    cx = np.eye(h)[0]
    cy = math.cos(delta) * cx + math.sin(delta) * np.eye(h)[1]
    X = vmf.sample(cx, kappa_x, n, rng)
    if coupling == "independent":
        return X, vmf.sample(cy, kappa_y, n, rng), cx, cy
    if coupling != "polar":
        raise InputError(f"coupling must be one of {COUPLINGS}, got {coupling!r}")
    R = _plane_rotation(cx, cy)
    if kappa_x == kappa_y:
        Y = X @ R.T
        return X, Y / np.linalg.norm(Y, axis=1, keepdims=True), cx, cy
    if cdf_x is not None and quantile_y is not None:
        ty = np.clip(quantile_y(cdf_x(X @ cx)), -1.0, 1.0)
    else:
        ty = _comonotone_t(X @ cx, vmf.sample(cy, kappa_y, n, rng) @ cy)
    return X, _polar_couple(X, cx, cy, R, ty), cx, cy


def sample_subspace_pairs(
    h: int,
    phi: float,
    kappa_x: float,
    kappa_y: float,
    beta_x: float,
    beta_y: float,
    gamma: float,
    n: int,
    seed: int | None = 0,
    *,
    cdf_x: Callable[[np.ndarray], np.ndarray] | None = None,
    quantile_y: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """n pairs of the subspace setting: x ~ vMF(c_x, kappa_x) on S(A) (sampled in A-coordinates
    and embedded), y = t' c_y + s' M u (polar coupling, M = Q R_H built from
    verify.geometry.rotation_onto; empirical comonotone t' when kappa_x != kappa_y, or the exact
    map quantile_y(cdf_x(t)) when both are given, as in :func:`sample_cone_pairs`).
    Returns (X, Y, frame) with frame = subspace_frame(h, phi) plus "cx", "cy", "M".
    """
    fr = dict(subspace_frame(h, phi))
    cx, cy = subspace_centres(h, phi, beta_x, beta_y, gamma)
    rng = np.random.default_rng(seed)
    QA, QB = fr["QA"], fr["QB"]
    X = vmf.sample(QA.T @ cx, kappa_x, n, rng) @ QA.T
    M = _coupling_map(h, phi, cx, cy)
    if kappa_x == kappa_y:
        ty = X @ cx
    elif cdf_x is not None and quantile_y is not None:
        ty = np.clip(quantile_y(cdf_x(X @ cx)), -1.0, 1.0)
    else:
        ty = _comonotone_t(X @ cx, vmf.sample(QB.T @ cy, kappa_y, n, rng) @ (QB.T @ cy))
    Y = _polar_couple(X, cx, cy, M, ty)
    fr.update(cx=cx, cy=cy, M=M)
    return X, Y, fr


def monte_carlo_objective(
    X: Any,
    Y: Any,
    tau: float,
    *,
    centre_x: Any,
    kappa_x: float,
    centre_y: Any,
    kappa_y: float,
    basis_x: Any = None,
    basis_y: Any = None,
) -> MCEstimate:
    """Monte Carlo estimate of F with the inner expectations in closed form:

    mean over pairs of  -(2/tau) x_i.y_i + log E_{y'} exp(x_i.y'/tau) + log E_{x'} exp(y_i.x'/tau),

    with log E_{y'} exp(x.y'/tau) = verify.vmf.log_mgf_vmf(Q_B^T x / tau, Q_B^T c_y, kappa_y)
    (y' ~ vMF on the unit sphere of span(basis_y); basis None = all of R^h), and likewise for y.
    The summands are i.i.d. for i.i.d. pairs, so stderr = std / sqrt(n). CAUTION: pairs from the
    EMPIRICAL comonotone coupling of :func:`sample_cone_pairs` / :func:`sample_subspace_pairs`
    with kappa_x != kappa_y (rank-matched draws) are not i.i.d.; the summands then depend on the
    order statistics and std / sqrt(n) misstates the error (it ignores the dependence the
    sorting creates). Use i.i.d. pairs (kappa_x = kappa_y, or an exact quantile map) for
    error bars.
    """
    X = as_unit_rows(X, "X", atol=1e-8)
    Y = as_unit_rows(Y, "Y", atol=1e-8)
    check_paired(X, Y)
    tau = check_positive(tau, "tau")
    h = X.shape[1]
    QX = np.eye(h) if basis_x is None else np.asarray(basis_x, dtype=np.float64)
    QY = np.eye(h) if basis_y is None else np.asarray(basis_y, dtype=np.float64)
    cx, cy = np.asarray(centre_x, dtype=np.float64), np.asarray(centre_y, dtype=np.float64)
    ux = vmf.log_mgf_vmf((X @ QY) / tau, QY.T @ cy, kappa_y)
    uy = vmf.log_mgf_vmf((Y @ QX) / tau, QX.T @ cx, kappa_x)
    terms = -2.0 / tau * np.einsum("ij,ij->i", X, Y) + ux + uy
    n = terms.size
    return MCEstimate(float(terms.mean()), float(terms.std(ddof=1) / math.sqrt(n)), n)


def monte_carlo_subspace_objective(
    h: int,
    tau: float,
    kappa_x: float,
    kappa_y: float,
    phi: float,
    beta_x: float,
    beta_y: float,
    gamma: float = 0.0,
    *,
    n_samples: int = 100_000,
    seed: int | None = 0,
    cdf_x: Callable[[np.ndarray], np.ndarray] | None = None,
    quantile_y: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[MCEstimate, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Monte Carlo estimate of the subspace-setting F (explicit pairs from
    :func:`sample_subspace_pairs`, inner MGF in closed form by :func:`monte_carlo_objective`).
    Returns (estimate, X, Y, frame). Independent of the quadrature of :func:`subspace_objective`.
    Standard errors are valid for i.i.d. pairs: kappa_x = kappa_y, or cdf_x/quantile_y given."""
    X, Y, fr = sample_subspace_pairs(
        h,
        phi,
        kappa_x,
        kappa_y,
        beta_x,
        beta_y,
        gamma,
        n_samples,
        seed,
        cdf_x=cdf_x,
        quantile_y=quantile_y,
    )
    est = monte_carlo_objective(
        X,
        Y,
        tau,
        centre_x=fr["cx"],
        kappa_x=kappa_x,
        centre_y=fr["cy"],
        kappa_y=kappa_y,
        basis_x=fr["QA"],
        basis_y=fr["QB"],
    )
    return est, X, Y, fr


def shifted_infonce(X: Any, Y: Any, tau: float) -> float:
    """L_N(X, Y) - 2 log N for N paired unit rows (verify.objective.infonce; docs/theory.md §1):
    the finite-N quantity whose large-N limit is the population objective F."""
    X = as_unit_rows(X, "X", atol=1e-8)
    return infonce(X, Y, tau) - 2.0 * math.log(X.shape[0])


def uniform_finite_batch_correction(h: int, tau: float, N: int) -> float:
    """Leading finite-N correction delta_N with E[L_N - 2 log N] ~= B(h, tau) + delta_N for N
    perfectly aligned pairs (y_i = x_i) drawn i.i.d. uniform on S^{h-1}.

    Each log-sum-exp is log((e^{1/tau} + sum_{j != i} Z_j)/N), Z_j = exp(x_i.x_j/tau) i.i.d. with
    mean M = M_h(1/tau) and second moment M2 = M_h(2/tau) (uniform MGF, docs/theory.md §1). A
    second-order delta method gives E log(S/N) ~= log(mu/(N M)) + log M - (N-1) V / (2 mu^2) with
    mu = e^{1/tau} + (N-1) M, V = M2 - M^2; both log-sum-exps contribute, so
    delta_N = 2 [log(mu/(N M)) - (N-1) V/(2 mu^2)] = O(1/N). (This project's derivation.)
    """
    h = check_int_in_range(h, "h", 2, vmf.MAX_DIM)
    tau = check_positive(tau, "tau")
    N = check_int_in_range(N, "N", 2, 10**9)
    lm = float(vmf.log_mgf_uniform(h, 1.0 / tau))
    lm2 = float(vmf.log_mgf_uniform(h, 2.0 / tau))
    # work relative to M to avoid overflow: mu/M = e^{1/tau - lm} + (N - 1)
    self_rel = math.exp(1.0 / tau - lm)
    mu_rel = self_rel + (N - 1.0)
    var_rel = math.exp(lm2 - 2.0 * lm) - 1.0  # V / M^2
    return 2.0 * (math.log(mu_rel / N) - (N - 1.0) * var_rel / (2.0 * mu_rel**2))
