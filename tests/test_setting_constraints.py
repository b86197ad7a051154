"""The public per-setting feasible sets and verdict rules of the theorem checks (used by the
checks and by bench/rerun_finite_n.py): each checked against geometry built here or planted
rows with a known verdict, never against the code's own output."""

from __future__ import annotations

import math

import numpy as np
import pytest

from modgap.theorems import theorem1, theorem2, theorem3, theorem4
from modgap.theorems.verdict import Status
from modgap.verify.frames import subspace_optimum_constraint


def _point(cons, n: int, seed: int = 0):
    X, Y, aux = cons.forward(cons.random_params(n, np.random.default_rng(seed)))
    return np.asarray(X), np.asarray(Y), aux[0]


def _angle(u, v) -> float:
    return math.acos(float(np.clip(np.dot(u, v) / np.linalg.norm(u) / np.linalg.norm(v), -1, 1)))


def _normal(Z: np.ndarray) -> np.ndarray:
    """The unit normal of the hyperplane spanned by the rows of Z (rank h - 1): its null vector."""
    return np.linalg.svd(Z)[2][-1]


def test_theorem2_branch_constraints_centres_at_delta():
    st = dict(h=4, alpha=math.radians(40), deltas=(0.0, math.pi / 3, math.pi))
    cons = theorem2.branch_constraints(st)
    assert list(cons) == list(st["deltas"])
    e1, e2 = np.eye(4)[0], np.eye(4)[1]
    for d, c in cons.items():
        cx, cy = c.centres_for(*_point(c, 8)[:2])
        assert np.allclose(cx, e1, atol=1e-15)
        assert np.allclose(cy, math.cos(d) * e1 + math.sin(d) * e2, atol=1e-15)
        X, Y, _ = _point(c, 50, seed=3)
        assert max(_angle(x, cx) for x in X) <= st["alpha"] + 1e-12
        assert max(_angle(y, cy) for y in Y) <= st["alpha"] + 1e-12
        # a point outside the text cap is infeasible (the check can fail)
        far = np.tile(-cy, (3, 1))
        assert c.violation(np.tile(cx, (3, 1)), far) > 0.1


@pytest.mark.parametrize("phi_deg", [30, 60])
def test_theorem3_cone_branch_constraints_configurations(phi_deg):
    phi = math.radians(phi_deg)
    st = dict(h=5, phi=phi, alpha=math.radians(45), configurations=("claimed", "antipodal_b"))
    cons = theorem3.cone_branch_constraints(st)
    assert set(cons) == {"claimed", "antipodal_b"}
    in_c = theorem3.cone_branch_constraints(st, ("in_C",))["in_C"]
    X, Y, _ = _point(cons["claimed"], 20)
    nA, nB = _normal(X), _normal(Y)
    assert _angle(nA, nB) == pytest.approx(phi, abs=1e-9) or _angle(nA, -nB) == pytest.approx(
        phi, abs=1e-9
    )
    # C = the orthogonal complement of both normals; claimed centres are orthogonal to it
    QC = np.linalg.svd(np.vstack([nA, nB]))[2][2:].T
    for name, want in (("claimed", phi), ("antipodal_b", math.pi - phi)):
        cx, cy = cons[name].centres_for(*_point(cons[name], 6)[:2])
        assert np.abs(QC.T @ cx).max() < 1e-12 and np.abs(QC.T @ cy).max() < 1e-12
        assert _angle(cx, cy) == pytest.approx(want, abs=1e-12)
    cx, cy = in_c.centres_for(*_point(in_c, 6)[:2])
    assert np.allclose(cx, cy) and np.linalg.norm(QC.T @ cx) == pytest.approx(1.0)


def test_theorem3_subspace_constraint_hyperplanes_at_phi():
    st = dict(h=4, phi=0.7)
    X, Y, _ = _point(theorem3.subspace_constraint(st), 12)
    assert np.allclose(np.linalg.norm(X, axis=1), 1.0) and np.allclose(np.linalg.norm(Y, axis=1), 1)
    assert np.linalg.svd(X, compute_uv=False)[-1] < 1e-12  # rank h - 1: a hyperplane
    a = _angle(_normal(X), _normal(Y))
    assert min(a, math.pi - a) == pytest.approx(0.7, abs=1e-9)


def test_subspace_optimum_constraint_rows_in_their_hyperplanes():
    cons = subspace_optimum_constraint(6, 0.8, geometry_seed=1)
    X, Y, _ = _point(cons, 10)
    a = _angle(_normal(X), _normal(Y))
    assert min(a, math.pi - a) == pytest.approx(0.8, abs=1e-9)


def test_theorem4_ims_family_enforces_the_heights():
    setting = (5, 24, 0.2, 0.8, 0.3, 0.9)
    fam = theorem4.ims_family(setting)
    s = np.random.default_rng(5).uniform(0.3, 0.9, 24)  # the stated heights, drawn here
    X, Y, _ = _point(fam, 24)
    a, b = fam.frame.U[:, 0], fam.frame.V[:, 0]
    assert np.allclose(X @ a, s, atol=1e-14) and np.allclose(Y @ b, s, atol=1e-14)
    assert np.allclose(np.linalg.norm(X, axis=1), 1) and np.allclose(np.linalg.norm(Y, axis=1), 1)
    assert _angle(a, b) == pytest.approx(0.8, abs=1e-12)
    assert theorem4.IMS_SEEDS == (0, 1, 2)


def _rows(gaps, angle=1e-5, dist=1e-5):
    return [dict(gap=g, pair_angle_max=angle, centroid_distance=dist) for g in gaps]


def test_theorem1_assess_sequence_planted():
    st = dict(h=3, tau=0.5, Ns=(8, 16, 32, 64))
    assert theorem1.assess_sequence(st, _rows([0.5, 0.1, 0.02, 0.004]))["holds"]
    # not monotone, limit too far, or misaligned at the largest N: each fails the rule
    assert not theorem1.assess_sequence(st, _rows([0.5, 0.1, 0.3, 0.004]))["holds"]
    assert not theorem1.assess_sequence(st, _rows([0.5, 0.3, 0.2, 0.1]))["holds"]
    assert not theorem1.assess_sequence(st, _rows([0.5, 0.1, 0.02, 0.004], angle=0.1))["holds"]


def test_theorem3_subspace_only_status_planted():
    st = dict(phi=1.0)

    def row(ca):
        return dict(
            setting=st, centre_angle=ca, centre_angle_minus_phi=None if ca is None else ca - 1
        )

    assert theorem3.subspace_only_status([row(1.02), row(0.97)]) is Status.CONFIRMED
    assert theorem3.subspace_only_status([row(1.02), row(0.9)]) is Status.REFUTED
    assert theorem3.subspace_only_status([row(1.0), row(None)]) is Status.INCONCLUSIVE
