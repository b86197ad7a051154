"""Theorem 4: paired samples agree on the shared space (P_C x_i = P_C y_i).

Paper: L. Yi, R. Douady, C. Chen, "Decipher the Modality Gap in Multimodal Contrastive
Learning: From Convergent Representations to Pairwise Alignment", arXiv 2510.03268
(v2, Oct 2025), Theorem 4 as reported in docs/theory.md §3 (full text not available to us).

Setting (docs/theory.md §2): images in a hyperplane A, texts in a hyperplane B, shared space
C = A ∩ B, a in A and b in B the unit vectors orthogonal to C with a . b = cos phi. Every
unit x in A is x = p + s a (p in C, |p|^2 + s^2 = 1), every unit y in B is y = q + t b.

Readings checked here (each says which coupling and why):

- ``population`` -- large-N limit with FIXED marginals vMF(a, kappa) on S(A) and
  vMF(b, kappa) on S(B) (centres orthogonal to C, same kappa). For pairs drawn from a
  coupling pi, L_N - 2 log N -> -2 E_pi[x . y] / tau + E_x log E_y e^{x.y/tau}
  + E_y log E_x e^{x.y/tau} (Wang & Isola 2020, Thm 1), and only the first term depends on
  the coupling. The optimal coupling therefore maximises E_pi[x . y] = E[p . q + cos(phi) s t]:
  an optimal-transport problem with the bilinear gain <(p,s), D (q,t)>, D = diag(I, cos phi).
  Since D is positive semi-definite the "rotation coupling" (q, t) = (p, s) is c-cyclically
  monotone (sum over a cycle = 1/2 sum |D^{1/2}(w_i - w_sigma(i))|^2 >= 0, see
  :func:`statement`) hence optimal, uniquely for phi < pi/2. Checked on an empirical
  measure by an exact assignment (Hungarian) solve. In this reading the IMS assumption is
  not an extra premise: the optimal coupling satisfies s = t, i.e. x . a = y . b.
- ``finite_n`` -- minimise L_N directly with X in S(A)^N, Y in S(B)^N (verify.solvers,
  Subspace constraint), N > h - 1 so that the optimum must leave C. Theorem 4's premises
  are MEASURED at the optimum, not imposed: in practice the means vanish there, so the
  centres are undefined and the premise "centres orthogonal to C" cannot hold; IMS is
  measured with respect to (a, b) instead. The conclusion P_C x_i = P_C y_i is measured
  all the same.
- ``finite_n_ims`` -- the premises ENFORCED by construction: x_i = sqrt(1-s_i^2) u_i + s_i a,
  y_i = sqrt(1-s_i^2) v_i + s_i b with u_i, v_i unit in C and planted heights s_i (drawn
  once, then fixed). This is exactly the set of pairs in A x B with x_i . a = y_i . b
  (IMS for centres a, b) at the prescribed heights; with positive heights the centres lie
  near a, b (their C-components are measured). The minimiser over u, v is then checked
  for u_i = v_i. When u = v, IMS also holds exactly with respect to the actual centres
  (P_C c_x = P_C c_y and the a/b components coincide), which is measured too.

Negative controls: "at the minimiser some pair differs on C by at least 0.1" and "the
independent (product) coupling is as good as the rotation coupling" must come out REFUTED.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from modgap.verify.coupling import rotation_coupling_ot
from modgap.verify.coverage import coverage
from modgap.verify.frames import (
    best_aligned_partner,
    shared_space_measurements,
    subspace_frame,
    subspace_optimum,
)
from modgap.verify.geometry import hyperplanes_with_angle
from modgap.verify.ims import IMSFamily, minimise_ims_family
from modgap.verify.settings import AGREE_TOL, GRAD_TOL

from .outcome import decide
from .subspace_settings import FULL_SETTINGS, QUICK_SETTINGS
from .verdict import PAPER_CITATION, Status, Verdict

__all__ = [
    "ID",
    "CLAIM",
    "CITATION",
    "statement",
    "check",
    "QUICK_SETTINGS",
    "FULL_SETTINGS",
    "IMS_SEEDS",
    "ims_family",
]

ID = "theorem4"
CITATION = PAPER_CITATION
CLAIM = (
    "Under the subspace constraint, if both modality centres are orthogonal to the shared "
    "space C = A ∩ B and the IMS assumption x_i . c_x = y_i . c_y holds for every pair, the "
    "optimal representation makes paired samples agree on the shared space: "
    "P_C x_i = P_C y_i."
)

#: (h, N, tau, phi, heights low, heights high) of the IMS-enforced family (h >= 4: dim C >= 2).
QUICK_IMS: tuple[tuple[int, int, float, float, float, float], ...] = ((4, 16, 0.1, 0.6, 0.2, 0.8),)
FULL_IMS: tuple[tuple[int, int, float, float, float, float], ...] = (
    (4, 16, 0.1, 0.6, 0.2, 0.8),
    (4, 16, 0.1, 0.6, -0.9, 0.9),
    (5, 24, 0.2, 0.8, 0.3, 0.9),
    (8, 32, 0.1, 0.7, 0.1, 0.6),
)


def statement() -> dict[str, Any]:
    """Symbolic derivations behind the checks (sympy; residuals simplify to 0).

    Coordinates: C = span(e1, e2), a = e3, b = cos(phi) e3 + sin(phi) e4 in R^4;
    x = (p1, p2, s, 0), y = (q1, q2, t cos phi, t sin phi).

    - ``pair_inner_product``: x . y = p . q + s t cos phi.
    - ``deficit_residual``: with s = t and |p|^2 = |q|^2 = 1 - s^2 (IMS, unit vectors),
      1 - x . y = |p - q|^2 / 2 + s^2 (1 - cos phi); the residual simplifies to 0. Hence for
      given heights the pair alignment is largest exactly when p = q.
    - ``cyclic_monotonicity_residual``: for w_i = (p_i, s_i), D = diag(1, 1, cos phi),
      sum_i <w_i, D w_i> - sum_i <w_i, D w_{i+1}> over a 3-cycle equals
      1/2 sum_i (w_i - w_{i+1})^T D (w_i - w_{i+1}) (residual 0): the identity (rotation)
      coupling is c-cyclically monotone whenever cos phi >= 0.
    - ``population_coupling_term``: the only coupling-dependent term of
      lim (L_N - 2 log N), -2 E[x . y] / tau.
    """
    p1, p2, q1, q2, s, t, phi, tau = sp.symbols("p1 p2 q1 q2 s t phi tau", real=True)
    x = sp.Matrix([p1, p2, s, 0])
    y = sp.Matrix([q1, q2, t * sp.cos(phi), t * sp.sin(phi)])
    inner = sp.simplify(x.dot(y))
    inner_residual = sp.simplify(inner - (p1 * q1 + p2 * q2 + s * t * sp.cos(phi)))
    # IMS: t = s; unit norms: p2^2 = 1 - s^2 - p1^2, q2^2 = 1 - s^2 - q1^2.
    pq = sp.Matrix([p1 - q1, p2 - q2])
    deficit = sp.Rational(1, 2) * pq.dot(pq) + s**2 * (1 - sp.cos(phi))
    lhs = 1 - inner.subs(t, s)
    subs = {p2**2: 1 - s**2 - p1**2, q2**2: 1 - s**2 - q1**2}
    deficit_residual = sp.simplify(sp.expand(lhs - deficit).subs(subs))
    D = sp.diag(1, 1, sp.cos(phi))
    w = [sp.Matrix(sp.symbols(f"w{i}_1:4", real=True)) for i in range(3)]
    gain_id = sum((w[i].T * D * w[i])[0] for i in range(3))
    gain_cyc = sum((w[i].T * D * w[(i + 1) % 3])[0] for i in range(3))
    half_sq = sp.Rational(1, 2) * sum(
        ((w[i] - w[(i + 1) % 3]).T * D * (w[i] - w[(i + 1) % 3]))[0] for i in range(3)
    )
    cyc_residual = sp.simplify(sp.expand(gain_id - gain_cyc - half_sq))
    Exy = sp.Symbol("E_pi[x.y]", real=True)
    return {
        "pair_inner_product": sp.Eq(sp.Symbol("x.y"), inner),
        "pair_inner_product_residual": inner_residual,
        "deficit_under_ims": sp.Eq(sp.Symbol("1 - x.y"), deficit),
        "deficit_residual": deficit_residual,
        "cyclic_monotonicity_gap": sp.Eq(gain_id - gain_cyc, half_sq),
        "cyclic_monotonicity_residual": cyc_residual,
        "population_coupling_term": -2 * Exy / tau,
    }


# ----------------------------------------------------------------------------- population


def _population_verdicts(quick: bool) -> list[Verdict]:
    settings = (
        [(4, 5.0, 0.6, 300, 0), (8, 10.0, 1.0, 300, 1)]
        if quick
        else [
            (4, 5.0, 0.6, 1000, 0),
            (8, 10.0, 1.0, 1000, 1),
            (16, 2.0, 0.3, 1000, 2),
            (6, 20.0, 1.4, 1000, 3),
            (32, 50.0, 0.8, 1000, 4),
        ]
    )
    runs = [rotation_coupling_ot(*s) for s in settings]
    worst = max(r["max_abs_PCx_minus_PCy_at_ot"] for r in runs)
    recovered = min(r["fraction_rotation_partner_recovered"] for r in runs)
    ok = worst <= 1e-12 and recovered == 1.0
    params = {
        "marginals": "vMF(a, kappa) on S(A), vMF(b, kappa) on S(B), empirical (m atoms)",
        "settings (h, kappa, phi, m, seed)": settings,
        "coupling": "optimal transport for the gain x . y (exact assignment)",
    }
    claim = (
        "Population reading: with marginals vMF(a, kappa) on S(A) and vMF(b, kappa) on S(B) "
        "(centres orthogonal to C), the coupling minimising lim (L_N - 2 log N) pairs every "
        "x with the y that has the same C-component and height (P_C x = P_C y, x.a = y.b)."
    )
    v = Verdict(
        id=ID,
        reading="population",
        claim=claim,
        status=Status.CONFIRMED if ok else Status.REFUTED,
        parameters=params,
        measured={
            "max_abs_PCx_minus_PCy_at_ot": worst,
            "min_fraction_rotation_partner_recovered": recovered,
            "runs": runs,
        },
        tolerance=(
            "exact: the assignment is combinatorial and the rotation coupling is the unique "
            "optimum of an empirical measure without ties (cyclic monotonicity, strict for "
            "phi < pi/2); 1e-12 allows only rounding"
        ),
        detail=(
            "Only -2 E_pi[x.y]/tau depends on the coupling; the Hungarian solve of the "
            "empirical OT recovers the rotation partner of every atom, so the optimum has "
            "P_C x = P_C y and s = t (IMS holds at the optimum rather than being assumed). "
            "Mean pair cosine at the optimum = 1 - (1 - cos phi) E[s^2] (see runs)."
            if ok
            else f"OT coupling does not agree on C: max |P_C x - P_C y| = {worst:.3g}, "
            f"fraction recovered = {recovered:.3f}"
        ),
        contradicts_paper=not ok,
    )
    gaps = [r["mean_xy_rotation_coupling"] - r["mean_xy_product_coupling"] for r in runs]
    control_holds = min(gaps) <= 0.0
    ctrl = Verdict(
        id=ID,
        reading="population",
        claim=(
            "NEGATIVE CONTROL: the independent (product) coupling of the two vMF marginals "
            "is as good as the rotation coupling (E[x.y] no smaller)."
        ),
        status=Status.CONFIRMED if control_holds else Status.REFUTED,
        parameters=params,
        measured={
            "min_gain_rotation_minus_product": float(min(gaps)),
            "mean_xy_rotation_coupling": [r["mean_xy_rotation_coupling"] for r in runs],
            "mean_xy_product_coupling": [r["mean_xy_product_coupling"] for r in runs],
        },
        tolerance="strict comparison of the coupling term E[x.y] (differences are O(0.1))",
        detail="the rotation coupling has strictly larger E[x.y] in every setting",
        negative_control=True,
    )
    return [v, ctrl]


# ----------------------------------------------------------------------------- finite N


def _finite_n_verdicts(quick: bool) -> list[Verdict]:
    settings = QUICK_SETTINGS if quick else FULL_SETTINGS
    runs = []
    for h, n, tau, phi in settings:
        opt = subspace_optimum(h, n, tau, phi)
        meas = shared_space_measurements(opt.frame, opt.X, opt.Y)
        # sensitivity: the best-aligned partner y' = P_B x / |P_B x| disagrees on C
        Yb = best_aligned_partner(opt.frame, opt.X)
        sens = shared_space_measurements(opt.frame, opt.X, Yb)["max_abs_PCx_minus_PCy"]
        runs.append(
            {
                **opt.parameters,
                **opt.solver_summary(),
                **meas,
                "sensitivity_best_aligned_partner_PC_diff": sens,
            }
        )
    converged = all(r["converged"] for r in runs)
    worst = max(r["max_abs_PCx_minus_PCy"] for r in runs)
    ims_ab = max(r["ims_residual_wrt_a_b"] for r in runs)
    any_defined = any(r["centres_defined"] for r in runs)
    params = {
        "settings (h, N, tau, phi)": [list(s) for s in settings],
        "constraint": "X in hyperplane A, Y in hyperplane B (verify.solvers, Subspace)",
        "solver": "lbfgs, best of seeds (0, 1, 2), tol 1e-9",
    }
    claim = (
        "Finite-N reading: at the minimiser of L_N with X in S(A), Y in S(B) (N > h - 1), "
        "P_C x_i = P_C y_i for every pair. Theorem 4's premises are measured, not imposed."
    )
    premise_note = (
        "Premises at the optimum: the modality means (almost) vanish, |mean x| = "
        + ", ".join(f"{r['norm_mean_x']:.2g}" for r in runs)
        + "; centres "
        + ", ".join(
            "undefined"
            if r["centre_x_C_component"] is None
            else f"defined only numerically with |P_C c_x| = {r['centre_x_C_component']:.2g}"
            for r in runs
        )
        + ", so 'centres orthogonal to C' does not hold (or cannot be evaluated); IMS "
        f"measured with respect to (a, b): max |x.a - y.b| = {ims_ab:.2g}. The conclusion "
        "is measured regardless."
    )
    if not converged:
        status, detail = (
            Status.INCONCLUSIVE,
            "solver did not converge: "
            + "; ".join(r["message"] for r in runs if not r["converged"]),
        )
    elif worst <= AGREE_TOL:
        status = Status.CONFIRMED
        detail = (
            f"max |P_C x_i - P_C y_i| = {worst:.2g} at the optimum (a generic feasible "
            "partner such as y = P_B x / |P_B x| gives "
            f"{max(r['sensitivity_best_aligned_partner_PC_diff'] for r in runs):.2g}). "
            + premise_note
            + " So the conclusion holds at the finite-N optimum even without the centre "
            "premise."
        )
    else:
        status = Status.REFUTED
        detail = f"max |P_C x_i - P_C y_i| = {worst:.3g} > {AGREE_TOL:g}. " + premise_note
    v = Verdict(
        id=ID,
        reading="finite_n",
        claim=claim,
        status=status,
        parameters=params,
        measured={
            "max_abs_PCx_minus_PCy": worst,
            "ims_residual_wrt_a_b": ims_ab,
            "centres_defined": any_defined,
            "runs": runs,
        },
        tolerance=f"max |P_C x - P_C y| <= {AGREE_TOL:g} (solver positions ~1e-7)",
        detail=detail,
        contradicts_paper=False,
    )
    ctrl = Verdict(
        id=ID,
        reading="finite_n",
        claim=(
            "NEGATIVE CONTROL: at the finite-N minimiser some pair differs on C by at least "
            "0.1 (max_i |P_C x_i - P_C y_i| >= 0.1)."
        ),
        status=decide(worst >= 0.1, converged),
        parameters=params,
        measured={"max_abs_PCx_minus_PCy": worst},
        tolerance="threshold 0.1 as stated in the control",
        detail=f"measured max |P_C x_i - P_C y_i| = {worst:.2g}",
        negative_control=True,
    )
    return [v, ctrl]


#: Seeds of the check's IMS-family minimisation (one start each, best kept).
IMS_SEEDS = (0, 1, 2)


def ims_family(setting: tuple[int, int, float, float, float, float]) -> IMSFamily:
    """The feasible set of one IMS setting (h, N, tau, phi, low, high): Theorem 4's
    IMS-enforced family x_i = r_i u_i + s_i a, y_i = r_i v_i + s_i b (verify.ims.IMSFamily;
    Yi, Douady & Chen, arXiv 2510.03268, Theorem 4) on the hyperplanes
    ``hyperplanes_with_angle(h, phi, seed=1)``, heights s_i ~ U[low, high] (seed 5), fixed."""
    h, n, _tau, phi, lo, hi = setting
    QA, QB = hyperplanes_with_angle(h, phi, seed=1)
    return IMSFamily(subspace_frame(QA, QB), np.random.default_rng(5).uniform(lo, hi, n))


def _ims_verdict(quick: bool) -> Verdict:
    settings = QUICK_IMS if quick else FULL_IMS
    runs = []
    for setting in settings:
        h, n, tau, phi, lo, hi = setting
        family = ims_family(setting)
        frame, heights = family.frame, family.heights
        minima = minimise_ims_family(frame, heights, tau, seeds=IMS_SEEDS)
        best = minima[0]
        meas = shared_space_measurements(frame, best["X"], best["Y"])
        runs.append(
            {
                "h": h,
                "n": n,
                "tau": tau,
                "phi": phi,
                "heights_uniform_in": [lo, hi],
                "loss": best["loss"],
                "grad_norm": best["grad_norm"],
                "converged": best["converged"],
                "local_minima (seed, loss, max|u-v|)": [
                    [d["seed"], d["loss"], d["max_abs_u_minus_v"]] for d in minima
                ],
                # the search's coverage (issue 12): the seeds' minima clustered; the verdict
                # reads u = v at every minimum found, not "nothing beats X", so it does not
                # gate the verdict (a 320-start rerun: docs/readings.md)
                "coverage": coverage(
                    [d["loss"] for d in minima], [d["converged"] for d in minima]
                ).summary(max_basins=3),
                **meas,
            }
        )
    converged = all(r["converged"] for r in runs)
    worst = max(r["max_abs_PCx_minus_PCy"] for r in runs)
    worst_any_min = max(m[2] for r in runs for m in r["local_minima (seed, loss, max|u-v|)"])
    ims_c = [r["ims_residual_wrt_centres"] for r in runs]
    cxC = [r["centre_x_C_component"] for r in runs]
    if not converged:
        status = Status.INCONCLUSIVE
        detail = f"IMS-family minimisation did not reach gradient norm {GRAD_TOL:g}"
    elif worst <= AGREE_TOL:
        status = Status.CONFIRMED
        detail = (
            f"with IMS enforced, the minimiser has max |P_C x - P_C y| = {worst:.2g} "
            f"(every local minimum found: max |u - v| <= {worst_any_min:.2g}); IMS with "
            f"respect to the actual centres then holds to {ims_c}; C-component of the "
            f"image centre {cxC} (the centre premise holds only approximately; it is "
            "measured, not imposed). Search: "
            + "; ".join(
                f"{r['coverage']['starts']} starts, {r['coverage']['distinct_minima']} distinct "
                f"minima, Good-Turing {r['coverage']['good_turing']:.2f}"
                for r in runs
            )
            + ": the optimum's value is not known (the claim is read at every minimum found)"
        )
    else:
        status = Status.REFUTED
        detail = (
            f"with IMS enforced the minimiser still has max |P_C x - P_C y| = {worst:.3g}; "
            f"centre C-components {cxC}"
        )
    return Verdict(
        id=ID,
        reading="finite_n_ims",
        claim=(
            "Finite-N reading with IMS enforced: among x_i = sqrt(1-s_i^2) u_i + s_i a, "
            "y_i = sqrt(1-s_i^2) v_i + s_i b (u_i, v_i unit in C, heights s_i fixed), the "
            "minimiser of L_N has u_i = v_i, i.e. P_C x_i = P_C y_i."
        ),
        status=status,
        parameters={
            "settings (h, N, tau, phi, heights low, high)": [list(s) for s in settings],
            "heights": "uniform in [low, high], seed 5, fixed during the minimisation",
            "geometry": "hyperplanes_with_angle(h, phi, seed=1)",
            "solver": (
                "the common solver (verify.solvers.solve, Riemannian L-BFGS, tol 1e-9) on "
                "the IMS family as a feasible set (verify.ims.IMSFamily), seeds (0, 1, 2), "
                "best loss kept"
            ),
        },
        measured={
            "max_abs_PCx_minus_PCy": worst,
            "max_abs_u_minus_v_any_local_minimum": worst_any_min,
            "ims_residual_wrt_centres": ims_c,
            "centre_x_C_component": cxC,
            "runs": runs,
        },
        tolerance=f"max |P_C x - P_C y| <= {AGREE_TOL:g}; converged: gradient norm <= {GRAD_TOL:g}",
        detail=detail,
        contradicts_paper=status is Status.REFUTED,
    )


def check(quick: bool = True) -> list[Verdict]:
    """All verdicts of Theorem 4: population, finite_n, finite_n_ims, and two controls.

    quick=True: one setting per reading (< 20 s on one thread); quick=False: several
    (h, N, tau, phi) and vMF settings (< 3 min).
    """
    out = _population_verdicts(quick)
    out += _finite_n_verdicts(quick)
    out.append(_ims_verdict(quick))
    return out
