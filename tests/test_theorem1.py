"""Tests of theorems.theorem1 (Theorem 1 of Yi, Douady & Chen, arXiv 2510.03268).

Independent references: mpmath (high-precision Bessel functions) for the bound and its
asymptotics, planted sequences for the convergence fits, planted point sets for the
observables. The check itself is run once (quick mode) and its verdicts inspected.
"""

from __future__ import annotations

import json
import math

import mpmath as mp
import numpy as np
import pytest
from _evidence import quick_verdicts
from hypothesis import given
from hypothesis import strategies as st

from modgap.theorems import theorem1 as T1
from modgap.theorems.verdict import PAPER_CITATION, Status
from modgap.verify import population as P
from modgap.verify.convergence import fit_convergence


@pytest.fixture(scope="module")
def symbolic() -> dict:
    return T1.statement()


@pytest.fixture(scope="module")
def verdicts():
    return quick_verdicts("theorem1")  # the session's evidence, shared with the figures


def _bound_mp(h: int, tau: float) -> mp.mpf:
    mp.mp.dps = 60
    nu = mp.mpf(h) / 2 - 1
    t = mp.mpf(tau)
    return -2 / t + 2 * mp.log(mp.gamma(nu + 1) * (2 * t) ** nu * mp.besseli(nu, 1 / t))


def test_statement_derivations_hold(symbolic) -> None:
    assert all(symbolic["checks"].values()), symbolic["checks"]
    assert symbolic["tau_to_infinity"] == 0


@given(h=st.integers(3, 64), c=st.floats(1e-4, 1e-2))
def test_small_tau_asymptotics_against_mpmath(h: int, c: float) -> None:
    # B = (h-1) log tau + 2 log Gamma(nu+1) + (2nu-1) log 2 - log pi - (4nu^2-1) tau/4 + O(tau^2),
    # next term -(4nu^2-1) tau^2/8 (Hankel expansion); valid for 1/tau >> nu^2: tau = c/h^2.
    tau = c / h**2
    nu = h / 2 - 1
    lead = (
        (h - 1) * math.log(tau)
        + 2 * math.lgamma(nu + 1)
        + (2 * nu - 1) * math.log(2)
        - math.log(math.pi)
        - (4 * nu**2 - 1) * tau / 4
    )
    resid = float(_bound_mp(h, tau)) - lead
    assert abs(resid) <= abs(4 * nu**2 - 1) * tau**2 / 4 + 1e-12


@pytest.mark.parametrize("h", [3, 4, 16, 512])
def test_large_tau_bound_tends_to_zero(h: int) -> None:
    # B = -2/tau + 2 log M(1/tau), log M(r) = r^2/(2h) + O(r^4): B ~ -2/tau + 1/(h tau^2)
    for tau in (1e2, 1e3, 1e4):
        # log M is a difference of terms of size S = nu |log(2 tau)| + log Gamma(nu+1): the
        # log-space evaluation is accurate to ~ eps * S in absolute terms (cancellation)
        nu = h / 2 - 1
        tol = 10 * np.finfo(float).eps * (1 + nu * abs(math.log(2 * tau)) + math.lgamma(nu + 1))
        B = P.theorem1_bound(h, tau)
        assert B == pytest.approx(-2 / tau + 1 / (h * tau**2), abs=1e-3 / tau**3 + tol)
        assert B == pytest.approx(float(_bound_mp(h, tau)), abs=tol)


def test_fit_convergence_recovers_planted_rates() -> None:
    N = np.array([8, 16, 32, 64, 128])
    fit = fit_convergence(N, 3.0 * np.exp(-0.07 * N))
    assert fit["rate_exp"] == pytest.approx(-0.07, rel=1e-10) and fit["r2_exp"] > 1 - 1e-12
    fit = fit_convergence(N, 5.0 * N**-2.0)
    assert fit["slope_loglog"] == pytest.approx(-2.0, rel=1e-10) and fit["r2_loglog"] > 1 - 1e-12
    assert math.isnan(fit_convergence(N, np.full(5, 1e-9))["slope_loglog"])  # below floor


def test_check_verdicts(verdicts) -> None:
    vs = verdicts
    assert {v.id for v in vs} == {"theorem1"}
    assert {v.reading for v in vs} == {"population", "finite_n"}
    controls = [v for v in vs if v.negative_control]
    claims = [v for v in vs if not v.negative_control]
    assert controls and all(v.status == Status.REFUTED for v in controls)
    assert all(v.status == Status.CONFIRMED for v in claims), [v.detail for v in claims]
    for v in vs:
        json.dumps(v.to_dict())  # plain numbers only
    assert PAPER_CITATION in T1.CITATION and "arXiv 2510.03268" in T1.__doc__


def test_population_verdict_numbers(verdicts) -> None:
    pop = next(v for v in verdicts if v.reading == "population" and not v.negative_control)
    m = pop.measured
    assert all(abs(r["diff"]) <= r["tol"] for r in m["equality"])
    assert abs(m["mc_z"]) <= 4.0
    assert m["sweep_min_excess"] > 0.0


@pytest.mark.parametrize("converged", [True, False])
def test_finite_n_verdict_needs_a_converged_point_at_the_largest_n(monkeypatch, converged):
    """The rule holds on planted rows (gaps decreasing to 1e-9, pairs aligned); the verdict is
    CONFIRMED only when the largest N's point converged, else INCONCLUSIVE (the one outcome
    policy: a best point found whose KKT residual misses the tolerance decides nothing)."""

    def planted(h, tau, Ns, seeds):
        rows = []
        for i, N in enumerate(Ns):
            last = i == len(Ns) - 1
            rows.append(
                dict(
                    N=N,
                    gap=3.0 * math.exp(-0.2 * N) if not last else 1e-9,
                    converged=converged or not last,
                    grad_norm=5e-8 if (converged or not last) else 2.4e-6,
                    pair_angle_max=1e-6,
                    centroid_distance=1e-6,
                    centre_angle=None,
                )
            )
        return rows

    monkeypatch.setattr(T1, "solve_sequence", planted)
    verdict, _ = T1.finite_n_check(quick=True)
    assert verdict.status == (Status.CONFIRMED if converged else Status.INCONCLUSIVE)
    assert ("NOT converged" in verdict.detail) is (not converged)
