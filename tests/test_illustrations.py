"""The evidence the figures draw, checked against independent computations.

Each figure-data producer of modgap.theorems.illustrations is run once per session with
quick settings (tests/_evidence.py) and its numbers are recomputed here from first
principles: the planted pair geometry from Corollary 2's formula, the solver optima from a
brute-force InfoNCE and plain numpy geometry, the population minimiser from a direct call,
the real-embedding statistics from numpy on the loaded rows (and, when the Liang et al.
CLIP features are present, the peers' reference values of docs/theory.md §6). The new numerics of
verify/ behind them (great circles, cap boundaries, the planted pair, cosine densities,
the real-embeddings loader) are checked with bad input too.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from _evidence import document
from scipy.special import logsumexp

from modgap.verify import population
from modgap.verify.datasets import liang_clip_available, real_embeddings
from modgap.verify.frames import planted_pair, subspace_frame
from modgap.verify.geometry import cap_boundary, great_circle, hyperplanes_with_angle
from modgap.verify.similarity import cosine_densities


def _infonce(X: np.ndarray, Y: np.ndarray, tau: float) -> float:
    """Symmetric InfoNCE with the positive in each denominator (docs/theory.md §1), by rows."""
    S = X @ Y.T / tau
    n = S.shape[0]
    return float(
        sum(-S[i, i] + logsumexp(S[i]) - S[i, i] + logsumexp(S[:, i]) for i in range(n)) / n
    )


def _angle(u, v) -> float:
    u, v = np.asarray(u, float), np.asarray(v, float)
    c = u @ v / (np.linalg.norm(u) * np.linalg.norm(v))
    return float(np.arccos(np.clip(c, -1.0, 1.0)))


# ----------------------------------------------------------------------------- fig3 left


def test_pair_geometry_is_corollary_2s_pair():
    d = document("pair_geometry")["data"]
    x, y, Rx = (np.asarray(d[k]) for k in ("x", "y", "Rx"))
    QA, QB, R = (np.asarray(d[k]) for k in ("QA", "QB", "R"))
    phi, s = d["phi"], d["s"]
    assert np.linalg.norm(x) == pytest.approx(1.0, abs=1e-14)
    assert np.linalg.norm(y) == pytest.approx(1.0, abs=1e-14)
    assert d["cos_xy"] == pytest.approx(1.0 - s**2 * (1.0 - math.cos(phi)), abs=1e-14)
    assert np.allclose(QA @ (QA.T @ x), x, atol=1e-14) and np.allclose(
        QB @ (QB.T @ y), y, atol=1e-14
    )
    # the planes' normals are phi apart (two planes of R^3)
    nA, nB = np.cross(*QA.T), np.cross(*QB.T)
    assert min(_angle(nA, nB), math.pi - _angle(nA, nB)) == pytest.approx(phi, abs=1e-12)
    # R is a rotation taking x to y; SSP maps both onto the same point of C
    assert np.allclose(R.T @ R, np.eye(3), atol=1e-14) and np.linalg.det(R) == pytest.approx(1.0)
    assert np.allclose(Rx, y, atol=1e-14) and d["cos_Rx_y"] == pytest.approx(1.0, abs=1e-14)
    c = np.cross(nA, nB) / np.linalg.norm(np.cross(nA, nB))  # C = A ∩ B, independently
    p_dir = np.asarray(d["ssp_x"])
    assert np.allclose(p_dir, d["ssp_y"], atol=1e-14)
    assert abs(p_dir @ c) == pytest.approx(1.0, abs=1e-14)
    for circle, Q in zip(d["great_circles"], (QA, QB), strict=True):
        pts = np.asarray(circle)
        assert np.allclose(np.linalg.norm(pts, axis=1), 1.0) and np.allclose(
            pts @ np.cross(*Q.T), 0
        )


# ----------------------------------------------------------------------------- fig1


def test_sphere_optima_unconstrained_is_paired_and_centreless():
    d = document("sphere_optima", quick=True)["data"]
    st, free = d["settings"], d["unconstrained"]
    X, Y = np.asarray(free["X"]), np.asarray(free["Y"])
    assert X.shape == (st["n"], 3) and free["converged"]
    pair_angles = [_angle(x, y) for x, y in zip(X, Y, strict=True)]
    assert max(pair_angles) < 1e-3
    assert free["observables"]["pair_angle_max"] == pytest.approx(max(pair_angles), abs=1e-7)
    assert np.linalg.norm(X.mean(0)) < 1e-3 and np.linalg.norm(Y.mean(0)) < 1e-3
    assert free["observables"]["centre_angle"] is None
    assert "undefined" in free["observables"]["centre_undefined_reason"]
    assert free["loss"] == pytest.approx(_infonce(X, Y, st["tau"]), abs=1e-10)


def test_sphere_optima_cone_and_subspace_are_feasible_and_counted():
    d = document("sphere_optima", quick=True)["data"]
    st, cone, sub, start = d["settings"], d["cone"], d["subspace"], d["random_start"]
    cos_a = math.cos(st["alpha"])
    for part in (start, cone):
        for Z, c, ring in zip(
            (part["X"], part["Y"]), part["centres"], part["cap_boundaries"], strict=True
        ):
            assert np.min(np.asarray(Z) @ np.asarray(c)) >= cos_a - 1e-9
            assert np.allclose(np.asarray(ring) @ np.asarray(c), cos_a, atol=1e-12)
    X, Y = np.asarray(cone["X"]), np.asarray(cone["Y"])
    assert cone["loss"] == pytest.approx(_infonce(X, Y, st["tau"]), abs=1e-10)
    assert cone["loss"] == min(r["loss"] for r in cone["starts"])
    assert cone["cap_centre_angle"] == pytest.approx(_angle(*cone["centres"]), abs=1e-7)
    best = cone["cap_centre_angle"]
    others = [
        r for r in cone["starts"] if abs(r["cap_centre_angle"] - best) > st["other_minimum_angle"]
    ]
    assert cone["other_minima"] == len(others)
    if others:
        worst = max(others, key=lambda r: r["loss"])
        assert cone["worst_other"]["loss_above_best"] == pytest.approx(worst["loss"] - cone["loss"])
    # the subspace optimum lies in its planes: x . n_A = 0, y . n_B = 0
    QA, QB = np.asarray(sub["QA"]), np.asarray(sub["QB"])
    assert np.max(np.abs(np.asarray(sub["X"]) @ np.cross(*QA.T))) < 1e-12
    assert np.max(np.abs(np.asarray(sub["Y"]) @ np.cross(*QB.T))) < 1e-12
    assert _angle(np.cross(*QA.T), np.cross(*QB.T)) == pytest.approx(st["phi"], abs=1e-12)
    axis = np.asarray(sub["shared_axis"])
    assert abs(axis @ np.cross(*QA.T)) < 1e-12 and abs(axis @ np.cross(*QB.T)) < 1e-12


# ----------------------------------------------------------------------------- fig4, fig6


def test_gap_vs_phi_population_minimiser_agrees_with_a_direct_call():
    d = document("gap_vs_phi", quick=True)["data"]
    st, row = d["settings"], d["rows"][0]
    direct = population.minimise_subspace(
        st["h"],
        st["tau"],
        st["kappa"],
        math.radians(row["phi_deg"]),
        n=st["population_nodes"],
        n_grid=st["population_grid"],
    )
    pop = row["population"]
    assert pop["F_best"] == direct.F_best and pop["best"] == list(direct.best)
    assert pop["centre_angle_best"] == direct.centre_angle_best
    assert [r["phi_deg"] for r in d["rows"]] == [20.0, 45.0, 70.0]
    for r in d["rows"]:
        for part in (r["subspace"], r["subspace_cone"]):
            assert part["loss"] == min(part["losses"]) and len(part["losses"]) == len(st["seeds"])
            obs = part["observables"]
            assert (
                obs["centre_rule"] == "configuration" and obs["shared_space_diff_mean"] is not None
            )


def test_population_landscape_grid_and_minimiser_are_consistent():
    d = document("population_landscape", quick=True)["data"]
    st = d["settings"]
    bx, by = np.asarray(d["beta_x"]), np.asarray(d["beta_y"])
    assert bx.size == 13 and by.size == 25
    i0, j0 = int(np.argmin(np.abs(bx))), int(np.argmin(np.abs(by)))
    assert bx[i0] == 0.0 and by[j0] == 0.0
    for p in d["panels"]:
        F = np.asarray(p["F"])
        assert F.shape == (13, 25)
        phi = math.radians(p["phi_deg"])
        one = population.subspace_objective(
            st["h"], st["tau"], st["kappa"], st["kappa"], phi, bx[3], by[7], n=st["nodes"]
        )
        assert F[3, 7] == pytest.approx(one.objective, abs=1e-12)
        assert p["F_claimed"] == pytest.approx(F[i0, j0], abs=1e-9)
        assert p["F_best"] <= F.min() + 1e-9  # the minimiser is no worse than the grid
        assert p["quad_error"] < 1e-6


# ----------------------------------------------------------------------------- fig2, fig3 right


def test_real_embeddings_statistics_match_numpy_on_the_loaded_rows():
    d = document("real_embeddings", path=None)["data"]
    X, Y, label = real_embeddings(None)
    assert d["label"] == label and (d["n"], d["d"]) == X.shape
    mx, my = X.mean(0), Y.mean(0)
    assert d["observables"]["centre_angle"] == pytest.approx(_angle(mx, my), abs=1e-9)
    assert d["observables"]["centroid_distance"] == pytest.approx(np.linalg.norm(mx - my))
    paired = d["densities"]["paired"]
    edges = np.asarray(paired["edges"])
    counts, _ = np.histogram(np.sum(X * Y, axis=1), bins=edges)
    assert np.allclose(np.asarray(paired["density"]) * np.diff(edges) * X.shape[0], counts)
    for key in ("paired", "image_image", "text_text"):
        h = d["densities"][key]
        assert np.sum(np.asarray(h["density"]) * np.diff(h["edges"])) == pytest.approx(1.0)
    for key, Z in (("image", X), ("text", Y)):
        s = np.asarray(d["spectra"][key])
        assert np.all(np.diff(s) <= 1e-15) and s.min() >= -1e-15
        assert s.sum() == pytest.approx(np.trace(np.cov(Z.T, bias=True)), rel=1e-10)
    theta = np.asarray(d["principal_angles"])
    assert np.all(np.diff(theta) >= 0) and 0 <= theta[0] and theta[-1] <= math.pi / 2 + 1e-12
    assert 0 < sum(d["pca"]["explained"]) <= 1
    ssp = d["ssp"]
    if ssp["d_overlap"] > 0:
        after = ssp["observables"]
        assert after["pair_cosine_mean"] > d["observables"]["pair_cosine_mean"]


@pytest.mark.realdata
def test_real_embeddings_default_is_clip_with_the_peers_reference_values(liang_dir):
    if not liang_clip_available():
        pytest.skip("the CLIP features are not where verify.datasets looks for them")
    d = document("real_embeddings", path=None)["data"]
    assert d["label"].startswith("CLIP") and (d["n"], d["d"]) == (500, 512)
    obs = d["observables"]
    assert math.degrees(obs["centre_angle"]) == pytest.approx(72.0, abs=0.1)  # docs/theory.md §6
    assert obs["centroid_distance"] == pytest.approx(0.851, abs=1e-3)
    assert obs["pair_cosine_mean"] == pytest.approx(0.310, abs=1e-3)


def test_real_embeddings_loader_demo_file_and_errors(tmp_path):
    X, Y, label = real_embeddings("demo")
    assert label.startswith("bundled demo") and X.dtype == np.float64
    assert np.allclose(np.linalg.norm(X, axis=1), 1.0) and np.allclose(
        np.linalg.norm(Y, axis=1), 1.0
    )
    file = tmp_path / "pairs.npy"
    np.save(file, np.stack([3.0 * X[:20], Y[:20]]))
    X2, Y2, label2 = real_embeddings(file)
    assert label2 == "pairs.npy" and np.allclose(X2, X[:20]) and np.allclose(Y2, Y[:20])
    with pytest.raises(FileNotFoundError, match="missing.npy"):
        real_embeddings(tmp_path / "missing.npy")
    assert liang_clip_available(tmp_path) is False


# ----------------------------------------------------------------------------- verify additions


def test_great_circle_and_cap_boundary_by_brute_force():
    QA, _ = hyperplanes_with_angle(3, 0.7)
    pts = great_circle(QA, n=50)
    normal = np.cross(*QA.T)
    assert pts.shape == (50, 3) and np.allclose(pts[0], pts[-1])
    assert np.allclose(np.linalg.norm(pts, axis=1), 1.0) and np.allclose(pts @ normal, 0.0)
    c = np.array([1.0, 2.0, 2.0]) / 3.0
    ring = cap_boundary(c, 0.4, n=60)
    assert np.allclose(ring @ c, math.cos(0.4)) and np.allclose(np.linalg.norm(ring, axis=1), 1.0)
    # the ring goes all the way round c: its points' directions about c span 2 pi
    u = np.cross(c, [0.0, 0.0, 1.0])
    u /= np.linalg.norm(u)
    w = np.cross(c, u)
    turn = np.unwrap(np.arctan2(ring @ w, ring @ u))
    assert abs(turn[-1] - turn[0]) == pytest.approx(2 * math.pi, abs=1e-9)
    with pytest.raises(ValueError, match="alpha"):
        cap_boundary(c, math.pi / 2)
    with pytest.raises(ValueError, match="Q"):
        great_circle(np.eye(3))
    with pytest.raises(ValueError, match="c"):
        cap_boundary(np.array([1.0, 0.0]), 0.3)


def test_planted_pair_formula_and_errors():
    for phi, s in ((0.3, 0.0), (1.2, 0.5), (math.pi / 2, 1.0)):
        frame = subspace_frame(*hyperplanes_with_angle(4, phi, seed=3))
        pair = planted_pair(frame, s)
        assert pair["x"] @ pair["y"] == pytest.approx(1 - s**2 * (1 - math.cos(phi)), abs=1e-14)
        assert np.linalg.norm(pair["x"]) == pytest.approx(1.0, abs=1e-14)
        assert np.allclose(frame.QB @ (frame.QB.T @ pair["y"]), pair["y"], atol=1e-14)
    with pytest.raises(ValueError, match="s must"):
        planted_pair(frame, 1.5)
    with pytest.raises(ValueError, match="shared space"):
        planted_pair(subspace_frame(*hyperplanes_with_angle(2, 0.5)), 0.5)


def test_cosine_densities_match_a_double_loop():
    X, Y, _ = real_embeddings("demo")
    X, Y = X[:12], Y[:12]
    out = cosine_densities(X, Y, bins=10)
    edges = np.linspace(-1, 1, 11)
    brute = {
        "paired": [X[i] @ Y[i] for i in range(12)],
        "image_image": [X[i] @ X[j] for i in range(12) for j in range(i + 1, 12)],
        "text_text": [Y[i] @ Y[j] for i in range(12) for j in range(i + 1, 12)],
    }
    for key, listed in brute.items():
        values = np.asarray(listed)
        counts = np.array(
            [
                np.sum((values >= a) & (values < b))
                for a, b in zip(edges[:-1], edges[1:], strict=True)
            ]
        )
        counts[-1] += np.sum(values == 1.0)
        width = 0.2
        assert np.allclose(out[key]["density"], counts / (len(values) * width)), key
        assert out[key]["n"] == len(values)
    with pytest.raises(ValueError, match="bins"):
        cosine_densities(X, Y, bins=0)
