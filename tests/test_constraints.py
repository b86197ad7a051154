"""Feasible sets: validation, feasibility, nearest points, tangent cones, the lift.

Checks against independent computations: brute-force nearest points, verify.geometry's
cap projection, a primal QP (cvxpy) for the tangent-cone projection, planted KKT points,
central finite differences for the lift's chain rule.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from modgap.verify.constraints import Cone, Subspace, SubspaceCone, Unconstrained
from modgap.verify.geometry import project_onto_cap
from modgap.verify.objective import infonce, infonce_and_grad

TAU = 0.5
E6 = np.eye(6)
ALPHA = math.radians(35)
FIXED = (E6[0], math.cos(0.6) * E6[0] + math.sin(0.6) * E6[1])


def all_constraints():
    return {
        "none": Unconstrained(6),
        "cone-var": Cone(6, ALPHA),
        "cone-fixed": Cone(6, ALPHA, centres=FIXED),
        "subspace": Subspace.hyperplanes(6, math.radians(30), seed=3),
        "subspace-k": Subspace.with_angles(7, [0.0, 0.4, 0.9], seed=1),
        "subcone-var": SubspaceCone.hyperplanes(6, math.radians(30), ALPHA, seed=3),
        "subcone-fixed": SubspaceCone.hyperplanes(
            6, math.radians(30), ALPHA, centres=(E6[0], E6[0])
        ),
    }


def independent_violation(C, X, Y, centres=None) -> float:
    """Violation recomputed from the definitions (norms, subspace distance, cap test)."""
    v = max(
        np.abs(np.linalg.norm(X, axis=1) - 1).max(), np.abs(np.linalg.norm(Y, axis=1) - 1).max()
    )
    if isinstance(C, Subspace):
        for Z, Q in ((X, C.QA), (Y, C.QB)):
            v = max(v, np.linalg.norm(Z - Z @ Q @ Q.T, axis=1).max())
    if centres is not None:
        ca = math.cos(C.alpha)
        v = max(v, (ca - X @ centres[0]).max(), (ca - Y @ centres[1]).max())
    return float(v)


# ----------------------------------------------------------------------------- validation


def test_validation_names_the_argument():
    with pytest.raises(ValueError, match="alpha"):
        Cone(5, 0.0)
    with pytest.raises(ValueError, match="alpha"):
        Cone(5, 3.5)
    with pytest.raises(ValueError, match="centres\\[0\\]"):
        Cone(5, 0.3, centres=(np.ones(5), np.eye(5)[0]))
    with pytest.raises(ValueError, match="centres\\[1\\]"):
        Cone(5, 0.3, centres=(np.eye(5)[0], np.eye(4)[0]))
    with pytest.raises(ValueError, match="QA"):
        Subspace(np.ones((4, 2)), np.eye(4)[:, :2])
    with pytest.raises(ValueError, match="same R\\^h"):
        Subspace(np.eye(4)[:, :2], np.eye(5)[:, :2])
    with pytest.raises(ValueError, match="QB.*dimension >= 2"):
        Subspace(np.eye(4)[:, :2], np.eye(4)[:, :1])
    QA, QB = np.eye(5)[:, :3], np.eye(5)[:, 1:4]
    with pytest.raises(ValueError, match="subspace B"):
        SubspaceCone(QA, QB, 0.4, centres=(np.eye(5)[0], np.eye(5)[0]))
    with pytest.raises(TypeError, match="h"):
        Unconstrained(3.5)
    C = Unconstrained(4)
    with pytest.raises(ValueError, match="X has dimension 3"):
        C.project(np.ones((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="same shape"):
        C.violation(np.eye(4)[:2], np.eye(4)[:3])


# ----------------------------------------------------------------------------- feasibility


@pytest.mark.parametrize("name", list(all_constraints()))
def test_random_point_feasible_and_perturbation_detected(name):
    C = all_constraints()[name]
    X, Y = C.random_point(9, rng=5)
    centres = C.centres_for(X, Y) if C.has_cap else None
    assert independent_violation(C, X, Y, centres) <= 1e-12
    assert C.violation(X, Y, centres) <= 1e-12
    # negative control: a perturbed point is flagged, by both computations
    Xp = X + 1e-3 * np.random.default_rng(0).standard_normal(X.shape)
    assert C.violation(Xp, Y, centres) > 1e-5
    assert independent_violation(C, Xp, Y, centres) > 1e-5


@pytest.mark.parametrize("name", list(all_constraints()))
def test_project_is_feasible_and_idempotent(name):
    C = all_constraints()[name]
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((7, C.h)), rng.standard_normal((7, C.h))
    centres = C.centres_for(*C.random_point(7, rng=2)) if C.has_cap else None
    PX, PY = C.project(X, Y, centres)
    assert C.violation(PX, PY, centres) <= 1e-12
    assert independent_violation(C, PX, PY, centres) <= 1e-12
    PX2, PY2 = C.project(PX, PY, centres)
    np.testing.assert_allclose(PX2, PX, atol=1e-14)
    np.testing.assert_allclose(PY2, PY, atol=1e-14)


def test_variable_centre_projection_keeps_feasible_points():
    C = Cone(6, ALPHA)
    X, Y = C.random_point(8, rng=4)
    PX, PY = C.project(X, Y)  # centres from the smallest enclosing caps
    np.testing.assert_allclose(PX, X, atol=1e-14)
    np.testing.assert_allclose(PY, Y, atol=1e-14)
    # the enclosing centre gives a cap of half-angle <= alpha containing all rows
    cx, cy = C.centres_for(X, Y)
    assert (X @ cx).min() >= math.cos(ALPHA) - 1e-12


@pytest.mark.parametrize("name", ["cone-fixed", "subspace", "subcone-fixed"])
def test_project_is_nearest_point_brute_force(name):
    C = all_constraints()[name]
    rng = np.random.default_rng(7)
    x = rng.standard_normal((1, C.h))
    centres = C.centres_for(*C.random_point(2, rng=0)) if C.has_cap else None
    px, _ = C.project(x, x, centres)
    d_star = np.linalg.norm(x - px)
    # many feasible points, half of them pushed onto the cap boundary
    Z, _ = C.random_point(20000, rng=8)
    if C.has_cap:
        Zb, _ = C.project(rng.standard_normal(Z.shape), Z, centres)
        Z = np.vstack([Z, Zb])
    assert d_star <= np.linalg.norm(Z - x, axis=1).min() + 1e-12


def test_cap_projection_matches_geometry_module():
    C = Cone(6, ALPHA, centres=FIXED)
    rng = np.random.default_rng(3)
    X = rng.standard_normal((50, 6))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    PX, PY = C.project(X, X)
    np.testing.assert_allclose(PX, project_onto_cap(X, FIXED[0], ALPHA), atol=1e-14)
    np.testing.assert_allclose(PY, project_onto_cap(X, FIXED[1], ALPHA), atol=1e-14)


# ----------------------------------------------------------------------------- tangent cones


@pytest.mark.parametrize("name", ["none", "subspace", "subspace-k"])
def test_tangent_is_riemannian_gradient_finite_differences(name):
    """<grad, v> = d/dt L(R(x + t v)) for tangent v (central differences)."""
    C = all_constraints()[name]
    X, Y = C.random_point(5, rng=11)
    _, gX, gY = infonce_and_grad(X, Y, TAU)
    tX, tY = C.tangent(X, Y, gX, gY)
    rng = np.random.default_rng(12)
    for _ in range(3):
        VX, VY = C.tangent(X, Y, rng.standard_normal(X.shape), rng.standard_normal(Y.shape))
        eps = 1e-5

        def f(t, VX=VX, VY=VY):
            return infonce(*C.project(X + t * VX, Y + t * VY), TAU)

        fd = (f(eps) - f(-eps)) / (2 * eps)
        assert abs(fd - (np.sum(tX * VX) + np.sum(tY * VY))) <= 1e-8
    # tangent vectors are orthogonal to the rows and lie in the subspaces
    assert np.abs(np.sum(tX * X, axis=1)).max() <= 1e-14
    if isinstance(C, Subspace):
        assert np.abs(tX - tX @ C.QA @ C.QA.T).max() <= 1e-14


def _boundary_point(C, n, rng, n_active):
    """Rows on the cap boundary (first n_active) and inside (the rest), fixed centres."""
    X, Y = C.random_point(n, rng=rng)
    centres = C.centres_for(X, Y)
    out = []
    for Z, c in zip((X, Y), centres, strict=True):
        Z = Z.copy()
        T = Z[:n_active] - (Z[:n_active] @ c)[:, None] * c
        T /= np.linalg.norm(T, axis=1, keepdims=True)
        Z[:n_active] = math.cos(C.alpha) * c + math.sin(C.alpha) * T
        out.append(Z)
    return out[0], out[1], centres


@pytest.mark.parametrize("variable", [False, True])
def test_tangent_cone_projection_matches_primal_qp(variable):
    """-pg = argmin |d + r|^2 over the linearised tangent cone, solved by cvxpy."""
    import cvxpy as cp

    C = Cone(5, ALPHA) if variable else Cone(5, ALPHA, centres=(E6[0][:5], E6[1][:5]))
    rng = np.random.default_rng(21)
    X, Y, centres = _boundary_point(C, 6, rng, n_active=4)
    gX, gY = rng.standard_normal(X.shape), rng.standard_normal(Y.shape)
    tX, tY = C.tangent(X, Y, gX, gY, centres)
    stat = C.stationarity(X, Y, gX, gY, centres)
    total_sq = 0.0
    for Z, g, t, c in ((X, gX, tX, centres[0]), (Y, gY, tY, centres[1])):
        R = g - np.sum(g * Z, axis=1)[:, None] * Z
        D = cp.Variable(Z.shape)
        dc = cp.Variable(Z.shape[1])
        cons = [cp.sum(cp.multiply(D, Z), axis=1) == 0]
        act = np.flatnonzero(Z @ c - math.cos(ALPHA) <= 1e-12)
        assert act.size == 4
        if variable:
            cons += [dc @ c == 0, D[act] @ c + Z[act] @ dc >= 0]
        else:
            cons += [dc == 0, D[act] @ c >= 0]
        prob = cp.Problem(cp.Minimize(cp.sum_squares(D + R) + cp.sum_squares(dc)), cons)
        prob.solve(solver="CLARABEL")
        np.testing.assert_allclose(t, -D.value, atol=1e-6)
        total_sq += np.sum(D.value**2) + np.sum(dc.value**2)
    assert stat == pytest.approx(math.sqrt(total_sq), abs=1e-6)


def test_planted_kkt_point_and_its_negative_control():
    """All rows on the boundary, g = sum mu_i n_i + radial: zero residual iff mu >= 0."""
    C = Cone(5, ALPHA, centres=(np.eye(5)[0], np.eye(5)[1]))
    rng = np.random.default_rng(5)
    X, Y, centres = _boundary_point(C, 4, rng, n_active=4)
    grads = []
    for Z, c in zip((X, Y), centres, strict=True):
        Nrm = c[None, :] - (Z @ c)[:, None] * Z  # n_i = P_{z_i} c, |n_i| = sin(alpha)
        mu = rng.uniform(0.5, 2.0, size=len(Z))
        grads.append([mu[:, None] * Nrm + rng.standard_normal((len(Z), 1)) * Z, mu, Nrm])
    (gX, muX, NX), (gY, _, _) = grads
    assert C.stationarity(X, Y, gX, gY) <= 1e-14
    gXbad = gX - 2 * muX[0] * NX[0] * (np.arange(4) == 0)[:, None]  # mu_0 -> -mu_0
    assert C.stationarity(X, Y, gXbad, gY) == pytest.approx(muX[0] * math.sin(ALPHA), rel=1e-12)


# ----------------------------------------------------------------------------- the lift


@pytest.mark.parametrize("name", list(all_constraints()))
def test_lift_chain_rule_finite_differences(name):
    C = all_constraints()[name]
    rng = np.random.default_rng(31)
    blocks = C.random_params(5, rng)
    if C.has_cap:  # one row near the apex, exercising the series branch of the lift
        blocks[0][0, :-1] *= 1e-4
    X, Y, aux = C.forward(blocks)
    _, gX, gY = infonce_and_grad(X, Y, TAU)
    grads = C.vjp(blocks, gX, gY, aux)
    for _ in range(3):
        # directions tangent to the parameter spheres (the optimiser only moves along those)
        V = [rng.standard_normal(b.shape) for b in blocks]
        V = [v - np.sum(v * b, axis=1, keepdims=True) * b for v, b in zip(V, blocks, strict=True)]
        eps = 1e-6

        def f(t, V=V):
            Xt, Yt, _ = C.forward([b + t * v for b, v in zip(blocks, V, strict=True)])
            return infonce(Xt, Yt, TAU, normalize=True)

        fd = (f(eps) - f(-eps)) / (2 * eps)
        an = sum(float(np.sum(g * v)) for g, v in zip(grads, V, strict=True))
        assert abs(fd - an) <= 1e-7 * max(1.0, abs(an))


@pytest.mark.parametrize("name", ["cone-var", "cone-fixed", "subcone-var", "subcone-fixed"])
def test_lift_round_trip(name):
    C = all_constraints()[name]
    X, Y = C.random_point(6, rng=9)
    centres = C.centres_for(X, Y)
    X2, Y2, aux = C.forward(C.lift(X, Y, centres))
    # interior rows come back exactly; boundary rows (none here) would move by alpha * 1e-8
    np.testing.assert_allclose(X2, X, atol=1e-12)
    np.testing.assert_allclose(Y2, Y, atol=1e-12)
    for c, c2 in zip(centres, aux[0], strict=True):
        np.testing.assert_allclose(c2, c, atol=1e-14)


def test_describe_is_json_ready():
    import json

    for C in all_constraints().values():
        d = json.loads(json.dumps(C.describe()))
        assert d["h"] == C.h and d["kind"] == C.kind
    d = Subspace.hyperplanes(5, math.radians(25)).describe()
    assert d["principal_angles_deg"][-1] == pytest.approx(25.0)
