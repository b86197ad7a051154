"""Global lower bounds on min L_N from the Gram-matrix (semidefinite) relaxation.

Symmetric InfoNCE (docs/theory.md §1; Yi, Douady & Chen, arXiv 2510.03268, §2) depends on
(X, Y) only through the inner products, so with G the Gram matrix of the 2N vectors
(x_1..x_N, y_1..y_N) and of m further vectors of the constraint,

    L_N = (1/N) sum_i [ -2 G_{x_i y_i} / tau + LSE_j(G_{x_i y_j} / tau)
                         + LSE_j(G_{y_i x_j} / tau) ],

a convex function of G (log-sum-exp of affine functions). Every feasible (X, Y) gives a
G that is PSD with unit diagonal and satisfies linear constraints:

- subspaces: x_i in A <=> G_{x_i n} = 0 for each vector n of an orthonormal basis of
  A-perp (the "normals", included as fixed vectors with their known Gram block);
- caps: G_{x_i c_x} >= cos alpha, with c_x a fixed vector (known Gram entries) or a
  variable one (unit diagonal; orthogonal to A-perp for caps inside subspaces).

Dropping the rank condition rank(G) <= h gives a convex problem whose optimum is a lower
bound on min L_N (Lasserre / Shor relaxation; Boyd & Vandenberghe, Convex Optimization,
2004, §4.6.3, §11.6). Exactness: the known vectors are part of G, so a solution with
rank(G) <= h factors as G = V^T V with V in R^{h x (2N + m)}, and an orthogonal map
(Procrustes on the known Gram block) sends the known columns to the actual normals/centres;
the x, y columns are then feasible and attain the bound. So rank <= h certifies that the
relaxation is exact (always when 2N + m <= h). For h < 2N + m the relaxation can be loose:
the bound is then only a bound.

Solved with cvxpy: log_sum_exp needs exponential cones, hence CLARABEL (interior point; its
dual objective is used, so the bound holds up to the solver's dual feasibility tolerance);
SCS is offered as a cross-check. Size: a (2N + m)^2 PSD variable and 2 N^2 exponential
cones; see docs/solver.md for where this stops being practical (N of a few dozen).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from modgap.verify.settings import RANK_TOL, TIGHT_TOL

from ._validation import InputError, check_int_in_range, check_positive
from .constraints import Constraint, Subspace
from .objective import infonce

__all__ = ["gram_lower_bound", "certify", "CertificateResult", "RANK_TOL", "TIGHT_TOL"]

_CLARABEL_OPTS = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10, "max_iter": 400}
_SCS_OPTS = {"eps_abs": 1e-8, "eps_rel": 1e-8, "max_iters": 50_000}


@dataclass
class CertificateResult:
    """Outcome of the Gram relaxation.

    bound: lower bound on min L_N (CLARABEL: min(primal, dual objective); SCS: primal);
    bound_shifted = bound - 2 log N; status: the solver's status; rank: numerical rank of
    the optimal G (eigenvalues > rank_tol * max); exact: rank <= h (the relaxation's optimum
    is realisable, see module docstring); rounded_loss: L_N at the feasible point built
    from the top-h eigenvectors of G (an upper bound on min L_N; equals the bound when exact);
    tight: rounded_loss - bound <= TIGHT_TOL, a numerical proof that the relaxation is tight
    (a feasible point attains the bound). ``tight`` is the robust test: when L_N is very flat
    around its minimiser (e.g. tau = 0.07 and N <= 8, where min L_N ~ 1e-8) the interior
    point solution carries eigenvalues ~1e-4 in directions that change L_N by < 1e-10, and
    the numerical rank overstates the rank of the relaxation's optimal face.
    """

    bound: float
    bound_shifted: float
    primal_value: float
    dual_value: float | None
    status: str
    solver: str
    rank: int
    rank_tol: float
    exact: bool
    n: int
    h: int
    tau: float
    size: int
    wall_time: float
    eigenvalues: np.ndarray = field(repr=False)
    rounded_loss: float = math.nan
    rounded_X: np.ndarray | None = field(default=None, repr=False)
    rounded_Y: np.ndarray | None = field(default=None, repr=False)
    tight: bool = False

    @property
    def optimal(self) -> bool:
        """True when the solver reports an optimal solution."""
        return self.status == "optimal"

    def summary(self) -> dict:
        """The numbers of the certificate, JSON-serialisable."""
        return {
            "bound": self.bound,
            "bound_shifted": self.bound_shifted,
            "primal_value": self.primal_value,
            "dual_value": self.dual_value,
            "status": self.status,
            "solver": self.solver,
            "rank": self.rank,
            "rank_tol": self.rank_tol,
            "exact": self.exact,
            "size": self.size,
            "wall_time": self.wall_time,
            "rounded_loss": self.rounded_loss,
            "tight": self.tight,
        }


class _Layout:
    """Indices of the vectors in G and the known ("fixed") vectors with their values."""

    def __init__(self, constraint: Constraint, n: int):
        self.n = n
        h = constraint.h
        self.fixed: list[np.ndarray] = []  # known vectors (columns of R^h)
        self.normals: dict[int, list[int]] = {0: [], 1: []}
        self.centre: dict[int, int | None] = {0: None, 1: None}
        self.variable: list[int] = []
        idx = 2 * n
        if isinstance(constraint, Subspace):
            for side, NB in enumerate(constraint.normals()):
                for j in range(NB.shape[1]):
                    self.fixed.append(NB[:, j])
                    self.normals[side].append(idx)
                    idx += 1
        for side, s in enumerate(constraint.sides):
            if s.has_cap and not s.variable:
                self.fixed.append(s.centre)
                self.centre[side] = idx
                idx += 1
        self.n_fixed_end = idx
        for side, s in enumerate(constraint.sides):
            if s.has_cap and s.variable:
                self.centre[side] = idx
                self.variable.append(idx)
                idx += 1
        self.size = idx
        self.F = np.array(self.fixed).T if self.fixed else np.zeros((h, 0))


def _build(constraint: Constraint, n: int, tau: float, lay: _Layout):
    import cvxpy as cp

    M = lay.size
    G = cp.Variable((M, M), PSD=True)
    cons = [cp.diag(G) == 1]
    nf = lay.n_fixed_end - 2 * n
    if nf:
        cons.append(G[2 * n : lay.n_fixed_end, 2 * n : lay.n_fixed_end] == lay.F.T @ lay.F)
    for side, s in enumerate(constraint.sides):
        rows = slice(0, n) if side == 0 else slice(n, 2 * n)
        for j in lay.normals[side]:
            cons.append(G[rows, j] == 0)
            c = lay.centre[side]
            if c is not None and s.variable:
                cons.append(G[c, j] == 0)
        if s.has_cap and not s.vacuous_cap:
            cons.append(G[rows, lay.centre[side]] >= s.cos_a)
    S = G[0:n, n : 2 * n] / tau
    obj = (
        -2.0 * cp.trace(S) + cp.sum(cp.log_sum_exp(S, axis=1)) + cp.sum(cp.log_sum_exp(S, axis=0))
    ) / n
    return cp.Problem(cp.Minimize(obj), cons), G


def _solve_clarabel(prob) -> tuple[float, float | None, str]:
    """Solve through cvxpy's problem data to read CLARABEL's dual objective as well.

    Tolerances 1e-10 first; if CLARABEL stalls short of them ("optimal_inaccurate"), once
    more at its default 1e-8, which is still 100x below the certification tolerance.
    """
    import warnings

    import cvxpy as cp

    data, chain, inverse = prob.get_problem_data(cp.CLARABEL)
    for tol in (1e-10, 1e-8):
        opts = dict(_CLARABEL_OPTS, tol_gap_abs=tol, tol_gap_rel=tol, tol_feas=tol)
        raw = chain.solve_via_data(prob, data, False, False, opts)
        # cvxpy's own solve() records the options on the solver's inverse data; do the same.
        inverse[-1].solver_options = opts
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Solution may be inaccurate")
            prob.unpack_results(raw, chain, inverse)
        if prob.status == "optimal":
            break
    primal = float(prob.value) if prob.value is not None else math.nan
    dual = None
    if raw.obj_val is not None and math.isfinite(raw.obj_val) and math.isfinite(primal):
        offset = primal - float(raw.obj_val)
        dual = float(raw.obj_val_dual) + offset
    return primal, dual, str(prob.status)


def gram_lower_bound(
    constraint: Constraint,
    n: int,
    tau: float,
    *,
    solver: str = "CLARABEL",
    rank_tol: float = RANK_TOL,
) -> CertificateResult:
    """Lower bound on min L_N over the constraint's feasible set (module docstring).

    Variables: G ((2N + m) x (2N + m), PSD), m = number of normals of A and B
    (subspace constraints) plus the cap centres (fixed: known entries; variable: unknowns).
    Objective: (1/N) sum_i [-2 G_{x_i y_i}/tau + LSE_j(G_{x_i y_j}/tau) + LSE_j(G_{y_i x_j}/tau)].
    Constraints: diag(G) = 1, known block = F^T F, G_{x_i n} = 0 for normals n of A
    (same for y and B), G_{x_i c_x} >= cos alpha. With the complement basis included, the
    rank condition for exactness is rank(G) <= h. ``solver``: "CLARABEL" (bound = min of
    primal and dual objective) or "SCS" (first-order; primal objective, a cross-check).
    """
    import cvxpy as cp

    if not isinstance(constraint, Constraint):
        raise InputError(f"constraint must be a verify.constraints.Constraint, got {constraint!r}")
    n = check_int_in_range(n, "n", 2, 10_000)
    tau = check_positive(tau, "tau")
    rank_tol = check_positive(rank_tol, "rank_tol")
    solver = str(solver).upper()
    if solver not in ("CLARABEL", "SCS"):
        raise InputError(f"solver must be 'CLARABEL' or 'SCS', got {solver!r}")
    lay = _Layout(constraint, n)
    t0 = time.perf_counter()
    prob, G = _build(constraint, n, tau, lay)
    if solver == "CLARABEL":
        primal, dual, status = _solve_clarabel(prob)
        bound = min(primal, dual) if dual is not None else primal
    else:
        prob.solve(solver=cp.SCS, **_SCS_OPTS)
        primal = float(prob.value) if prob.value is not None else math.nan
        dual, status, bound = None, str(prob.status), primal
    wall = time.perf_counter() - t0
    if G.value is not None:
        Gv = 0.5 * (G.value + G.value.T)
        lam, U = np.linalg.eigh(Gv)
        lam, U = lam[::-1], U[:, ::-1]
        rank = int(np.sum(lam > rank_tol * max(lam[0], 1e-300)))
        RX, RY, rloss = _round(constraint, lay, lam, U, tau)
    else:  # no solution: nothing certified
        lam, rank, RX, RY, rloss = np.array([]), -1, None, None, math.nan
    if not status.startswith("optimal"):  # infeasible / failed: no bound at all
        bound = -math.inf
    return CertificateResult(
        bound=bound,
        bound_shifted=bound - 2.0 * math.log(n),
        primal_value=primal,
        dual_value=dual,
        status=status,
        solver=solver,
        rank=rank,
        rank_tol=rank_tol,
        exact=0 <= rank <= constraint.h,
        n=n,
        h=constraint.h,
        tau=tau,
        size=lay.size,
        wall_time=wall,
        eigenvalues=lam,
        rounded_loss=rloss,
        rounded_X=RX,
        rounded_Y=RY,
        tight=bool(status == "optimal" and rloss - bound <= TIGHT_TOL),
    )


def _round(constraint: Constraint, lay: _Layout, lam: np.ndarray, U: np.ndarray, tau: float):
    """Feasible point from the top-h eigenpairs: V = diag(sqrt(lam)) U^T (h x M), rotated by
    the orthogonal Procrustes map sending the known columns onto the known vectors, then
    projected onto the feasible set (Constraint.project)."""
    h, n = constraint.h, lay.n
    k = min(h, lam.size)
    V = np.zeros((h, lay.size))
    V[:k] = np.sqrt(np.maximum(lam[:k], 0.0))[:, None] * U[:, :k].T
    if lay.F.shape[1]:
        Vf = V[:, 2 * n : lay.n_fixed_end]
        W, _, Zt = np.linalg.svd(lay.F @ Vf.T)
        V = (W @ Zt) @ V
    X, Y = V[:, :n].T.copy(), V[:, n : 2 * n].T.copy()
    centres = None
    if constraint.has_cap:
        cs = []
        for side in (0, 1):
            j = lay.centre[side]
            c = V[:, j] / max(np.linalg.norm(V[:, j]), 1e-300)
            cs.append(c)
        centres = tuple(cs)
    try:
        X, Y = constraint.project(X, Y, centres)
        return X, Y, float(infonce(X, Y, tau))
    except ValueError:  # pragma: no cover - degenerate centre from a bad solve
        return None, None, math.nan


def certify(
    result: Any,
    constraint: Constraint,
    tau: float,
    *,
    tol: float = 1e-6,
    certificate: CertificateResult | None = None,
    solver: str = "CLARABEL",
) -> dict:
    """Compare a solver result with the Gram lower bound.

    gap = L_N(X, Y) - bound, with L_N recomputed by verify.objective.infonce at the result's
    point. Since bound <= min L_N <= L_N(X, Y), gap <= tol certifies that (X, Y) is a global
    minimiser to within tol, whatever the rank; ``exact`` says whether the relaxation itself
    is tight (rank <= h). certified requires an optimal relaxation status, gap <= tol,
    violation <= 1e-12 and gap >= -tol (a bound above a feasible value means an inaccurate
    relaxation solve and certifies nothing). ``result``: a SolveResult, or any object with
    X, Y (and optionally centres).
    """
    tau = check_positive(tau, "tau")
    tol = check_positive(tol, "tol")
    X, Y = constraint.check_xy(result.X, result.Y)
    n = X.shape[0]
    centres = getattr(result, "centres", None)
    if certificate is None:
        certificate = gram_lower_bound(constraint, n, tau, solver=solver)
    elif certificate.n != n or certificate.h != constraint.h or certificate.tau != tau:
        raise InputError(
            f"certificate is for (n, h, tau) = ({certificate.n}, {certificate.h}, "
            f"{certificate.tau}), the result for ({n}, {constraint.h}, {tau})"
        )
    value = float(infonce(X, Y, tau))
    viol = float(constraint.violation(X, Y, centres))
    gap = value - certificate.bound
    if not certificate.optimal:
        reason = f"relaxation not solved to optimality (status {certificate.status})"
    elif viol > 1e-12:
        reason = f"point infeasible (violation {viol:.3g})"
    elif gap < -tol:
        reason = f"bound exceeds a feasible value by {-gap:.3g}: inaccurate relaxation solve"
    elif gap > tol:
        reason = f"gap {gap:.3g} > tol {tol:g}" + (
            "" if certificate.exact else f" (relaxation not exact: rank {certificate.rank} > h)"
        )
    else:
        reason = "gap within tol: global minimum certified"
    certified = reason.startswith("gap within tol")
    return {
        "value": value,
        "bound": certificate.bound,
        "gap": gap,
        "tol": tol,
        "certified": certified,
        "reason": reason,
        "exact": certificate.exact,
        "rank": certificate.rank,
        "h": constraint.h,
        "status": certificate.status,
        "solver": certificate.solver,
        "violation": viol,
        "rounded_loss": certificate.rounded_loss,
        "tight": certificate.tight,
        "certificate_time": certificate.wall_time,
    }
