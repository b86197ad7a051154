"""Tests of theorems.theorem3 (Theorem 3 of Yi, Douady & Chen, arXiv 2510.03268).

What the project established in the population reading (polar coupling M = Q R_H):
for tau >= 0.1 the paper's configuration (centres orthogonal to C, Delta = phi) has lower F
than coinciding centres in C and than any other tested position of the centres (recomputed
fresh at random points); at small tau and large phi it does not: e.g. h = 4, tau = 0.01,
kappa = 5, phi = 1, where centres together in C (Delta = 0) are better, which an independent
Monte Carlo estimate confirms. The claimed configuration is stationary (symmetry) everywhere.
"""

from __future__ import annotations

import json
import math
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from theorems import theorem3 as T3
from theorems.verdict import Status
from verify import population as P

phis = st.floats(0.05, math.pi / 2 - 0.05)


@pytest.fixture(scope="module")
def verdicts():
    t0 = time.process_time()
    out = T3.check(quick=True)
    return out, time.process_time() - t0


def test_statement_derivations_hold() -> None:
    s = T3.statement()
    assert all(s["checks"].values()), s["checks"]


@given(
    h=st.integers(4, 64),
    tau=st.floats(0.1, 1.0),
    kappa=st.floats(0.2, 50.0),
    phi=phis,
    bx=st.floats(-math.pi / 2, math.pi / 2),
    by=st.floats(-math.pi, math.pi),
)
def test_fresh_theorem3_point_agrees(h, tau, kappa, phi, bx, by) -> None:
    f = lambda a, b: P.subspace_objective(
        h, tau, kappa, kappa, phi, a, b, n=24, estimate_error=True
    )  # noqa: E731
    claimed, in_c, other = f(0.0, 0.0), f(math.pi / 2, math.pi / 2), f(bx, by)
    for v in (in_c, other):
        diff = v.objective - claimed.objective
        tol = 10 * (v.quad_error + claimed.quad_error) + 1e-12 * abs(claimed.objective)
        assert diff > -tol, (v.parameters, diff, tol)
    assert claimed.parameters["centre_angle"] == pytest.approx(phi, abs=1e-12)


def test_small_tau_counterexample_confirmed_by_monte_carlo() -> None:
    h, tau, kappa, phi = 4, 0.01, 5.0, 1.0
    q = {}
    mc = {}
    for name, (bx, by) in (("claimed", (0.0, 0.0)), ("in_C", (math.pi / 2, math.pi / 2))):
        q[name] = P.subspace_objective(h, tau, kappa, kappa, phi, bx, by, n=24, estimate_error=True)
        mc[name], *_ = P.monte_carlo_subspace_objective(
            h, tau, kappa, kappa, phi, bx, by, n_samples=50000, seed=5
        )
    diff_q = q["claimed"].objective - q["in_C"].objective
    diff_mc = mc["claimed"].mean - mc["in_C"].mean
    se = math.hypot(mc["claimed"].stderr, mc["in_C"].stderr)
    assert diff_q > 0.5 and q["claimed"].quad_error + q["in_C"].quad_error < 1e-6
    assert diff_mc > 5 * se and abs(diff_mc - diff_q) < 5 * se


@pytest.mark.parametrize(
    "h,tau,kappa,phi", [(5, 0.3, 8.0, 0.7), (12, 0.1, 30.0, 1.2), (4, 0.01, 5.0, 1.0)]
)
def test_claimed_configuration_is_stationary(h, tau, kappa, phi) -> None:
    e = 1e-4
    F = lambda a, b: P.subspace_objective(h, tau, kappa, kappa, phi, a, b, n=24).objective  # noqa: E731
    gx = (F(e, 0) - F(-e, 0)) / (2 * e)
    gy = (F(0, e) - F(0, -e)) / (2 * e)
    assert abs(gx) < 1e-7 and abs(gy) < 1e-7


def test_check_verdicts(verdicts) -> None:
    vs, cpu = verdicts
    assert cpu < 20.0, f"quick check took {cpu:.1f} s of CPU"
    assert {v.id for v in vs} == {"theorem3"}
    assert {v.reading for v in vs} == {"population", "finite_n"}
    controls = [v for v in vs if v.negative_control]
    assert controls and all(v.status == Status.REFUTED for v in controls)
    pop = next(v for v in vs if v.reading == "population" and not v.negative_control)
    # the quick sweep contains the small-tau counterexample: REFUTED, flagged against the paper
    assert pop.status == Status.REFUTED and pop.contradicts_paper, pop.detail
    assert pop.measured["monte_carlo"]["mc_z"] > 5.0
    sub = [v for v in vs if v.reading == "finite_n" and not v.negative_control]
    assert len(sub) == 2
    # subspace alone: every observable is reported; the maximum pair angle never exceeds phi
    only = sub[0].measured["settings"][0]
    phi = only["setting"]["phi"]
    assert only["pair_angle_max"] <= phi + 1e-6
    assert only["shared_space_diff_max"] < 1e-5
    for v in vs:
        json.dumps(v.to_dict())
