"""theorems.dimension_collapse: schema, controls, confinement, and the decision rules."""

from __future__ import annotations

import numpy as np
import pytest
from _evidence import quick_verdicts as session_verdicts

from modgap.theorems import dimension_collapse as dc
from modgap.theorems.verdict import Status, Verdict
from modgap.verify.geometry import principal_vectors, shared_space
from modgap.verify.observables import KEYS


@pytest.fixture(scope="module")
def quick_verdicts() -> list[Verdict]:
    return session_verdicts("dimension_collapse")  # the session evidence, shared with figures


def test_run_quick_returns_verdicts_in_the_shared_schema(quick_verdicts):
    assert quick_verdicts and all(isinstance(v, Verdict) for v in quick_verdicts)
    readings = {v.reading for v in quick_verdicts}
    assert {"trained_towers", "trained_towers_unconstrained", "planted_centres"} <= readings
    for v in quick_verdicts:
        assert v.id == "dimension_collapse"
        d = v.to_dict()
        assert d["verdict"] in {s.value for s in Status}
        for key in ("claim", "parameters", "measured", "tolerance", "detail"):
            assert d[key]
        if v.status is not Status.CONFIRMED:
            assert v.detail  # a counterexample or a reason


def test_negative_controls_are_refuted_and_positive_control_confirmed(quick_verdicts):
    ncs = [v for v in quick_verdicts if v.negative_control]
    assert len(ncs) >= 1
    assert all(v.status is Status.REFUTED for v in ncs)
    planted = [
        v for v in quick_verdicts if v.reading == "planted_centres" and not v.negative_control
    ]
    assert [v.status for v in planted] == [Status.CONFIRMED]


def test_every_trained_run_converged_and_was_confined(quick_verdicts):
    main = next(v for v in quick_verdicts if v.reading == "trained_towers")
    rows = main.measured["observables"]
    assert rows
    for r in rows:
        assert r["converged"], r
        # the embeddings fill their subspaces: the principal angles recovered from the
        # embeddings alone (uncentred SVD of each set) are the imposed ones
        assert np.allclose(r["recovered_angles_deg"], sorted(r["angles_deg"]), atol=1e-2)
        # the two readings of phi, measured from the bases, against the imposed angles
        assert r["phi_paper_deg"] == pytest.approx(max(r["angles_deg"]), abs=1e-6)
        assert r["phi_literal_deg"] == pytest.approx(min(r["angles_deg"]), abs=1e-5)
        assert r["height_out_of_C"] > 0.1  # not collapsed into C
    ctrl = next(v for v in quick_verdicts if v.reading == "trained_towers_unconstrained")
    assert ctrl.measured["control"]["converged"]


def test_verdict_matches_the_recorded_numbers(quick_verdicts):
    """Re-derive the main verdict from its own table (the rule stated in the docstring)."""
    main = next(v for v in quick_verdicts if v.reading == "trained_towers")
    defined = [r["centre_defined"] for r in main.measured["observables"]]
    if not all(defined):
        assert main.status is Status.REFUTED and main.contradicts_paper
        assert "centres undefined" in main.detail


def test_sweep_rows_are_plain_and_confinement_is_exact():
    rows = dc.sweep([2], [np.radians(40.0)], h=4, n=64, settings={"max_epochs": 60})
    (row,) = rows
    assert row["config"] == "shared" and row["k"] == 2 and row["phi_deg"] == pytest.approx(40)
    assert row["phi_paper_deg"] == pytest.approx(40.0) and row["phi_literal_deg"] < 1e-6
    assert row["max_residual_x"] < 1e-6 and row["max_residual_y"] < 1e-6
    assert np.allclose(row["recovered_angles_deg"], [0.0, 40.0], atol=1e-3)
    for key, value in row.items():
        if key == "gap":  # the GapObservables record, itself plain
            assert set(value) == set(KEYS)
            assert value["centre_angle"] is None or np.degrees(value["centre_angle"]) == (
                pytest.approx(row["centre_angle_deg"])
            )
            continue
        assert value is None or isinstance(value, (bool, int, float, str, list))
    with pytest.raises(ValueError, match="config"):
        dc.sweep([2], [0.5], h=4, config="diagonal")
    with pytest.raises(ValueError, match="2k <= h"):
        dc.sweep([3], [0.5], h=4, config="equal")


def test_centre_floor_is_the_rms_mean_of_centreless_unit_vectors():
    rng = np.random.default_rng(0)
    n, h = 200, 5
    norms = []
    for _ in range(400):
        Z = rng.standard_normal((n, h))
        Z /= np.linalg.norm(Z, axis=1, keepdims=True)
        norms.append(np.linalg.norm(Z.mean(0)))
    rms = np.sqrt(np.mean(np.square(norms)))
    assert rms == pytest.approx(1 / np.sqrt(n), rel=0.1)
    assert dc.centre_floor(n) == pytest.approx(3 * rms, rel=0.1)


def test_planted_pairs_satisfy_the_premises_they_claim():
    h, k, phi, n = 6, 4, 0.7, 4000
    X, Y, QA, QB = dc.planted_pairs(h, k, phi, n, seed=3)
    C = shared_space(QA, QB)
    theta, UA, VB = principal_vectors(QA, QB)
    a, b = UA[:, -1], VB[:, -1]
    assert np.allclose(X @ C, Y @ C, atol=1e-12)  # P_C x = P_C y
    assert np.allclose(X @ a, Y @ b, atol=1e-12)  # IMS w.r.t. a, b
    mx, my = X.mean(0), Y.mean(0)
    ang = np.arccos(mx @ my / np.linalg.norm(mx) / np.linalg.norm(my))
    assert ang == pytest.approx(phi, abs=0.02)  # Monte Carlo: Delta_theta -> phi
    assert np.linalg.norm(C.T @ mx) / np.linalg.norm(mx) < 0.05  # centre orthogonal to C


def test_decision_rule_boundaries():
    tol = np.degrees(dc.ANGLE_TOL)
    base = {
        "converged": True,
        "convergence": "plateaued",
        "centre_defined": True,
        "centre_angle_boot_std_deg": 0.0,
        "mean_norm_x": 0.5,
        "mean_norm_y": 0.5,
        "centre_floor": 0.1,
        "centre_angle_raw_deg": 30.0,
        "pair_angle_max_deg": 30.0,
    }
    ok = {**base, "centre_angle_deg": 30.0 + 0.99 * tol}
    bad = {**base, "centre_angle_deg": 30.0 + 1.01 * tol}
    assert dc._centre_status(ok, 30.0)[0] is Status.CONFIRMED
    assert dc._centre_status(bad, 30.0)[0] is Status.REFUTED
    wide = {**bad, "centre_angle_boot_std_deg": tol}  # 3 x bootstrap std widens T
    assert dc._centre_status(wide, 30.0)[0] is Status.CONFIRMED
    undefined = {**base, "centre_defined": False, "centre_angle_deg": None}
    assert dc._centre_status(undefined, 30.0)[0] is Status.REFUTED
    stuck = {**ok, "converged": False, "convergence": "still moving"}
    assert dc._centre_status(stuck, 30.0)[0] is Status.INCONCLUSIVE
    assert (
        dc._pair_max_status({**base, "pair_angle_max_deg": 30 + 1.01 * tol}, 30.0)[0]
        is Status.REFUTED
    )
    # aggregation: one converged counterexample refutes, else non-convergence is inconclusive
    rows = [
        {**ok, "config": "shared", "h": 4, "k": 2, "phi_deg": 30.0, "n": 10},
        {**stuck, "config": "shared", "h": 4, "k": 3, "phi_deg": 30.0, "n": 10},
    ]
    assert dc._aggregate(rows, dc._centre_status, lambda r: 30.0)[0] is Status.INCONCLUSIVE
    rows.append({**bad, "config": "shared", "h": 4, "k": 2, "phi_deg": 60.0, "n": 10})
    assert dc._aggregate(rows, dc._centre_status, lambda r: 30.0)[0] is Status.REFUTED
