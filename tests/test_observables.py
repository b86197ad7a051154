"""The one gap-observables type and the one centre rule (verify.observables, verify.centres)
against planted sets with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from modgap.verify.centres import centre_angle_from_means, mean_norm_floor
from modgap.verify.observables import KEYS, GapObservables, gap_observables


def test_gap_observables_on_planted_sets() -> None:
    # antipodal points: means vanish -> centre angle undefined
    E = np.eye(3)
    X = np.vstack([E, -E])
    obs = gap_observables(X, X, source="configuration").to_dict()
    assert obs["centre_angle"] is None and obs["centroid_distance"] < 1e-15
    assert obs["pair_angle_max"] < 1e-7
    # two caps at angle 0.8 around e0 and (cos .8, sin .8, 0), pairs rotated by 0.8
    th = 0.8
    R = np.array([[math.cos(th), -math.sin(th), 0], [math.sin(th), math.cos(th), 0], [0, 0, 1]])
    rng = np.random.default_rng(0)
    X = np.array([1.0, 0, 0]) + 0.05 * rng.standard_normal((50, 3))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    # symmetrise around e0 so that the mean points exactly along e0
    X = np.vstack([X, X * np.array([1, -1, -1])])
    Y = X @ R.T
    obs = gap_observables(X, Y, source="configuration", QC=E[:, 2:]).to_dict()
    assert obs["centre_angle"] == pytest.approx(th, abs=1e-12)
    # x.Rx = 1 - (1 - cos th)(x0^2 + x1^2): the pair angle is th only for x2 = 0
    assert th - 1e-3 < obs["pair_angle_max"] <= th + 1e-12
    assert obs["shared_space_diff_max"] < 1e-15  # the rotation fixes e2


def test_noise_level_means_leave_the_centre_undefined_with_the_reason():
    """The issue's case: N = 32, h = 4, mean norms ~1e-4 (a solver optimum spread
    symmetrically): undefined under the configuration rule, with a reason naming the mean."""
    rng = np.random.default_rng(3)
    A = rng.standard_normal((16, 4))
    A /= np.linalg.norm(A, axis=1, keepdims=True)
    X = np.vstack([A, -A])  # mean exactly 0
    X[0] += 3.2e-3 * np.array([1.0, 0, 0, 0])
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    Y = X[:, [1, 0, 2, 3]]
    obs = gap_observables(X, Y, source="configuration")
    assert 1e-5 < obs.mean_norm_x < 1e-3
    assert obs.centre_angle is None and not obs.centre_defined
    assert "|mean x|" in obs.centre_undefined_reason and "0.001" in obs.centre_undefined_reason
    assert obs.centre_text().startswith("undefined (")


def test_floors_and_the_stable_angle():
    assert mean_norm_floor(100, "sample") == pytest.approx(3 / math.sqrt(109))  # k/sqrt(n+k^2)
    assert mean_norm_floor(10**9, "sample") == pytest.approx(1e-3)  # never below solver accuracy
    assert mean_norm_floor(5, "configuration") == 1e-3
    with pytest.raises(ValueError, match="source"):
        mean_norm_floor(5, "population")
    with pytest.raises(ValueError, match="n must"):
        mean_norm_floor(0)
    # a 1e-9 rad angle between two long means: arccos would round it to 0
    m = np.array([1.0, 0.0, 0.0])
    r = centre_angle_from_means(m, np.array([1.0, 1e-9, 0.0]), 10, source="configuration")
    assert r.angle == pytest.approx(1e-9, rel=1e-6)
    with pytest.raises(ValueError, match="finite"):
        centre_angle_from_means(np.array([np.nan, 0, 0]), m, 10)


def test_pairs_index_and_round_trip():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((5, 3))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    pairs = np.array([0, 0, 1, 2, 3, 4, 4])
    Y = X[pairs]  # every caption equals its image
    obs = gap_observables(X, Y, pairs=pairs, source="configuration", chunk=2)
    assert obs.n_x == 5 and obs.n_y == 7 and obs.n_pairs == 7
    assert obs.pair_angle_max < 1e-7 and obs.pair_cosine_mean == pytest.approx(1.0)
    d = obs.to_dict()
    assert tuple(d) == KEYS
    assert GapObservables.from_dict(d) == obs
    with pytest.raises(ValueError, match="pair index"):
        gap_observables(X, Y)
    with pytest.raises(ValueError, match="unknown"):
        GapObservables.from_dict({**d, "centre_angle_deg": 1.0})
    assert math.isclose(obs.degrees()["pair_angle_max_deg"], math.degrees(obs.pair_angle_max))


def test_per_modality_rules_and_image_side_pairs():
    """Zero-shot: 200 sampled images, 3 class embeddings (the whole text side, a
    configuration). As a sample, 3 rows could never show a centre (floor 3/sqrt(12));
    under (sample, configuration) the angle is defined and equals the planted one."""
    rng = np.random.default_rng(0)
    d, phi = 6, 0.7
    cx = np.eye(d)[0]
    cy = math.cos(phi) * np.eye(d)[0] + math.sin(phi) * np.eye(d)[1]
    T = np.array([(cy + np.eye(d)[k]) / math.sqrt(2) for k in (2, 3, 4)])  # |mean| = 0.816
    labels = rng.integers(0, 3, 200)
    X = cx + 0.2 * rng.standard_normal((200, d))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    both_sample = gap_observables(X, T, pairs_x=labels)
    assert both_sample.centre_angle is None
    mixed = gap_observables(X, T, pairs_x=labels, source=("sample", "configuration"))
    assert mixed.centre_rule == "sample/configuration" and mixed.n_pairs == 200
    mx, my = X.mean(0), T.mean(0)
    expected = math.acos(mx @ my / np.linalg.norm(mx) / np.linalg.norm(my))
    assert mixed.centre_angle == pytest.approx(expected, abs=1e-9)
    cos = np.einsum("ij,ij->i", X, T[labels])
    assert mixed.pair_cosine_mean == pytest.approx(cos.mean(), abs=1e-12)
    with pytest.raises(ValueError, match="pairs_x"):
        gap_observables(X, T, pairs_x=labels[:5])
    with pytest.raises(ValueError, match="not both"):
        gap_observables(X, T, pairs_x=labels, pairs=labels)
