"""Numerics of Theorem 3's population reading beyond the objective itself: curvature at the
claimed configuration, a Monte Carlo cross-check of an objective difference, and a regime
map over (h, tau, kappa).

The objective F(beta_x, beta_y, gamma) is :func:`modgap.verify.population.subspace_objective`
(vMF(kappa) marginals on the unit spheres of two hyperplanes A, B at angle phi; this
project's reading of Theorem 3 of Yi, Douady & Chen, arXiv 2510.03268, docs/readings.md).
The claimed configuration is beta_x = beta_y = 0 (centres orthogonal to C, Delta_theta =
phi); "together in C" puts both centres at one point of C.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from modgap.verify.population import monte_carlo_subspace_objective, subspace_objective

__all__ = ["claimed_hessian_eigenvalues", "monte_carlo_difference", "regime_map"]


def claimed_hessian_eigenvalues(
    h: int, tau: float, kappa: float, phi: float, n: int
) -> list[float]:
    """Eigenvalues of the finite-difference Hessian of F(beta_x, beta_y) at beta = 0 (step 1e-3)."""
    e = 1e-3

    def F(bx: float, by: float) -> float:
        return subspace_objective(h, tau, kappa, kappa, phi, bx, by, n=n).objective

    f0 = F(0.0, 0.0)
    fxx = (F(e, 0) - 2 * f0 + F(-e, 0)) / e**2
    fyy = (F(0, e) - 2 * f0 + F(0, -e)) / e**2
    fxy = (F(e, e) - F(e, -e) - F(-e, e) + F(-e, -e)) / (4 * e * e)
    return [float(v) for v in np.linalg.eigvalsh(np.array([[fxx, fxy], [fxy, fyy]]))]


def monte_carlo_difference(
    h: int, tau: float, kappa: float, phi: float, best: tuple[float, float, float], n: int
) -> dict[str, float]:
    """Monte Carlo (explicit samples, closed-form inner MGF) of F at the claimed configuration
    and at ``best``: an estimate of F(claimed) - F(best) independent of the quadrature."""
    out = {}
    for name, (bx, by, g), seed in (("claimed", (0.0, 0.0, 0.0), 101), ("best", best, 202)):
        mc, *_ = monte_carlo_subspace_objective(
            h, tau, kappa, kappa, phi, bx, by, g, n_samples=n, seed=seed
        )
        out[f"mc_{name}"], out[f"mc_{name}_stderr"] = mc.mean, mc.stderr
    out["mc_difference"] = out["mc_claimed"] - out["mc_best"]
    out["mc_difference_stderr"] = math.hypot(out["mc_claimed_stderr"], out["mc_best_stderr"])
    out["mc_z"] = out["mc_difference"] / out["mc_difference_stderr"]
    out["n_samples"] = n
    return out


def regime_map(hs: Any, taus: Any, kappas: Any, phi: float, n: int = 16) -> list[dict[str, Any]]:
    """F(claimed) - F(centres together in C) over a (h, tau, kappa) grid at angle ``phi``
    (positive: the claimed configuration is NOT the better of the two), with the quadrature
    error bar. For docs and figures (verify.subspace_objective)."""
    rows = []
    for h in hs:
        for tau in taus:
            for kappa in kappas:
                cl = subspace_objective(
                    h, tau, kappa, kappa, phi, 0.0, 0.0, n=n, estimate_error=True
                )
                ic = subspace_objective(
                    h, tau, kappa, kappa, phi, math.pi / 2, math.pi / 2, n=n, estimate_error=True
                )
                rows.append(
                    dict(
                        h=h,
                        tau=tau,
                        kappa=kappa,
                        phi=phi,
                        claimed_minus_in_C=cl.objective - ic.objective,
                        quad_error=max(cl.quad_error, ic.quad_error),
                    )
                )
    return rows
