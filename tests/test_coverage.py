"""Coverage of a multi-start search: planted basin counts, a Monte Carlo check of the
Good-Turing estimate against the true missing mass, and the verdict decision rule."""

from __future__ import annotations

import numpy as np
import pytest

from modgap.verify.coverage import GOOD_TURING_THRESHOLD, Coverage, coverage, decide


def test_planted_basins_are_counted():
    vals = [1.0, 1.0 + 1e-9, 3.0, 2.0, 3.0 + 5e-8, 1.0 - 2e-9, 7.0]
    cov = coverage(vals, resolution=1e-7)
    assert cov.starts == 7 and cov.converged == 7
    assert cov.distinct_minima == 4
    assert cov.basin_counts == [3, 1, 2, 1]
    assert cov.best == pytest.approx(1.0 - 2e-9, abs=0)
    assert cov.starts_at_best == 3
    assert cov.singletons == 2 and cov.good_turing == pytest.approx(2 / 7)


def test_unconverged_starts_count_as_singletons():
    cov = coverage([1.0, 1.0, 1.0, 0.5], converged=[True, True, True, False])
    assert cov.distinct_minima == 1 and cov.best == 1.0  # an unconverged value is no minimum
    assert cov.singletons == 1 and cov.good_turing == pytest.approx(0.25)


def test_good_turing_estimates_the_missing_mass():
    """E[N_1 / n] equals the expected probability mass of basins unseen in n - 1 draws
    (Robbins 1968); checked by Monte Carlo on a planted geometric basin distribution."""
    rng = np.random.default_rng(0)
    p = 0.5 ** np.arange(1, 40)
    p /= p.sum()
    n, reps = 30, 4000
    est, truth = [], []
    for _ in range(reps):
        draws = rng.choice(p.size, size=n, p=p)
        cov = coverage(draws.astype(float), resolution=0.5)
        est.append(cov.good_turing)
        seen = np.unique(draws[:-1])
        truth.append(1.0 - p[seen].sum())
    se = np.std(np.array(est) - np.array(truth)) / np.sqrt(reps)
    assert abs(np.mean(est) - np.mean(truth)) <= 4 * se + 1e-3


def test_decision_rule_and_its_negative_controls():
    good = coverage([1.0] * 40 + [2.0] * 10)  # no singletons: estimate 0
    assert decide(False, good).verdict == "CONFIRMED"
    # something found beats the claim: a counterexample, whatever the coverage
    assert decide(True, good).verdict == "REFUTED"
    rugged = coverage(np.arange(50.0))  # every basin seen once: estimate 1
    d = decide(False, rugged)
    assert d.verdict == "INCONCLUSIVE" and "Good-Turing" in d.reason and "1.000" in d.reason
    edge = coverage([1.0] * 19 + [2.0])  # estimate 1/20 = threshold: not below it
    assert edge.good_turing == pytest.approx(GOOD_TURING_THRESHOLD)
    assert decide(False, edge).verdict == "INCONCLUSIVE"


def test_coverage_validation_names_the_argument():
    with pytest.raises(ValueError, match="values"):
        coverage([1.0, float("nan")])
    with pytest.raises(ValueError, match="values"):
        coverage([])
    with pytest.raises(ValueError, match="converged"):
        coverage([1.0, 2.0], converged=[True])
    with pytest.raises(ValueError, match="resolution"):
        coverage([1.0], resolution=0.0)
    with pytest.raises(TypeError, match="cov"):
        decide(False, {"good_turing": 0.0})
    assert isinstance(coverage([1.0]).summary()["threshold"], float)
    assert isinstance(coverage([1.0]), Coverage)
