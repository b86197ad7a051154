"""Theorem 4 (agreement on the shared space): sympy derivations, the measurements against
hand-built configurations, the OT coupling against brute force, the IMS-family gradient
against finite differences, and the verdicts with their negative controls."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from _evidence import quick_verdicts

from modgap.theorems import theorem4
from modgap.theorems.verdict import Status
from modgap.verify.coupling import rotation_coupling_ot
from modgap.verify.frames import shared_space_measurements, subspace_frame
from modgap.verify.geometry import hyperplanes_with_angle
from modgap.verify.ims import IMSFamily, minimise_ims_family


def _explicit_frame(h: int, phi: float):
    """Standard-basis hyperplanes: C = span(e_1..e_{h-2}), a = e_{h-1},
    b = cos(phi) e_{h-1} + sin(phi) e_h (built here, independently of verify.geometry)."""
    E = np.eye(h)
    a = E[:, h - 2]
    b = np.cos(phi) * E[:, h - 2] + np.sin(phi) * E[:, h - 1]
    QA = E[:, : h - 1]
    QB = np.column_stack([E[:, : h - 2], b])
    return QA, QB, E[:, : h - 2], a, b


def test_statement_residuals_vanish():
    st = theorem4.statement()
    assert st["pair_inner_product_residual"] == 0
    assert st["deficit_residual"] == 0
    assert st["cyclic_monotonicity_residual"] == 0


def test_measurements_on_hand_built_pairs():
    h, phi = 6, 0.8
    QA, QB, QC, a, b = _explicit_frame(h, phi)
    frame = subspace_frame(QA, QB)
    rng = np.random.default_rng(0)
    n = 12
    s = rng.uniform(-0.9, 0.9, n)
    P = rng.standard_normal((n, h - 2))
    P *= (np.sqrt(1 - s**2) / np.linalg.norm(P, axis=1))[:, None]
    X = P @ QC.T + s[:, None] * a
    Y = P @ QC.T + s[:, None] * b
    m = shared_space_measurements(frame, X, Y)
    assert m["max_abs_PCx_minus_PCy"] < 1e-14
    # heights are defined up to the common orientation of (a, b); a . b = cos phi > 0 fixes it
    assert m["ims_residual_wrt_a_b"] < 1e-14
    # a disagreeing partner: rotate the C-part of y_0 by 90 degrees inside C
    Y2 = Y.copy()
    p0 = P[0]
    q0 = np.zeros_like(p0)
    q0[0], q0[1] = -p0[1], p0[0]
    q0 *= np.linalg.norm(p0) / np.linalg.norm(q0)
    Y2[0] = q0 @ QC.T + s[0] * b
    expected = np.linalg.norm(p0 - q0)
    assert shared_space_measurements(frame, X, Y2)["max_abs_PCx_minus_PCy"] == pytest.approx(
        expected, rel=1e-12
    )


def test_centres_undefined_for_symmetric_sets():
    h, phi = 5, 0.5
    QA, QB, QC, a, b = _explicit_frame(h, phi)
    frame = subspace_frame(QA, QB)
    X = np.vstack([QC.T, -QC.T])  # +-e_i, mean exactly 0
    m = shared_space_measurements(frame, X, X.copy())
    assert m["centres_defined"] is False
    assert m["centre_angle"] is None and m["ims_residual_wrt_centres"] is None


def test_optimal_coupling_matches_brute_force():
    """Tiny empirical marginals: the best of all m! couplings is the rotation coupling."""
    h, phi, m = 4, 0.7, 6
    QA, QB, QC, a, b = _explicit_frame(h, phi)
    rng = np.random.default_rng(3)
    W = rng.standard_normal((m, h - 1))
    W /= np.linalg.norm(W, axis=1, keepdims=True)
    X = W[:, :-1] @ QC.T + W[:, -1:] * a
    Y = W[:, :-1] @ QC.T + W[:, -1:] * b
    G = X @ Y.T
    best = max(itertools.permutations(range(m)), key=lambda p: sum(G[i, p[i]] for i in range(m)))
    assert best == tuple(range(m))


def test_population_check_recovers_rotation_partner():
    r = rotation_coupling_ot(5, 4.0, 0.9, 150, 7)
    assert r["fraction_rotation_partner_recovered"] == 1.0
    assert r["max_abs_PCx_minus_PCy_at_ot"] < 1e-12
    assert r["mean_xy_ot"] == pytest.approx(r["mean_xy_rotation_coupling"], abs=1e-14)
    assert r["mean_xy_rotation_coupling"] > r["mean_xy_product_coupling"]
    # Monte Carlo mean of x . y agrees with 1 - (1 - cos phi) E[s^2] (vMF moments)
    assert r["mean_xy_rotation_coupling"] == pytest.approx(
        r["mean_xy_population_formula"], abs=0.05
    )


def test_ims_family_is_a_feasible_set_with_exact_gradient():
    """IMSFamily: feasible images with the fixed heights, vjp against finite differences of
    L_N(forward(blocks)), a planted u = v point whose KKT residual the solver drives to 0."""
    from modgap.verify.constraints import FeasibleSet
    from modgap.verify.objective import infonce, infonce_and_grad

    frame = subspace_frame(*hyperplanes_with_angle(5, 0.6, seed=2))
    heights = np.random.default_rng(1).uniform(-0.8, 0.8, 7)
    fam = IMSFamily(frame, heights)
    assert isinstance(fam, FeasibleSet)
    rng = np.random.default_rng(4)
    U, V = fam.random_params(7, rng)
    X, Y, _ = fam.forward([U, V])
    assert np.allclose(np.linalg.norm(X, axis=1), 1) and np.allclose(np.linalg.norm(Y, axis=1), 1)
    assert np.allclose(X @ frame.U[:, 0], heights) and np.allclose(Y @ frame.V[:, 0], heights)
    assert fam.violation(X, Y) < 1e-14
    _, gX, gY = infonce_and_grad(X, Y, 0.3)
    gU, gV = fam.vjp([U, V], gX, gY, None)
    eps = 1e-6

    def tangent(A, D):
        return D - np.sum(D * A, axis=1, keepdims=True) * A

    def retract(A):
        return A / np.linalg.norm(A, axis=1, keepdims=True)

    for _ in range(5):  # directional derivatives along tangent directions of the spheres
        dU = tangent(U, rng.standard_normal(U.shape))
        dV = tangent(V, rng.standard_normal(V.shape))

        def L(t, dU=dU, dV=dV):
            Xt, Yt, _ = fam.forward([retract(U + t * dU), retract(V + t * dV)])
            return infonce(Xt, Yt, 0.3)

        fd = (L(eps) - L(-eps)) / (2 * eps)
        assert fd == pytest.approx(np.sum(gU * dU) + np.sum(gV * dV), rel=1e-6, abs=1e-9)
    res = minimise_ims_family(frame, heights, 0.3, seeds=(0, 1))
    assert all(r["converged"] and r["grad_norm"] <= 1e-9 for r in res)
    assert max(r["max_abs_u_minus_v"] for r in res) < 1e-6  # Theorem 4's conclusion
    with pytest.raises(ValueError, match="heights"):
        IMSFamily(frame, [1.5])


def test_check_quick_verdicts_and_controls():
    verdicts = quick_verdicts(theorem4.ID)  # the session's evidence (computed once)
    readings = {(v.reading, v.negative_control) for v in verdicts}
    assert {("population", False), ("finite_n", False), ("finite_n_ims", False)} <= readings
    assert any(v.negative_control for v in verdicts)
    for v in verdicts:
        assert v.id == "theorem4"
        want = Status.REFUTED if v.negative_control else Status.CONFIRMED
        assert v.status == want, (v.reading, v.claim, v.status, v.detail)
        if v.negative_control:
            assert v.status is Status.REFUTED
        d = v.to_dict()
        assert d["verdict"] in {"CONFIRMED", "REFUTED", "INCONCLUSIVE"}
    fin = next(v for v in verdicts if v.reading == "finite_n" and not v.negative_control)
    run = fin.measured["runs"][0]
    # the measurement can fail: a generic feasible partner disagrees on C by far more
    assert run["sensitivity_best_aligned_partner_PC_diff"] > 1e3 * theorem4.AGREE_TOL
    assert fin.measured["max_abs_PCx_minus_PCy"] <= theorem4.AGREE_TOL


def test_ims_verdict_carries_the_coverage_of_its_search():
    (v,) = [v for v in quick_verdicts("theorem4") if v.reading == "finite_n_ims"]
    for run in v.measured["runs"]:
        cov = run["coverage"]
        assert cov["starts"] == len(run["local_minima (seed, loss, max|u-v|)"])
        assert 0.0 <= cov["good_turing"] <= 1.0 and cov["best"] == min(
            m[1] for m in run["local_minima (seed, loss, max|u-v|)"]
        )
    assert "Good-Turing" in v.detail


def test_unconverged_solver_gives_inconclusive(monkeypatch):
    """A solver that did not converge must not yield CONFIRMED (nor a refuted control)."""
    import modgap.verify.frames as frames_mod

    real = frames_mod.subspace_optimum(4, 16, 0.1, 0.6)

    class NotConverged:
        X, Y = real.X, real.Y
        loss, grad_norm, n_iter, loss_spread = real.result.loss, 1e-3, 5, 0.0
        converged, message = False, "iteration limit"

    fake = frames_mod.SubspaceOptimum(real.frame, real.parameters, NotConverged())
    monkeypatch.setattr(theorem4, "subspace_optimum", lambda *a, **k: fake)
    out = theorem4._finite_n_verdicts(True)
    assert [v.status for v in out] == [Status.INCONCLUSIVE, Status.INCONCLUSIVE]
