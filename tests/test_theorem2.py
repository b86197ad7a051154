"""Tests of theorems.theorem2 (Theorem 2 of Yi, Douady & Chen, arXiv 2510.03268).

What the project established in the population reading (polar coupling): F(Delta) has a
strict minimum at Delta = 0 (F''(0) > 0) and F(Delta) > F(0) for Delta > 0, at every tested
point; the curvature is O(1/kappa) for concentrated caps, 2(1+tau)/(kappa tau^2) to leading
order. These tests recompute that fresh at random points (hypothesis).
"""

from __future__ import annotations

import json
import math
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from theorems import theorem2 as T2
from theorems.verdict import Status
from verify import population as P


@pytest.fixture(scope="module")
def verdicts():
    t0 = time.process_time()
    out = T2.check(quick=True)
    return out, time.process_time() - t0


def test_statement_derivations_hold() -> None:
    s = T2.statement()
    assert all(s["checks"].values()), s["checks"]


@pytest.mark.parametrize("h,tau", [(3, 0.3), (3, 1.0), (8, 0.5)])
def test_large_kappa_curvature_leading_order(h: int, tau: float) -> None:
    kappa = 1e4
    c = P.cone_curvature_at_zero(h, tau, kappa, kappa, n=32)
    # relative corrections O(h/kappa + 1/(kappa tau)) (statement())
    assert c / T2.large_kappa_curvature(h, tau, kappa) == pytest.approx(
        1.0, abs=5 * (h + 1 / tau) / kappa
    )


@given(
    h=st.integers(3, 64),
    tau=st.floats(0.02, 1.0),
    kx=st.floats(0.01, 50.0),
    ky=st.floats(0.01, 50.0),
    d=st.floats(0.05, math.pi),
)
def test_fresh_theorem2_point_agrees(h, tau, kx, ky, d) -> None:
    assert P.cone_curvature_at_zero(h, tau, kx, ky, n=24) > 0.0
    f0 = P.cone_objective(h, tau, kx, ky, 0.0, n=24, estimate_error=True)
    fd = P.cone_objective(h, tau, kx, ky, d, n=24, estimate_error=True)
    assert fd.objective - f0.objective > 10 * (f0.quad_error + fd.quad_error) + 1e-13


def test_check_verdicts(verdicts) -> None:
    vs, cpu = verdicts
    assert cpu < 20.0, f"quick check took {cpu:.1f} s of CPU"
    assert {v.id for v in vs} == {"theorem2"}
    assert {v.reading for v in vs} == {"population", "finite_n"}
    controls = [v for v in vs if v.negative_control]
    assert controls and all(v.status == Status.REFUTED for v in controls)
    pop = next(v for v in vs if v.reading == "population" and not v.negative_control)
    assert pop.status == Status.CONFIRMED, pop.detail
    assert all(r["delta_star"] < 1e-3 for r in pop.measured["minimisation"])
    fin = next(v for v in vs if v.reading == "finite_n" and not v.negative_control)
    assert fin.status in (Status.CONFIRMED, Status.REFUTED, Status.INCONCLUSIVE)
    if fin.status == Status.REFUTED:
        assert fin.contradicts_paper
    for v in vs:
        json.dumps(v.to_dict())
