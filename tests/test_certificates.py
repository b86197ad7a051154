"""Gram-relaxation certificates: valid bounds, tightness where the theory says so,
agreement with the solver, and negative controls (perturbed points, loose relaxations)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from modgap.verify.certificates import certify, gram_lower_bound
from modgap.verify.constraints import Cone, Subspace, SubspaceCone, Unconstrained
from modgap.verify.objective import infonce
from modgap.verify.solvers import solve

TAU = 0.5


def simplex_loss(n: int, tau: float) -> float:
    return 2.0 * (-1 / tau + math.log(math.exp(1 / tau) + (n - 1) * math.exp(-1 / ((n - 1) * tau))))


E = np.eye(12)
# h >= 2N + m: the relaxation is exact by the rank argument (module docstring)
EXACT_CASES = {
    "none": (Unconstrained(8), 4),
    "cone-var": (Cone(10, math.radians(30)), 4),
    "cone-fixed": (Cone(10, math.radians(30), centres=(E[0, :10], E[1, :10])), 4),
    "subspace": (Subspace.hyperplanes(10, math.radians(30), seed=0), 4),
    "subcone-var": (SubspaceCone.hyperplanes(11, math.radians(30), math.radians(40)), 4),
}


@pytest.mark.parametrize("name", list(EXACT_CASES))
def test_solver_meets_the_bound_where_the_relaxation_is_exact(name):
    C, n = EXACT_CASES[name]
    res = solve(C, n, TAU, seeds=(0, 1, 2, 3))
    assert res.converged
    cert = gram_lower_bound(C, n, TAU)
    assert cert.optimal and cert.exact and cert.tight
    assert cert.rank <= C.h
    out = certify(res, C, TAU, certificate=cert)
    assert -1e-6 <= out["gap"] <= 1e-6, out
    assert out["certified"], out["reason"]
    # the rounded relaxation solution is a feasible point attaining the bound
    assert C.violation(cert.rounded_X, cert.rounded_Y) <= 1e-12
    assert cert.rounded_loss == pytest.approx(cert.bound, abs=1e-6)


def test_bound_equals_the_simplex_value():
    """Planted: unconstrained, h >= N - 1, the optimum is the regular simplex."""
    cert = gram_lower_bound(Unconstrained(5), 6, TAU)
    assert cert.bound == pytest.approx(simplex_loss(6, TAU), abs=1e-7)
    assert cert.rank == 5 and cert.exact


@pytest.mark.parametrize("name", ["cone-fixed", "subspace"])
def test_bound_is_below_every_feasible_point(name):
    C, n = EXACT_CASES[name]
    cert = gram_lower_bound(C, n, TAU)
    for seed in range(200):
        X, Y = C.random_point(n, rng=seed)
        assert infonce(X, Y, TAU) >= cert.bound - 1e-9


def test_perturbed_configuration_is_not_certified():
    C, n = EXACT_CASES["subspace"]
    res = solve(C, n, TAU)
    rng = np.random.default_rng(0)
    Xp, Yp = C.project(res.X + 1e-2 * rng.standard_normal(res.X.shape), res.Y)
    res.X, res.Y = Xp, Yp
    out = certify(res, C, TAU)
    assert not out["certified"]
    assert out["gap"] > 1e-6
    assert out["reason"].startswith("gap")


def test_infeasible_point_is_not_certified():
    C, n = EXACT_CASES["cone-fixed"]
    res = solve(C, n, TAU)
    res.X = res.X.copy()
    res.X[0] = -C.sides[0].centre  # outside the cap
    out = certify(res, C, TAU)
    assert not out["certified"] and "infeasible" in out["reason"]


def test_loose_relaxation_is_reported_not_exact():
    """h = 2 < N - 1: the relaxation optimum is the 5-dim simplex; no point on the circle
    attains it, so the converged solver's value stays far above the bound."""
    C = Unconstrained(2)
    res = solve(C, 6, TAU)
    assert res.converged
    out = certify(res, C, TAU)
    assert not out["exact"] and out["rank"] > 2
    assert out["gap"] > 0.1
    assert not out["certified"] and "not exact" in out["reason"]
    assert out["rounded_loss"] >= res.loss - 1e-9  # rounding gives a feasible point


def test_scs_cross_check():
    C, n = EXACT_CASES["cone-var"]
    a = gram_lower_bound(C, n, TAU, solver="CLARABEL")
    b = gram_lower_bound(C, n, TAU, solver="SCS")
    assert a.solver == "CLARABEL" and b.solver == "SCS"
    assert b.bound == pytest.approx(a.bound, abs=1e-5)
    assert a.dual_value is not None and abs(a.dual_value - a.primal_value) <= 1e-7


def test_certificate_validation():
    C = Unconstrained(4)
    with pytest.raises(ValueError, match="solver"):
        gram_lower_bound(C, 4, TAU, solver="MOSEK")
    with pytest.raises(ValueError, match="tau"):
        gram_lower_bound(C, 4, 0.0)
    cert = gram_lower_bound(C, 4, TAU)
    res = solve(C, 5, TAU)
    with pytest.raises(ValueError, match="certificate is for"):
        certify(res, C, TAU, certificate=cert)
