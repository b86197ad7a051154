"""Phase diagram of Theorem 3 in this project's population reading: the critical temperature.

Seed paper: L. Yi, R. Douady, C. Chen, arXiv 2510.03268, Theorem 3 (docs/theory.md §3): under the
subspace constraint (images on the unit sphere of a hyperplane A, texts on that of B, phi the
angle between the normals, C = A cap B) the optimum has both centres orthogonal to C and
Delta_theta = phi. In this project's population reading (verify.population: vMF(kappa) on
each hyperplane sphere, polar coupling, the paper's M~ in the inner expectation) that claim
holds at moderate and large temperature but FAILS at small temperature, where both centres
move to the same point of C (Delta_theta = 0; docs/readings.md, Theorem 3).

What is computed here (THIS PROJECT'S construction, not the paper's):

- the margin ``D(tau) = F(claimed) - F(in C)`` with F the population objective
  (verify.population.subspace_objective for h >= 4, :func:`circle_objective` for h = 3),
  claimed = (beta_x, beta_y) = (0, 0) (centres a and b, Delta_theta = phi), in C =
  (pi/2, pi/2) (both centres at the same point of C, Delta_theta = 0); D > 0 means the claimed
  configuration is NOT the minimiser (a feasible configuration is strictly better);
- the critical temperature ``tau*(h, kappa, phi)``: the largest root of D on
  [:data:`TAU_MIN`, :data:`TAU_MAX`], found by a scan of :data:`N_SCAN` log-spaced
  temperatures and Brent's method (scipy.optimize.brentq) in log tau on the bracket of the
  largest sign change; below tau* the claim fails (at least down to the next root, if any;
  every root is reported). If D < 0 on the whole range, tau* does not exist there: the claim
  beats the in-C competitor at every scanned temperature (``status = "holds"``); if D > 0 on
  the whole range it fails at every scanned temperature (``"fails"``);
- its error bar from the quadrature: with e = |F_n - F_2n| for each of the two objectives at
  the root (quadrature refinement, verify.population), delta tau = (e_claimed + e_inC) /
  |dD/dtau| (first-order propagation; dD/dtau by a central difference), plus Brent's xtol;
  a root whose |D'| delta-tau bracket is not resolved (|D| < e everywhere) is flagged;
- a local check: the smallest eigenvalue of the 2 x 2 Hessian of F in (beta_x, beta_y) at the
  claimed point, just above tau* (central differences). If it is negative there, the claimed
  point is already a saddle and the true loss of minimality happens above tau* (tau* from the
  in-C competitor is then a LOWER bound); a positive value says the claim is a strict local
  minimum right above tau*. The in-C configuration is the competitor that
  docs/readings.md found at every failure of the minimisation; whether another configuration
  takes over even earlier is checked at a few points with verify.population.minimise_subspace
  (:func:`minimiser_check`), and Monte Carlo checks D's sign on both sides of tau*
  (:func:`monte_carlo_check`).

h = 3 (a plane per modality, C a line, each modality a von Mises law on a circle): the
general quadrature of verify.population needs h >= 4, so :func:`circle_objective` integrates
the same objective over the circle angle directly (periodic trapezoid rule, spectrally
accurate; error bar by doubling), with the same frame and coupling (y = M x, M the rotation
A -> B fixing C composed with the in-B rotation taking M c_x to c_y).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from scipy import optimize

from modgap.verify import population, vmf
from modgap.verify._validation import (
    InputError,
    check_angle,
    check_int_in_range,
    check_nonnegative,
    check_positive,
)

__all__ = [
    "TAU_MIN",
    "TAU_MAX",
    "N_SCAN",
    "CriticalTemperature",
    "circle_objective",
    "claim_margin",
    "critical_temperature",
    "monte_carlo_check",
    "minimiser_check",
]

#: Temperature range searched for tau* (CLIP's learned tau is about 0.01).
TAU_MIN = 1e-3
TAU_MAX = 10.0
#: Log-spaced scan points on [TAU_MIN, TAU_MAX] before root refinement.
N_SCAN = 25
#: Quadrature nodes per panel of verify.population (refined to 2n for the error bar).
N_QUAD = 16
#: Circle nodes for h = 3 (refined to 2 x for the error bar).
N_CIRCLE = 2048
CLAIMED = (0.0, 0.0)
IN_C = (0.5 * math.pi, 0.5 * math.pi)


def circle_objective(
    tau: float,
    kappa: float,
    phi: float,
    beta_x: float,
    beta_y: float,
    *,
    n: int = N_CIRCLE,
    estimate_error: bool = False,
) -> population.PopulationValue:
    """Population objective F for h = 3 (A, B planes in R^3, C = span(e_0), m = 2).

    Frame: a = e_1, b = cos(phi) e_1 + sin(phi) e_2; c_x = cos(beta_x) a + sin(beta_x) e_0,
    c_y = cos(beta_y) b + sin(beta_y) e_0, and their in-plane normals
    c_x^perp = -sin(beta_x) a + cos(beta_x) e_0 (likewise c_y^perp with b). x = cos(t) c_x +
    sin(t) c_x^perp with t ~ von Mises(0, kappa); y = M x = cos(t) c_y + sin(t) c_y^perp (the
    polar coupling of verify.population for equal kappa). Then, as there (docs/theory.md §1, §3),

        F = -(2/tau) E[x.y] + E_x[log C_2(kappa) - log C_2(r_x)] + E_y[... r_y],
        r_x^2 = kappa^2 + 2 kappa (x.c_y)/tau + |P_B x|^2/tau^2, |P_B x|^2 = 1 - sin^2(phi)(x.a)^2

    (r_y with the roles of A and B exchanged). The expectation over t is the periodic
    trapezoid rule on n nodes with weights exp(kappa (cos t - 1)) normalised (spectrally
    accurate for this smooth periodic integrand); estimate_error: |F_n - F_2n|.
    """
    tau = check_positive(tau, "tau")
    kappa = check_nonnegative(kappa, "kappa")
    phi = check_angle(phi, "phi")
    n = check_int_in_range(n, "n", 16, 1 << 22)

    def value(k: int) -> population.PopulationValue:
        t = 2.0 * math.pi * np.arange(k) / k
        w = np.exp(kappa * (np.cos(t) - 1.0))
        w /= w.sum()
        _, a, b, cx, cy, X, Y = _circle_pairs(phi, beta_x, beta_y, t)
        exy = float(w @ np.einsum("ij,ij->i", X, Y))
        s2 = math.sin(phi) ** 2
        lc = vmf.log_normalizer(2, kappa)

        def uni(Z: np.ndarray, centre_other: np.ndarray, axis: np.ndarray) -> float:
            q = 1.0 - s2 * (Z @ axis) ** 2
            r2 = kappa * kappa + 2.0 * kappa * (Z @ centre_other) / tau + q / tau**2
            return float(w @ (lc - vmf.log_normalizer(2, np.sqrt(np.maximum(r2, 0.0)))))

        params = dict(
            h=3,
            tau=tau,
            kappa_x=kappa,
            kappa_y=kappa,
            phi=phi,
            beta_x=beta_x,
            beta_y=beta_y,
            centre_angle=float(np.arccos(np.clip(cx @ cy, -1, 1))),
        )
        return population._assemble(tau, exy, uni(X, cy, a), uni(Y, cx, b), k, params)

    return population._refined(value, n, estimate_error)


def _objective(
    h: int, tau: float, kappa: float, phi: float, beta: tuple[float, float], error: bool
) -> population.PopulationValue:
    """F at centres beta = (beta_x, beta_y) (gamma = 0), for any h >= 3."""
    if h == 3:
        return circle_objective(tau, kappa, phi, *beta, estimate_error=error)
    return population.subspace_objective(
        h, tau, kappa, kappa, phi, *beta, n=N_QUAD, estimate_error=error
    )


def claim_margin(
    h: int, tau: float, kappa: float, phi: float, *, estimate_error: bool = False
) -> tuple[float, float]:
    """(D, e): D = F(claimed) - F(centres together in C), e = sum of both quadrature errors.

    D > 0: the claimed configuration of Theorem 3 (centres orthogonal to C, Delta = phi) is
    beaten by a feasible one (module docstring); e is NaN unless ``estimate_error``.
    """
    h = check_int_in_range(h, "h", 3, vmf.MAX_DIM)
    tau = check_positive(tau, "tau")
    kappa = check_nonnegative(kappa, "kappa")
    phi = check_angle(phi, "phi")
    cl = _objective(h, tau, kappa, phi, CLAIMED, estimate_error)
    ic = _objective(h, tau, kappa, phi, IN_C, estimate_error)
    return cl.objective - ic.objective, cl.quad_error + ic.quad_error


def _hessian_min_eig(h: int, tau: float, kappa: float, phi: float, step: float = 1e-2) -> float:
    """Smallest eigenvalue of the (beta_x, beta_y) Hessian of F at the claimed point."""

    def F(bx: float, by: float) -> float:
        return _objective(h, tau, kappa, phi, (bx, by), False).objective

    f0 = F(0.0, 0.0)
    fxx = (F(step, 0.0) - 2 * f0 + F(-step, 0.0)) / step**2
    fyy = (F(0.0, step) - 2 * f0 + F(0.0, -step)) / step**2
    fxy = (F(step, step) - F(step, -step) - F(-step, step) + F(-step, -step)) / (4 * step**2)
    return float(np.linalg.eigvalsh(np.array([[fxx, fxy], [fxy, fyy]]))[0])


@dataclass
class CriticalTemperature:
    """Result of :func:`critical_temperature` (scipy.optimize style: says what was found).

    status: "crossing" (tau* found), "holds" (D < 0 on the whole range: no tau*, the claim
    beats the in-C competitor at every scanned tau), "fails" (D > 0 on the whole range),
    "unresolved" (|D| within its quadrature error at the candidate root). tau_star and
    tau_star_error are None unless status is "crossing" or "unresolved". roots: every sign
    change found (refined), ascending. converged: Brent's method reported convergence (True
    when no root was needed). hessian_min_eig: smallest Hessian eigenvalue of F in
    (beta_x, beta_y) at the claimed point just above tau* (at 1.05 tau*, or at TAU_MIN when
    the claim holds everywhere); negative means the claim is a saddle there and tau* is only
    a lower bound. scan: (tau, D) pairs of the scan. message: in words.
    """

    h: int
    kappa: float
    phi: float
    status: str
    tau_star: float | None
    tau_star_error: float | None
    roots: list[float]
    converged: bool
    margin_error_at_root: float | None
    slope_at_root: float | None
    hessian_min_eig: float | None
    message: str
    scan: list[tuple[float, float]] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        out = asdict(self)
        out["scan"] = [[float(t), float(d)] for t, d in self.scan]
        return out


def critical_temperature(
    h: int,
    kappa: float,
    phi: float,
    *,
    tau_min: float = TAU_MIN,
    tau_max: float = TAU_MAX,
    n_scan: int = N_SCAN,
    xtol: float = 1e-6,
    hessian: bool = True,
) -> CriticalTemperature:
    """tau*(h, kappa, phi): the largest root of D(tau) = F(claimed) - F(in C) (module docstring).

    Scan D at ``n_scan`` log-spaced tau in [tau_min, tau_max]; refine every sign change with
    scipy.optimize.brentq in s = log tau (xtol in s, i.e. relative in tau); the error bar is
    (e_claimed + e_inC)(tau*) / |dD/dtau| + xtol tau*, e from quadrature refinement
    (n -> 2n). Source of F: verify.population (this project's reading of Theorem 3 of Yi,
    Douady & Chen, arXiv 2510.03268).
    """
    h = check_int_in_range(h, "h", 3, vmf.MAX_DIM)
    kappa = check_nonnegative(kappa, "kappa")
    phi = check_angle(phi, "phi", low=1e-6, high=0.5 * math.pi)
    tau_min, tau_max = check_positive(tau_min, "tau_min"), check_positive(tau_max, "tau_max")
    if tau_max <= tau_min:
        raise InputError(f"tau_max must exceed tau_min, got {tau_max} <= {tau_min}")
    n_scan = check_int_in_range(n_scan, "n_scan", 3, 10_000)

    def D(s: float) -> float:
        return claim_margin(h, math.exp(s), kappa, phi)[0]

    ss = np.linspace(math.log(tau_min), math.log(tau_max), n_scan)
    ds = np.array([D(s) for s in ss])
    settings = dict(
        tau_min=tau_min,
        tau_max=tau_max,
        n_scan=n_scan,
        xtol=xtol,
        n_quad=N_QUAD if h > 3 else N_CIRCLE,
    )
    scan = [(float(math.exp(s)), float(d)) for s, d in zip(ss, ds, strict=True)]
    signs = np.sign(ds)
    roots, converged = [], True
    for i in np.flatnonzero(signs[:-1] * signs[1:] < 0):
        r, info = optimize.brentq(D, ss[i], ss[i + 1], xtol=xtol, full_output=True)
        roots.append(math.exp(r))
        converged = converged and info.converged
    base = dict(
        h=h, kappa=kappa, phi=phi, roots=roots, converged=converged, scan=scan, settings=settings
    )
    if not roots:
        if np.all(ds < 0):
            hmin = _hessian_min_eig(h, tau_min, kappa, phi) if hessian else None
            return CriticalTemperature(
                status="holds",
                tau_star=None,
                tau_star_error=None,
                margin_error_at_root=None,
                slope_at_root=None,
                hessian_min_eig=hmin,
                message=(
                    f"no tau*: D < 0 at every scanned tau in [{tau_min:g}, {tau_max:g}] "
                    f"(largest D {ds.max():.3g}); the claim beats the in-C competitor "
                    "throughout"
                ),
                **base,
            )
        return CriticalTemperature(
            status="fails" if np.all(ds > 0) else "unresolved",
            tau_star=None,
            tau_star_error=None,
            margin_error_at_root=None,
            slope_at_root=None,
            hessian_min_eig=None,
            message=(
                f"D > 0 at every scanned tau in [{tau_min:g}, {tau_max:g}]: the claim "
                "fails throughout"
                if np.all(ds > 0)
                else "D touches 0 without a sign change on the scan"
            ),
            **base,
        )
    t_star = roots[-1]
    _, err = claim_margin(h, t_star, kappa, phi, estimate_error=True)
    dt = 1e-3 * t_star
    slope = (D(math.log(t_star + dt)) - D(math.log(t_star - dt))) / (2 * dt)
    tau_err = err / abs(slope) + xtol * t_star if slope != 0 else float("inf")
    status = "crossing" if tau_err < 0.5 * t_star else "unresolved"
    hmin = _hessian_min_eig(h, 1.05 * t_star, kappa, phi) if hessian else None
    msg = (
        f"tau* = {t_star:.6g} +- {tau_err:.2g}: the claim fails below (D > 0), holds above "
        f"up to tau_max = {tau_max:g}"
    )
    if len(roots) > 1:
        msg += f"; {len(roots)} sign changes in all, at " + ", ".join(f"{r:.4g}" for r in roots)
    if hmin is not None and hmin < 0:
        msg += (
            f"; the claimed point is a saddle just above tau* (Hessian eigenvalue "
            f"{hmin:.3g}), so tau* is only a lower bound"
        )
    return CriticalTemperature(
        status=status,
        tau_star=t_star,
        tau_star_error=tau_err,
        margin_error_at_root=err,
        slope_at_root=slope,
        hessian_min_eig=hmin,
        message=msg,
        **base,
    )


def monte_carlo_check(
    h: int, kappa: float, phi: float, tau: float, *, n_samples: int = 100_000, seed: int = 0
) -> dict[str, float]:
    """D(tau) by Monte Carlo (explicit pairs, closed-form inner MGF), independent of quadrature.

    h >= 4: verify.population.monte_carlo_subspace_objective at the claimed and in-C centres
    (seeds seed, seed + 1). h = 3: von Mises draws on the circle (numpy) pushed through the
    integrand of :func:`circle_objective`. Returns the quadrature D, the MC D, its standard
    error and z = (D_mc - D_quad) / stderr.
    """
    h = check_int_in_range(h, "h", 3, vmf.MAX_DIM)
    d_quad, _ = claim_margin(h, tau, kappa, phi)
    vals, errs = [], []
    for k, (bx, by) in enumerate((CLAIMED, IN_C)):
        if h == 3:
            rng = np.random.default_rng(seed + k)
            t = (
                rng.vonmises(0.0, kappa, size=n_samples)
                if kappa > 0
                else rng.uniform(-math.pi, math.pi, size=n_samples)
            )
            terms = _circle_terms(tau, kappa, phi, bx, by, t)
            vals.append(float(terms.mean()))
            errs.append(float(terms.std(ddof=1) / math.sqrt(n_samples)))
        else:
            est, *_ = population.monte_carlo_subspace_objective(
                h, tau, kappa, kappa, phi, bx, by, 0.0, n_samples=n_samples, seed=seed + k
            )
            vals.append(est.mean)
            errs.append(est.stderr)
    d_mc, se = vals[0] - vals[1], math.hypot(*errs)
    return dict(
        h=h,
        kappa=kappa,
        phi=phi,
        tau=tau,
        D_quadrature=d_quad,
        D_monte_carlo=d_mc,
        stderr=se,
        z=(d_mc - d_quad) / se,
        n_samples=n_samples,
    )


def _circle_pairs(phi: float, bx: float, by: float, t: np.ndarray) -> tuple[np.ndarray, ...]:
    """The h = 3 frame of :func:`circle_objective` and the coupled pairs at circle angles t:
    (e_0, a, b, c_x, c_y, X, Y) with x = cos(t) c_x + sin(t) c_x^perp, y = M x."""
    e0, a = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
    b = np.array([0.0, math.cos(phi), math.sin(phi)])
    cx, cy = math.cos(bx) * a + math.sin(bx) * e0, math.cos(by) * b + math.sin(by) * e0
    px, py = -math.sin(bx) * a + math.cos(bx) * e0, -math.sin(by) * b + math.cos(by) * e0
    X = np.cos(t)[:, None] * cx + np.sin(t)[:, None] * px
    Y = np.cos(t)[:, None] * cy + np.sin(t)[:, None] * py
    return e0, a, b, cx, cy, X, Y


def _circle_terms(
    tau: float, kappa: float, phi: float, bx: float, by: float, t: np.ndarray
) -> np.ndarray:
    """Per-sample integrand of F for h = 3 at circle angles t (explicit vectors in R^3)."""
    e0, a, b, cx, cy, X, Y = _circle_pairs(phi, bx, by, t)
    # |P_B x| from an explicit projector onto B = span(e0, b), independent of the closed form
    PB = np.outer(e0, e0) + np.outer(b, b)
    PA = np.outer(e0, e0) + np.outer(a, a)
    lc = vmf.log_normalizer(2, kappa)
    rx = np.linalg.norm(kappa * cy + (X @ PB) / tau, axis=1)
    ry = np.linalg.norm(kappa * cx + (Y @ PA) / tau, axis=1)
    return (
        -2.0 / tau * np.einsum("ij,ij->i", X, Y)
        + (lc - vmf.log_normalizer(2, rx))
        + (lc - vmf.log_normalizer(2, ry))
    )


def minimiser_check(
    h: int, kappa: float, phi: float, tau: float, *, n_grid: int = 7
) -> dict[str, Any]:
    """Full minimisation over the centres (verify.population.minimise_subspace, h >= 4) at tau.

    Says whether the best configuration found is the claimed one (F_best >= F_claimed -
    quad_error), the in-C one, or something else, with the centre angle at the minimiser:
    checks that the in-C competitor is what takes over at tau*. Best found by a grid of
    n_grid x (2 n_grid - 2) centre positions plus Nelder-Mead from the best three, not a
    certified optimum.
    """
    h = check_int_in_range(h, "h", 4, vmf.MAX_DIM)
    res = population.minimise_subspace(h, tau, kappa, phi, n=N_QUAD, n_grid=n_grid)
    tol = max(res.quad_error, 1e-10)
    if res.F_best >= res.F_claimed - tol:
        which = "claimed"
    elif abs(res.F_best - res.F_in_c) <= max(tol, 1e-7 * abs(res.F_in_c)):
        which = "in_C"
    else:
        which = "other"
    return dict(
        h=h,
        kappa=kappa,
        phi=phi,
        tau=tau,
        F_best=res.F_best,
        F_claimed=res.F_claimed,
        F_in_C=res.F_in_c,
        quad_error=res.quad_error,
        minimiser=which,
        best=list(res.best),
        centre_angle_best=res.centre_angle_best,
    )
