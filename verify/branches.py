"""Finite-N branch comparison: best-of-starts minima of fixed-centre branches, cross-seeded
by a reflection, and their global certificates at small N (numerics only).

The paper's Theorems 2 and 3 (Yi, Douady & Chen, arXiv 2510.03268) claim a configuration of
the centres (Delta = 0 under caps; c_x = a, c_y = b under subspace + caps) is the minimiser.
In the finite-N reading (docs/readings.md) this is checked by comparing branches: each
branch fixes the centres, and its best L_N over many starts is an upper bound on its
minimum. A reflection y -> y - 2 (y.n) n maps one branch's feasible set onto another's; each
branch also starts from the other's best point, reflected. The verdicts built on these
numbers live in :mod:`modgap.theorems.branches`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from modgap.verify.coverage import coverage
from modgap.verify.geometry import angle_between
from modgap.verify.observables import gap_observables
from modgap.verify.settings import CAP_LBFGS_MEMORY, INTERIOR_TOL, LOSS_RESOLUTION

__all__ = [
    "SOLVE_SETTINGS",
    "reflect_rows",
    "interior_count",
    "solve_branch",
    "variable_centre_row",
    "certify_branches",
]


def reflect_rows(Y: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Rows reflected in the hyperplane orthogonal to the unit vector n: y - 2 (y.n) n.

    With n = c it maps the cap {y.c >= cos alpha} onto {y.(-c) >= cos alpha} (Delta = 0 <->
    Delta = pi here; c_y = b <-> -b in Theorem 3). On cap-boundary points it shifts every
    logit x_i.y_j by the same constant (:func:`boundary_flip_statement`), so L_N is unchanged.
    """
    return Y - 2.0 * np.outer(Y @ n, n)


def interior_count(Z: np.ndarray, c: np.ndarray, alpha: float) -> int:
    """Number of rows strictly inside the cap around c (z.c - cos(alpha) > INTERIOR_TOL)."""
    return int(np.sum(Z @ c - math.cos(alpha) > INTERIOR_TOL))


#: Solver settings of every finite-N solve (fixed centres need up to ~4000 iterations when
#: every point sits on the cap boundary at the default L-BFGS memory of 10). With the last
#: 100 pairs instead of 10, the all-boundary branches of the quick checks (h = 3, N = 32;
#: h = 4, N = 64; tau = 0.2) converge in 2-7x fewer iterations, every seed to the same
#: minimum as with memory 10, and the variable-centre solves that stopped at the iteration
#: limit (3000) converge in 300-400 (docs/readings.md, "Solver memory").
SOLVE_SETTINGS = dict(method="lbfgs", tol=1e-7, max_iter=6000, memory=CAP_LBFGS_MEMORY)


def solve_branch(
    constraint: Any, N: int, tau: float, seeds: Any = (), starts: Any = (), prior: Any = ()
) -> tuple[Any, dict[str, Any], list]:
    """Best of the random starts ``seeds``, of the explicit (X0, Y0) ``starts`` and of the
    earlier ``prior`` runs (a list of (kind, SolveResult), as returned here).

    Returns (best SolveResult, summary dict: loss, converged, grad_norm, loss_spread over all
    starts, n_starts, n_at_best = starts within LOSS_RESOLUTION of the best, n_converged,
    best_start = 'random' or 'reflected', coverage = the search's coverage record
    (:func:`modgap.verify.coverage.coverage` over every start: distinct minima, starts at
    the best, Good-Turing estimate); all runs)."""
    from modgap.verify.solvers import solve

    runs = list(prior)
    if len(seeds):
        runs.append(("random", solve(constraint, N, tau, seeds=seeds, **SOLVE_SETTINGS)))
    for X0, Y0 in starts:
        runs.append(("reflected", solve(constraint, N, tau, X0=X0, Y0=Y0, **SOLVE_SETTINGS)))
    kind, best = min(runs, key=lambda kr: kr[1].loss)
    losses = [p.loss for _, r in runs for p in r.per_start]
    cov = coverage(losses, [p.converged for _, r in runs for p in r.per_start])
    row = dict(
        loss=best.loss,
        loss_shifted=best.loss_shifted,
        converged=bool(best.converged),
        grad_norm=best.grad_norm,
        loss_spread=float(max(losses) - min(losses)),
        n_starts=len(losses),
        n_at_best=int(sum(v <= best.loss + LOSS_RESOLUTION for v in losses)),
        n_converged=int(sum(p.converged for _, r in runs for p in r.per_start)),
        best_start=kind,
        coverage=cov.summary(max_basins=5),
    )
    return best, row, runs


def variable_centre_row(free: Any, QC: np.ndarray | None = None) -> dict[str, Any]:
    """The numbers of a variable-centre SolveResult: loss, convergence, spread, the angle
    between the cap centres, every gap observable; with a basis QC of the shared space C also
    |P_C c| for each centre (Theorem 3)."""
    row = dict(
        loss=free.loss,
        loss_shifted=free.loss_shifted,
        converged=bool(free.converged),
        grad_norm=free.grad_norm,
        loss_spread=free.loss_spread,
        cap_centre_angle=angle_between(*free.centres),
        **gap_observables(free.X, free.Y, source="configuration", QC=QC).to_dict(),
    )
    if QC is not None:
        row["centre_C_components"] = [float(np.linalg.norm(QC.T @ c)) for c in free.centres]
    return row


def certify_branches(
    settings: Any,
    branches: Callable[[dict[str, Any]], dict[str, Any]],
    seeds: Any = tuple(range(8)),
) -> list[dict[str, Any]]:
    """Global certificates at small N (verify.certificates) for two fixed-centre branches.

    ``branches(setting)`` returns {paper name: constraint, flip name: constraint} (in that
    order). For each branch: best-found L_N (multi-start, tol 1e-8), the Gram-relaxation lower
    bound and certify(tol 1e-6). Both certified with equal values = a certified tie (the
    minimiser is then not unique in this reading at that N). The relaxation is exact only
    when its optimum has rank <= h, in practice N <= h (Cone) or h - 1 (SubspaceCone); beyond,
    the bound is loose and nothing is certified (reported with the reason)."""
    from modgap.verify.certificates import certify
    from modgap.verify.solvers import solve

    rows = []
    for st in settings:
        cons = branches(st)
        (paper, _), (flip, _) = cons.items()
        row: dict[str, Any] = dict(setting=dict(st), paper=paper, flip=flip)
        for name, con in cons.items():
            r = solve(con, st["N"], st["tau"], seeds=seeds, method="lbfgs", tol=1e-8, max_iter=5000)
            ce = certify(r, con, st["tau"])
            cx, cy = r.centres
            row[name] = dict(
                loss=r.loss,
                bound=ce["bound"],
                gap=ce["gap"],
                certified=bool(ce["certified"]),
                rank=ce["rank"],
                exact=bool(ce["exact"]),
                reason=ce["reason"],
                n_interior=interior_count(r.X, cx, st["alpha"])
                + interior_count(r.Y, cy, st["alpha"]),
            )
        both = row[paper]["certified"] and row[flip]["certified"]
        row["difference"] = diff = row[flip]["loss"] - row[paper]["loss"]
        row["certified_tie"] = bool(both and abs(diff) <= LOSS_RESOLUTION)
        row["certified_strict"] = bool(both and diff > LOSS_RESOLUTION)
        rows.append(row)
    return rows
