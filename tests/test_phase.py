"""verify.phase (tau* of Theorem 3's population reading) and verify.sweep (resumable sweeps).

Independent checks: Monte Carlo (explicit pairs, not the quadrature) on both sides of tau*;
the h = 3 circle quadrature against von Mises draws; a full minimisation over the centres
below and above tau*. Negative controls that must be REFUTED: "the claim holds at every
temperature" at a point where tau* exists, and "tau* exists everywhere" at a point where
the claim holds throughout the scanned range.
"""

from __future__ import annotations

import json
import math

import pytest

from modgap.main import main
from modgap.verify import phase, sweep


@pytest.fixture(scope="module")
def crossing():
    return phase.critical_temperature(4, 10.0, 1.0)


def test_tau_star_is_a_root_with_the_sign_change_confirmed_by_monte_carlo(crossing):
    r = crossing
    assert r.status == "crossing" and r.converged
    assert (
        0.005 < r.tau_star < 0.05
    )  # docs/readings.md: the claim fails at tau = 0.01, holds at 0.02
    D, err = phase.claim_margin(4, r.tau_star, 10.0, 1.0, estimate_error=True)
    assert abs(D) <= abs(r.slope_at_root) * r.tau_star_error + 1e-12
    assert r.tau_star_error < 1e-3 * r.tau_star
    below = phase.monte_carlo_check(4, 10.0, 1.0, 0.6 * r.tau_star, n_samples=40_000)
    above = phase.monte_carlo_check(4, 10.0, 1.0, 1.6 * r.tau_star, n_samples=40_000, seed=5)
    assert below["D_monte_carlo"] > 4 * below["stderr"]  # the claim fails below tau*
    assert above["D_monte_carlo"] < -4 * above["stderr"]  # and holds above
    for mc in (below, above):
        assert abs(mc["z"]) < 4  # quadrature and Monte Carlo agree
    # negative control: "the claim holds at every temperature" is REFUTED here
    assert r.status != "holds"


def test_minimiser_moves_into_c_below_tau_star(crossing):
    # full minimisation over the centres (grid + Nelder-Mead): below tau* the best
    # configuration found is the in-C one (Delta_theta = 0), not the claimed one; above tau*
    # the claimed point beats the in-C one (the margin test) -- checked by Monte Carlo above
    lo = phase.minimiser_check(4, 10.0, 1.0, 0.6 * crossing.tau_star, n_grid=5)
    assert lo["minimiser"] == "in_C"
    assert lo["centre_angle_best"] < 1e-3
    assert lo["F_claimed"] - lo["F_best"] > 100 * lo["quad_error"]


def test_circle_objective_h3_against_von_mises_draws():
    val = phase.circle_objective(0.05, 5.0, 0.8, 0.3, -0.4, estimate_error=True)
    assert val.quad_error < 1e-10
    mc = phase.monte_carlo_check(3, 5.0, 0.8, 0.05, n_samples=60_000)
    assert abs(mc["z"]) < 4
    # the h = 3 margin has a root too, and its sign below tau* is confirmed by Monte Carlo
    r = phase.critical_temperature(3, 10.0, 1.2, hessian=False)
    assert r.status == "crossing"
    below = phase.monte_carlo_check(3, 10.0, 1.2, 0.6 * r.tau_star, n_samples=40_000)
    assert below["D_monte_carlo"] > 4 * below["stderr"]


def test_negative_control_tau_star_does_not_exist_everywhere():
    r = phase.critical_temperature(3, 1000.0, 1.4, n_scan=9)
    assert r.status == "holds" and r.tau_star is None and "no tau*" in r.message
    mc = phase.monte_carlo_check(3, 1000.0, 1.4, 0.01, n_samples=20_000)
    assert mc["D_monte_carlo"] < -4 * mc["stderr"]


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="phi"):
        phase.critical_temperature(4, 1.0, 2.0)
    with pytest.raises(ValueError, match="tau_max"):
        phase.critical_temperature(4, 1.0, 1.0, tau_min=1.0, tau_max=0.5)
    with pytest.raises(ValueError, match="h"):
        phase.claim_margin(2, 0.1, 1.0, 1.0)
    with pytest.raises(ValueError, match="kind"):
        sweep.grid_points("nope", [4], [1.0], [1.0])
    with pytest.raises(ValueError, match="taus"):
        sweep.grid_points("margin", [4], [1.0], [1.0])


def test_sweep_caches_each_point_and_resumes(tmp_path):
    pts = sweep.grid_points("margin", [4, 5], [10.0], [1.0], [0.01, 0.05])
    res, counts = sweep.run_sweep("margin", pts, tmp_path / "c")
    assert counts == {"cached": 0, "computed": 4}
    assert [r["claim_fails"] for r in res] == [True, False, True, False]
    # an interrupted sweep: one point lost, one cache file corrupted -> only those recompute
    files = sorted((tmp_path / "c").glob("*.json"))
    files[0].unlink()
    files[1].write_text("{not json")
    res2, counts2 = sweep.run_sweep("margin", pts, tmp_path / "c")
    assert counts2 == {"cached": 2, "computed": 2}
    # the recomputed points equal the first run's, field by field (their timing aside)
    assert _numbers(res) == _numbers(res2)


def test_cli_sweep_writes_a_result_the_figure_draws(tmp_path, capsys):
    out = tmp_path / "phase.json"
    args = [
        "sweep",
        "critical",
        "--h",
        "4",
        "--kappa",
        "10",
        "--phi",
        "0.6,1.2",
        "--out",
        str(out),
        "--no-progress",
    ]
    assert main(args) == 0
    doc = sweep.load_result(out)
    assert doc["kind"] == "critical" and len(doc["points"]) == 2
    assert all(p["status"] == "crossing" for p in doc["points"])
    assert doc["points"][0]["tau_star"] < doc["points"][1]["tau_star"]  # tau* grows with phi
    assert "scan" not in doc["points"][0]
    assert main(args) == 0  # second run: everything cached
    assert "2 cached, 0 computed" in capsys.readouterr().out
    from modgap.figures import fig8_theorem3_phase

    paths = fig8_theorem3_phase.draw({"theorem3_phase": {"data": doc}}, tmp_path / "fig")
    assert sorted(p.suffix for p in paths) == [".pdf", ".png"]
    assert (
        main(["sweep", "margin", "--h", "4", "--kappa", "1", "--phi", "1", "--out", str(out)]) == 2
    )  # no --tau
    (tmp_path / "bad.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(ValueError, match="not a modgap-sweep"):
        sweep.load_result(tmp_path / "bad.json")
    assert math.isfinite(doc["points"][0]["tau_star_error"])


def _numbers(rows: list[dict]) -> list[dict]:
    """Sweep records without their wall-clock field (a measurement of the machine, not of
    the point), so two runs of the same points can be compared exactly."""
    timing = "seconds"
    return [{k: v for k, v in r.items() if k != timing} for r in rows]
