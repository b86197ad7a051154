"""Every tolerance of modgap, defined once (the model: cvxpy's ``settings`` module).

Each number below is imported by the modules that use it; none of them defines a
tolerance of its own. The comment above each says what it decides and why it has its
value. Statuses (CONFIRMED / REFUTED / INCONCLUSIVE) and the rule that turns them into
exit codes live in :mod:`modgap.theorems.outcome`.

Paper: L. Yi, R. Douady, C. Chen, arXiv 2510.03268 (docs/theory.md).
"""

from __future__ import annotations

# ============================================================================ centres
# The one centre rule (docs/centre_rule.md, implemented by modgap.verify.observables):
# the centre angle Delta_theta = arccos(c_x . c_y), c = mean / |mean| (docs/theory.md §2),
# is reported only when BOTH mean norms are at least the noise floor of their source;
# otherwise it is undefined, with the reason.

#: Rows that are draws from a population (embeddings, trained towers, vMF samples): the
#: sample mean m of n unit vectors has E|m - mu|^2 = (1 - |mu|^2) / n, so a centre needs
#: |m| >= CENTRE_SIGMAS plug-in standard errors, i.e. |m| >= k / sqrt(n + k^2), k = 3
#: (~3/sqrt(n) for large n). Source: the variance of a mean of i.i.d. unit vectors; the
#: 3-sigma convention.
CENTRE_SIGMAS = 3.0
#: Rows that are a configuration (a solver's optimum, a planted model): the mean of a
#: configuration the optimum spreads symmetrically is zero up to the solver's position
#: accuracy. Observed at KKT tolerance 1e-7: noise-level means from 3e-8 to 2e-4
#: (docs/readings.md); 1e-3 leaves a factor 5 above the largest.
CONFIGURATION_MEAN_FLOOR = 1e-3

# ============================================================================ solvers
#: Feasibility guaranteed at every point a solver returns.
FEAS_TOL = 1e-12
#: A cap constraint x . c >= cos(alpha) counts as active when x . c - cos(alpha) <= this.
ACTIVE_TOL = 1e-12
#: Below this |L_N - 2 log N - B| is at the solver's resolution (stationarity 1e-7).
SOLVER_FLOOR = 1e-6
#: Two best-found finite-N losses closer than this are a tie (solver stationarity 1e-7).
LOSS_RESOLUTION = 1e-6
#: Gradient norm below which a minimisation of Theorem 4's IMS family counts as converged.
GRAD_TOL = 1e-7
#: Solvers on caps: the KKT test of an iterate (an NNLS solve) runs at every iteration once
#: the last residual was within KKT_CHECK_NEAR x tol; further away, its spacing doubles
#: after each failed test up to KKT_CHECK_MAX_GAP iterations (near the cap boundary the
#: residual of the lifted iterates fluctuates, so a sparse test near tol would miss the
#: iterates that meet it; far from tol a test at every iteration is wasted work).
KKT_CHECK_NEAR = 10.0
KKT_CHECK_MAX_GAP = 32
#: L-BFGS pairs kept by the finite-N solves of cap problems (the theorem checks' branch
#: solves and the figures' cap solves): with every point on its cap boundary, 10 pairs
#: needed 800-2000 iterations to resolve the multipliers, 100 need 110-570, each seed in
#: the same minimum (docs/readings.md, "Speed of the theorem checks").
CAP_LBFGS_MEMORY = 100

#: A "nothing found beats X" verdict is CONFIRMED only when the Good-Turing estimate of
#: the probability that a further start finds an unseen basin is below this value
#: (modgap.verify.coverage).
GOOD_TURING_THRESHOLD = 0.05
#: Final losses within this (absolute, in units of L_N) belong to one local minimum when
#: multi-start results are clustered. At the solver's KKT tolerance 1e-9 a start's value is
#: accurate to far better than this, and the distinct minima measured differ by >= 2e-5.
MINIMUM_RESOLUTION = 1e-7

# ============================================================================ certificates
#: Eigenvalues below RANK_TOL * (largest eigenvalue) count as zero in the numerical rank.
RANK_TOL = 1e-6
#: The relaxation counts as tight when a rounded feasible point is within this of the bound.
TIGHT_TOL = 1e-7

# ============================================================================ geometry
#: A transformed row shorter than this (before renormalisation) has no direction; rows with
#: |P_C x| below it have no SSP image.
MIN_NORM = 1e-6
#: Tolerance on |c| - 1 for a vMF centre (no silent normalisation).
UNIT_ATOL = 1e-9
#: A point is inside its cap (off the boundary) when x.c - cos(alpha) exceeds this; the
#: solver puts rows within 1e-10 of the boundary exactly on it.
INTERIOR_TOL = 1e-6
#: A centre with |P_C c| below this counts as orthogonal to C (population minimiser).
ORTHOGONAL_TOL = 1e-3
#: A pair counts as having a component outside C when |x_i . a| exceeds this.
OUT_OF_C = 1e-3

# ============================================================================ theorem checks
#: Resolution of Theorem 1's finite-N limit: |gap| at the largest N must be below this (a
#: tenth of the negative control's offset, so the check separates B from B + 0.1).
LIMIT_RESOLUTION = 1e-2
#: Agreement on C counted as exact (Theorem 4): >> the solver's position accuracy (~1e-7
#: at gradient norm 1e-9) and << the O(0.1) disagreement of generic feasible points.
AGREE_TOL = 1e-5
#: Alignment accepted at the solver optimum (Corollary 3): if P_C x, P_C y and the heights
#: agree to AGREE_TOL each, |R x - y| <= 2 AGREE_TOL and 1 - R x . y <= 2 AGREE_TOL^2.
ROTATION_TOL = 2.0 * AGREE_TOL**2
#: Planted models and fitted operators: float64 rounding (SVD-estimated subspaces included).
PLANTED_TOL = 1e-9
#: Corollary 2's formula error accepted at the solver optimum: bounded by
#: |P_C x - P_C y| + |s - t| (solver positions ~1e-7), far below the O(0.01-0.1) deficits.
FINITE_TOL = 1e-6
#: A mean norm below this counts as exactly zero at solver accuracy (Corollary 2's scope:
#: the regular simplex inside C has mean 0). Stricter than CONFIGURATION_MEAN_FLOOR, which
#: decides only whether a centre exists.
MEAN_ZERO = 1e-6
#: Resolution of the trained-tower comparisons with phi, radians (2.86 degrees).
ANGLE_TOL = 0.05
#: |Delta_theta - phi| within this many degrees counts as analyze's prediction matching.
MATCH_TOL_DEG = 1.0


def decision_tolerance(quad_error: float, value: float) -> float:
    """Tolerance of a population comparison: ``10 |F_n - F_2n| + 1e-12 max(1, |value|)``.

    Ten times the quadrature error bar (the difference between n and 2n nodes per panel)
    plus float64 round-off. Shared by the population checks of Theorems 1-3.
    """
    return 10.0 * quad_error + 1e-12 * max(1.0, abs(value))
