"""Corollary 3: hyperplane rotation yields perfect alignment.

Paper: L. Yi, R. Douady, C. Chen, "Decipher the Modality Gap in Multimodal Contrastive
Learning: From Convergent Representations to Pairwise Alignment", arXiv 2510.03268
(v2, Oct 2025), Corollary 3 as reported in docs/theory.md §3 (full text not available to us).

The hyperplane rotation is the rotation R that maps A onto B and fixes C = A ∩ B (the
direct rotation, :func:`verify.geometry.rotation_onto`): in the plane span(a, b) it turns
a into b by the angle phi. In the planted model x = p + s a, y = p + s b it gives
R x = p + s b = y exactly (:func:`statement`). A rotation by a wrong angle alpha leaves
1 - R_alpha x . y = s^2 (1 - cos(phi - alpha)) (also derived there), which is the
prediction the negative control is compared with.

Readings checked here:

- ``planted`` -- the planted model (the population optimum of Theorem 4 is this model
  with vMF heights): R from the known subspaces, on hyperplanes and on k-dim subspaces
  with several angles; and :class:`verify.alignment.HyperplaneRotation` fitted on the
  data alone (subspaces estimated by SVD).
- ``finite_n`` -- at the minimiser of L_N with X in S(A), Y in S(B) (the optimum of
  Theorem 4's finite-N reading). There P_C x_i = P_C y_i holds only to the solver's
  accuracy; since |R x - y| <= |P_C x - P_C y| + |x . a - y . b|, the rotation aligns to
  that accuracy squared (1 - R x . y = |R x - y|^2 / 2), which is what is measured.

Negative control: "rotation by phi/2 aligns the pairs" must come out REFUTED.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from modgap.verify._validation import InputError
from modgap.verify.alignment import HyperplaneRotation
from modgap.verify.frames import (
    SubspaceFrame,
    planted_pairs,
    random_hyperplane_frames,
    shared_space_measurements,
    subspace_frame,
    subspace_optimum,
)
from modgap.verify.geometry import rotation_onto, subspaces_with_angles
from modgap.verify.settings import PLANTED_TOL, ROTATION_TOL

from .outcome import decide
from .subspace_settings import FULL_SETTINGS, QUICK_SETTINGS
from .verdict import PAPER_CITATION, Status, Verdict

__all__ = ["ID", "CLAIM", "CITATION", "statement", "check", "plane_rotation"]

ID = "corollary3"
CITATION = PAPER_CITATION
CLAIM = (
    "Hyperplane rotation (the rotation taking A onto B that fixes C) yields perfect "
    "alignment: R x_i = y_i for every pair."
)


def plane_rotation(frame: SubspaceFrame, alpha: float) -> np.ndarray:
    """Rotation by ``alpha`` in the plane span(a, b) of two hyperplanes, identity elsewhere.

    R_alpha = I + (cos alpha - 1)(a a^T + w w^T) + sin alpha (w a^T - a w^T), with
    w = (b - cos(phi) a) / sin(phi). R_phi is the hyperplane rotation (the direct rotation
    of :func:`verify.geometry.rotation_onto`); other alpha are wrong angles (the control).
    """
    if frame.U.shape[1] != 1:
        raise InputError("plane_rotation needs two hyperplanes (one non-zero principal angle)")
    a, b, phi = frame.U[:, 0], frame.V[:, 0], frame.phi
    w = (b - np.cos(phi) * a) / np.sin(phi)
    R = np.eye(frame.h)
    R += (np.cos(alpha) - 1.0) * (np.outer(a, a) + np.outer(w, w))
    R += np.sin(alpha) * (np.outer(w, a) - np.outer(a, w))
    return R


def statement() -> dict[str, Any]:
    """Symbolic derivation (sympy) in R^4: C = span(e1, e2), a = e3, b = cos(phi) e3 +
    sin(phi) e4, R_alpha = rotation by alpha in the (e3, e4) plane.

    - ``rotation_orthogonal_residual``: |R^T R - I| (0) and ``rotation_det``: det R (1).
    - ``R_maps_a_to_b_residual``, ``R_fixes_C_residual``: |R_phi a - b|^2, |R e1 - e1|^2 +
      |R e2 - e2|^2 (0).
    - ``R_maps_x_to_y_residual``: |R_phi x - y|^2 for x = p + s a, y = p + s b (0).
    - ``wrong_angle_deficit``: 1 - R_alpha x . y = s^2 (1 - cos(phi - alpha)), residual 0
      (with |p|^2 = 1 - s^2).
    """
    p1, p2, s, phi, alpha = sp.symbols("p1 p2 s phi alpha", real=True)

    def rot(angle):
        c, si = sp.cos(angle), sp.sin(angle)
        return sp.Matrix([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, c, -si], [0, 0, si, c]])

    a = sp.Matrix([0, 0, 1, 0])
    b = sp.Matrix([0, 0, sp.cos(phi), sp.sin(phi)])
    p = sp.Matrix([p1, p2, 0, 0])
    x, y = p + s * a, p + s * b
    R = rot(phi)
    Ra = rot(alpha)

    def sq(v):
        return sp.simplify(v.dot(v))

    e1, e2 = sp.eye(4)[:, 0], sp.eye(4)[:, 1]
    deficit = s**2 * (1 - sp.cos(phi - alpha))
    wrong = sp.expand(sp.expand_trig(1 - (Ra * x).dot(y) - deficit))
    wrong = sp.simplify(wrong.subs(p2**2, 1 - s**2 - p1**2))
    return {
        "rotation_orthogonal_residual": sp.simplify((R.T * R - sp.eye(4)).norm()),
        "rotation_det": sp.simplify(R.det()),
        "R_maps_a_to_b_residual": sq(R * a - b),
        "R_fixes_C_residual": sq(R * e1 - e1) + sq(R * e2 - e2),
        "R_maps_x_to_y_residual": sq(R * x - y),
        "wrong_angle_deficit": sp.Eq(sp.Symbol("1 - R_alpha x.y"), deficit),
        "wrong_angle_deficit_residual": wrong,
    }


def _fitted_alignment(X: np.ndarray, Y: np.ndarray, dim: int) -> dict[str, Any]:
    """max_i (1 - x'_i . y_i) after HyperplaneRotation fitted on (X, Y) alone.

    Two fits: with the subspace dimension known (``dim``, the one the verdict uses) and
    with the default 99%-variance rule (reported: when the heights x . a are small, the
    energy along a falls below 1% and the rule drops that direction, so the fitted
    rotation no longer turns a onto b -- an estimation issue, not one of Corollary 3).
    """
    op = HyperplaneRotation(dim=dim).fit(X, Y)
    Xr, Yr = op.transform(X, Y)
    op99 = HyperplaneRotation().fit(X, Y)
    X9, Y9 = op99.transform(X, Y)
    return {
        "max_misalignment_fitted": float(np.max(1.0 - np.sum(Xr * Yr, axis=1))),
        "fitted_max_principal_angle": float(np.max(op.principal_angles_)),
        "max_misalignment_fitted_99pct": float(np.max(1.0 - np.sum(X9 * Y9, axis=1))),
        "fitted_dim_99pct": int(op99.dim_),
    }


def _planted_verdicts(quick: bool) -> list[Verdict]:
    rng = np.random.default_rng(31)
    n_frames = 4 if quick else 30
    runs, general = [], []
    for h, phi, seed, frame in random_hyperplane_frames(rng, n_frames, 20):
        pl = planted_pairs(frame, 4 * h, seed, n_pure=1)
        X, Y = pl["X"], pl["Y"]
        R = rotation_onto(frame.QA, frame.QB)
        Rh = plane_rotation(frame, phi / 2)
        s = pl["S"][:, 0]
        fit = _fitted_alignment(X, Y, frame.QA.shape[1])
        runs.append(
            {
                "h": h,
                "phi": phi,
                "seed": seed,
                "n": 4 * h,
                "max_misalignment_before": float(np.max(1 - np.sum(X * Y, axis=1))),
                "max_misalignment_rotation": float(np.max(1 - np.sum((X @ R.T) * Y, axis=1))),
                "max_abs_Rx_minus_y": float(np.max(np.linalg.norm(X @ R.T - Y, axis=1))),
                "max_misalignment_half_angle": float(np.max(1 - np.sum((X @ Rh.T) * Y, axis=1))),
                "predicted_half_angle": float(np.max(s**2 * (1 - np.cos(phi / 2)))),
                **fit,
            }
        )
        k = int(rng.integers(2, max(3, h // 2 + 1)))
        m = int(rng.integers(1, min(k, h - k) + 1))
        angles = sorted([0.0] * (k - m) + list(rng.uniform(0.05, np.pi / 2, m)))
        gframe = subspace_frame(*subspaces_with_angles(h, angles, seed=seed))
        gp = planted_pairs(gframe, 30, seed)
        Rg = rotation_onto(gframe.QA, gframe.QB)
        general.append(
            {
                "h": h,
                "k": k,
                "angles": angles,
                "max_misalignment_rotation": float(
                    np.max(1 - np.sum((gp["X"] @ Rg.T) * gp["Y"], axis=1))
                ),
            }
        )
    worst = max(r["max_misalignment_rotation"] for r in runs + general)
    worst_fit = max(r["max_misalignment_fitted"] for r in runs)
    sym = statement()
    sym_ok = all(
        sym[k] == 0
        for k in (
            "rotation_orthogonal_residual",
            "R_maps_a_to_b_residual",
            "R_fixes_C_residual",
            "R_maps_x_to_y_residual",
            "wrong_angle_deficit_residual",
        )
    ) and (sym["rotation_det"] == 1)
    ok = sym_ok and worst <= PLANTED_TOL and worst_fit <= PLANTED_TOL
    params = {
        "frames": n_frames,
        "h": "uniform in [3, 20]",
        "phi": "uniform in [0.05, pi/2 - 0.05]",
        "pairs": "4h planted pairs per frame (one pure out-of-C pair)",
        "general_subspaces": "k-dim, m non-zero angles, 30 pairs each",
        "fitted_operator": (
            "verify.alignment.HyperplaneRotation(dim=h-1), not centred; the 99%-variance "
            "rule is reported alongside"
        ),
    }
    v = Verdict(
        id=ID,
        reading="planted",
        claim=(
            "Planted model x_i = p_i + s_i a, y_i = p_i + s_i b: the hyperplane rotation R "
            "(rotation_onto(A, B); and HyperplaneRotation fitted on the data) gives "
            "R x_i = y_i for every pair."
        ),
        status=Status.CONFIRMED if ok else Status.REFUTED,
        parameters=params,
        measured={
            "symbolic_residuals_zero": bool(sym_ok),
            "max_misalignment_rotation": worst,
            "max_misalignment_fitted_operator": worst_fit,
            "runs": runs,
            "general_subspaces": general,
        },
        tolerance=f"{PLANTED_TOL:g} (float64 rounding, SVD-estimated subspaces included)",
        detail=(
            "exact up to rounding, also for k-dim subspaces with several principal angles "
            "(the direct rotation turns every principal pair)"
            if ok
            else f"rotation leaves misalignment {worst:.3g} (fitted: {worst_fit:.3g})"
        ),
        contradicts_paper=not ok,
    )
    half = min(r["max_misalignment_half_angle"] for r in runs)
    pred_err = max(abs(r["max_misalignment_half_angle"] - r["predicted_half_angle"]) for r in runs)
    ctrl = Verdict(
        id=ID,
        reading="planted",
        claim=(
            "NEGATIVE CONTROL: rotation by phi/2 (half the angle) aligns the planted pairs as "
            f"the hyperplane rotation does, max_i (1 - R_{{phi/2}} x_i . y_i) <= {PLANTED_TOL:g}."
        ),
        status=Status.CONFIRMED if half <= PLANTED_TOL else Status.REFUTED,
        parameters=params,
        measured={
            "min_over_frames_max_misalignment": half,
            "max_error_vs_prediction_s2_1_minus_cos_half_phi": pred_err,
        },
        tolerance=f"{PLANTED_TOL:g}, the tolerance of the positive planted claim",
        detail=(
            "the misalignment left by the half-angle rotation matches the derived "
            f"s^2 (1 - cos(phi/2)) to {pred_err:.2g}"
        ),
        negative_control=True,
    )
    return [v, ctrl]


def _finite_verdicts(quick: bool) -> list[Verdict]:
    settings = QUICK_SETTINGS if quick else FULL_SETTINGS
    runs = []
    for h, n, tau, phi in settings:
        opt = subspace_optimum(h, n, tau, phi)
        X, Y, fr = opt.X, opt.Y, opt.frame
        R = rotation_onto(fr.QA, fr.QB)
        Rh = plane_rotation(fr, phi / 2)
        meas = shared_space_measurements(fr, X, Y)
        bound = 0.5 * (meas["max_abs_PCx_minus_PCy"] + meas["ims_residual_wrt_a_b"]) ** 2
        fit = _fitted_alignment(X, Y, fr.QA.shape[1])
        runs.append(
            {
                **opt.parameters,
                **opt.solver_summary(),
                "max_misalignment_before": float(np.max(1 - np.sum(X * Y, axis=1))),
                "max_misalignment_rotation": float(np.max(1 - np.sum((X @ R.T) * Y, axis=1))),
                "bound_from_theorem4_agreement": float(bound),
                "max_misalignment_half_angle": float(np.max(1 - np.sum((X @ Rh.T) * Y, axis=1))),
                "max_abs_PCx_minus_PCy": meas["max_abs_PCx_minus_PCy"],
                **fit,
            }
        )
    converged = all(r["converged"] for r in runs)
    worst = max(r["max_misalignment_rotation"] for r in runs)
    worst_fit = max(r["max_misalignment_fitted"] for r in runs)
    worst_99 = max(r["max_misalignment_fitted_99pct"] for r in runs)
    note_99 = (
        f" With the 99%-variance rule instead of the known dimension the fitted rotation "
        f"leaves up to {worst_99:.2g}: in settings with small heights (energy along a < 1%) "
        "the rule drops a, so the estimated A, B are wrong (an estimation caveat for real "
        "data, not a failure of Corollary 3)."
        if worst_99 > ROTATION_TOL
        else ""
    )
    params = {
        "settings (h, N, tau, phi)": [list(s) for s in settings],
        "constraint": "X in hyperplane A, Y in hyperplane B (verify.solvers, Subspace)",
        "fitted_operator": "HyperplaneRotation(dim=h-1); 99%-variance rule reported",
    }
    ok = worst <= ROTATION_TOL and worst_fit <= ROTATION_TOL
    if not converged:
        status, detail = Status.INCONCLUSIVE, "solver did not converge"
    elif ok:
        status = Status.CONFIRMED
        detail = (
            f"max 1 - R x . y = {worst:.2g} at the optimum (before rotation "
            f"{max(r['max_misalignment_before'] for r in runs):.3g}); fitted operator "
            f"{worst_fit:.2g}. The accuracy is that of Theorem 4's agreement on C, squared."
            + note_99
        )
    else:
        status = Status.REFUTED
        detail = (
            f"rotation leaves max 1 - R x . y = {worst:.3g} (fitted: {worst_fit:.3g})" + note_99
        )
    v = Verdict(
        id=ID,
        reading="finite_n",
        claim=(
            "Finite-N reading: at the minimiser with X in S(A), Y in S(B), the hyperplane "
            "rotation aligns every pair, max_i (1 - R x_i . y_i) ~ 0 (to the accuracy of "
            "P_C x_i = P_C y_i)."
        ),
        status=status,
        parameters=params,
        measured={
            "max_misalignment_rotation": worst,
            "max_misalignment_fitted_operator": worst_fit,
            "max_misalignment_fitted_99pct_rule": worst_99,
            "runs": runs,
        },
        tolerance=f"{ROTATION_TOL:g} = 2 * AGREE_TOL^2 (Theorem 4's agreement tolerance)",
        detail=detail,
        contradicts_paper=False,
    )
    half = min(r["max_misalignment_half_angle"] for r in runs)
    ctrl = Verdict(
        id=ID,
        reading="finite_n",
        claim=(
            "NEGATIVE CONTROL: at the minimiser, rotation by phi/2 aligns every pair as the "
            f"hyperplane rotation does, max_i (1 - R_{{phi/2}} x_i . y_i) <= {ROTATION_TOL:g}."
        ),
        status=decide(half <= ROTATION_TOL, converged),
        parameters=params,
        measured={"max_misalignment_half_angle": half},
        tolerance=f"{ROTATION_TOL:g}, the tolerance of the positive finite-N claim",
        detail=f"half-angle rotation leaves max 1 - x . y = {half:.3g}",
        negative_control=True,
    )
    return [v, ctrl]


def check(quick: bool = True) -> list[Verdict]:
    """Verdicts of Corollary 3: planted (sympy + numerics + fitted operator), finite_n, and
    the half-angle negative control in both. quick=True < 20 s; quick=False < 3 min."""
    return [*_planted_verdicts(quick), *_finite_verdicts(quick)]
