"""Post-hoc alignment operators (verify.alignment) against planted answers.

Planted model (seed paper, Corollary 2, docs/theory.md §3): C = shared space of dimension c,
a, b unit vectors orthogonal to C with a.b = cos phi, x_i = p_i + s_i a, y_i = p_i + s_i b
with p_i in C and |p_i|^2 + s_i^2 = 1. Then x_i . y_i = 1 - s_i^2 (1 - cos phi), the
image subspace is C + a, the text subspace C + b, their shared space is C, the
hyperplane rotation maps x_i to y_i and SSP maps both to p_i / |p_i|.
"""

from __future__ import annotations

import numpy as np
import pytest

from modgap.verify import metrics
from modgap.verify.alignment import (
    OPERATORS,
    Centring,
    HyperplaneRotation,
    NotFittedError,
    Removal,
    SharedSpaceProjection,
    Translation,
    principal_basis,
)
from modgap.verify.geometry import principal_angles, random_rotation


def planted(n: int, d: int, c: int, phi: float, seed: int, scales=None):
    """(X, Y, C, a, b, s) of the Corollary-2 model in a random frame of R^d."""
    rng = np.random.default_rng(seed)
    Q = random_rotation(d, seed + 1000)
    C = Q[:, :c]
    a = Q[:, c]
    b = np.cos(phi) * Q[:, c] + np.sin(phi) * Q[:, c + 1]
    scales = np.ones(c) if scales is None else np.asarray(scales, float)
    P = (rng.standard_normal((n, c)) * scales) @ C.T
    s = 0.8 * rng.standard_normal(n)
    norm = np.sqrt(np.sum(P**2, axis=1) + s**2)
    P, s = P / norm[:, None], s / norm
    return P + s[:, None] * a, P + s[:, None] * b, C, a, b, s


def pair_cos(X, Y):
    return np.einsum("ij,ij->i", X, Y)


# --------------------------------------------------------------------------- SSP


@pytest.mark.parametrize("c", [2, 5])
def test_ssp_recovers_planted_shared_space(c):
    X, Y, C, *_ = planted(400, 16, c, phi=0.5, seed=c)
    ssp = SharedSpaceProjection().fit(X, Y)
    assert ssp.dim_x_ == ssp.dim_y_ == c + 1
    assert ssp.d_overlap_ == c
    assert ssp.shared_basis_.shape == (16, c)
    assert np.max(principal_angles(ssp.shared_basis_, C)) < 1e-8
    # the smallest non-shared principal angle is the planted phi
    assert ssp.principal_angles_[c] == pytest.approx(0.5, abs=1e-9)


def test_ssp_counts_a_shared_direction_only_within_eps():
    # negative controls: phi = 0 makes a = b shared; phi just inside arccos(1 - eps) too
    for phi, expected in [(0.0, 4), (0.02, 4), (0.1, 3)]:
        X, Y, *_ = planted(300, 10, 3, phi=phi, seed=7)
        assert SharedSpaceProjection(eps=1e-3).fit(X, Y).d_overlap_ == expected, phi


def test_ssp_aligns_held_out_pairs_perfectly():
    X, Y, C, _, _, s = planted(600, 16, 4, phi=0.7, seed=3)
    Xtr, Ytr, Xte, Yte = X[:300], Y[:300], X[300:], Y[300:]
    before = pair_cos(Xte, Yte)
    assert np.allclose(before, 1 - s[300:] ** 2 * (1 - np.cos(0.7)), atol=1e-12)
    assert before.min() < 0.99  # negative control: pairs are not aligned before
    ssp = SharedSpaceProjection().fit(Xtr, Ytr)
    Xs, Ys = ssp.transform(Xte, Yte)
    assert np.allclose(np.linalg.norm(Xs, axis=1), 1, atol=1e-12)
    assert np.max(np.abs(pair_cos(Xs, Ys) - 1)) < 1e-10
    # outputs lie in C and are P_C x / |P_C x|
    P = Xte @ C @ C.T
    assert np.allclose(Xs, P / np.linalg.norm(P, axis=1, keepdims=True), atol=1e-10)


def test_ssp_top_k_keeps_the_highest_variance_shared_directions():
    X, Y, C, *_ = planted(2000, 14, 4, phi=0.6, seed=11, scales=[3.0, 2.0, 0.6, 0.3])
    ssp = SharedSpaceProjection(variance=0.9999, k=2).fit(X, Y)
    assert ssp.d_overlap_ == 4
    assert ssp.shared_basis_.shape == (14, 2)
    assert np.all(np.diff(ssp.projected_variance_) <= 0)
    assert np.max(principal_angles(ssp.shared_basis_, C[:, :2])) < 0.05
    # negative control: the two weakest planted directions are far from the kept plane
    assert np.min(principal_angles(ssp.shared_basis_, C[:, 2:])) > 1.0


def test_ssp_zero_projection_row_raises_not_nan():
    X, Y, C, a, *_ = planted(200, 10, 3, phi=0.5, seed=5)
    ssp = SharedSpaceProjection().fit(X, Y)
    bad = np.vstack([X[:5], a])  # a is orthogonal to C
    with pytest.raises(ValueError, match=r"1 of 6 rows of X have \(near\) zero norm"):
        ssp.transform(bad, Y[:6])


def test_ssp_without_shared_direction_has_d_overlap_zero_and_transform_raises():
    rng = np.random.default_rng(0)
    X = np.zeros((50, 6))
    Y = np.zeros((50, 6))
    X[:, :2] = rng.standard_normal((50, 2))
    Y[:, 2:4] = rng.standard_normal((50, 2))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    Y /= np.linalg.norm(Y, axis=1, keepdims=True)
    ssp = SharedSpaceProjection().fit(X, Y)
    assert ssp.d_overlap_ == 0 and ssp.shared_basis_.shape == (6, 0)
    with pytest.raises(ValueError, match=r"shared space is \{0\}"):
        ssp.transform(X, Y)


def test_principal_basis_matches_metrics_principal_subspace():
    # independent route: metrics takes the SVD of the n x d matrix, here eigh of X^T X
    X, Y, *_ = planted(300, 12, 4, phi=0.5, seed=2, scales=[2, 1, 0.5, 0.2])
    for centred in (False, True):
        B, lam = principal_basis(X, variance=0.99, centred=centred)
        Q = metrics.principal_subspace(X, threshold=0.99, centred=centred)
        assert B.shape == Q.shape
        assert np.max(principal_angles(B, Q)) < 1e-7


# --------------------------------------------------------------------------- rotation


def test_rotation_aligns_planted_pairs_perfectly_and_fixes_C():
    X, Y, C, a, b, s = planted(500, 12, 4, phi=0.9, seed=21)
    before = pair_cos(X, Y)
    assert np.allclose(before, 1 - s**2 * (1 - np.cos(0.9)), atol=1e-12)
    assert before.min() < 0.95  # negative control
    rot = HyperplaneRotation().fit(X[:250], Y[:250])
    assert rot.dim_ == 5
    R = rot.rotation_
    assert np.allclose(R.T @ R, np.eye(12), atol=1e-12)
    assert np.linalg.det(R) == pytest.approx(1.0, abs=1e-10)
    assert np.allclose(R @ C, C, atol=1e-10)
    assert np.allclose(R @ a, b, atol=1e-10)
    Xr, Yr = rot.transform(X[250:], Y[250:])  # held out
    assert np.max(np.abs(pair_cos(Xr, Yr) - 1)) < 1e-10
    assert np.array_equal(Yr, Y[250:])


def test_rotation_fitted_on_another_model_does_not_align():
    # negative control: a rotation onto a text subspace with a different b misses
    X, Y, *_ = planted(300, 12, 4, phi=0.9, seed=21)
    X2, Y2, *_ = planted(300, 12, 4, phi=0.9, seed=22)
    Xr, Yr = HyperplaneRotation().fit(X2, Y2).transform(X, Y)
    assert np.max(np.abs(pair_cos(Xr, Yr) - 1)) > 1e-2


def test_rotation_dim_defaults_to_larger_variance_dimension():
    X, _, *_ = planted(300, 12, 3, phi=0.5, seed=4)
    _, Y, *_ = planted(300, 12, 5, phi=0.5, seed=4)
    rot = HyperplaneRotation().fit(X, Y)
    assert (rot.dim_x_, rot.dim_y_, rot.dim_) == (4, 6, 6)
    assert HyperplaneRotation(dim=2).fit(X, Y).dim_ == 2


# --------------------------------------------------------------------------- translation


def _gapped(n: int, d: int, gap: float, seed: int):
    rng = np.random.default_rng(seed)
    g = np.zeros(d)
    g[0] = 1.0
    out = []
    for sign in (1, -1):
        Z = rng.standard_normal((n, d))
        Z = Z / np.linalg.norm(Z, axis=1, keepdims=True) + sign * gap * g
        out.append(Z / np.linalg.norm(Z, axis=1, keepdims=True))
    return out


def test_translation_closes_centroid_distance_to_first_order():
    d = 64
    residual = []
    for gap in (0.1, 0.05):
        X, Y = _gapped(4000, d, gap, seed=1)
        before = metrics.centroid_distance(X, Y)
        tr = Translation().fit(X, Y)
        assert tr.lam_ == pytest.approx(before, rel=1e-12)
        assert np.allclose(tr.gap_direction_, metrics.gap_direction(X, Y), atol=1e-12)
        Xt, Yt = tr.transform(X, Y)
        after = metrics.centroid_distance(Xt, Yt)
        # renormalisation leaves (Sx + Sy)/2 (mx - my) to first order (S = second moment),
        # about 1/d of the gap for spread-out data
        assert after < 3.0 / d * before
        mx, my = X.mean(0), Y.mean(0)
        pred = 0.5 * (X.T @ X / len(X) + Y.T @ Y / len(Y)) @ (mx - my)
        residual.append(np.linalg.norm(Xt.mean(0) - Yt.mean(0) - pred) / before)
    # the first-order prediction error is O(gap): halving the gap at least ~halves it
    assert residual[1] < 0.6 * residual[0]


def test_translation_negative_controls():
    X, Y = _gapped(1000, 16, 0.3, seed=2)
    before = metrics.centroid_distance(X, Y)
    Xt, Yt = Translation(lam=0.0).fit_transform(X, Y)
    assert np.allclose(Xt, X, atol=1e-12) and np.allclose(Yt, Y, atol=1e-12)
    Xw, Yw = Translation(lam=-before).fit_transform(X, Y)
    assert metrics.centroid_distance(Xw, Yw) > before  # the other sign widens the gap
    with pytest.raises(ValueError, match="means coincide"):
        Translation().fit(X, X)


# --------------------------------------------------------------------------- removal


def test_removal_removes_planted_gap_coordinates():
    rng = np.random.default_rng(3)
    n, d = 2000, 32
    planted_coords = [7, 19, 2]  # decreasing planted mean difference
    shift = np.zeros(d)
    shift[planted_coords] = [0.9, 0.6, 0.4]
    Zx = rng.standard_normal((n, d)) / np.sqrt(d) + shift / 2
    Zy = rng.standard_normal((n, d)) / np.sqrt(d) - shift / 2
    X = Zx / np.linalg.norm(Zx, axis=1, keepdims=True)
    Y = Zy / np.linalg.norm(Zy, axis=1, keepdims=True)
    rem = Removal(k=3).fit(X[:1000], Y[:1000])
    assert list(rem.removed_) == planted_coords
    assert list(Removal(k=1).fit(X, Y).removed_) == [7]
    Xr, Yr = rem.transform(X[1000:], Y[1000:])
    assert np.all(Xr[:, planted_coords] == 0) and np.all(Yr[:, planted_coords] == 0)
    assert np.allclose(np.linalg.norm(Xr, axis=1), 1, atol=1e-12)
    keep = np.setdiff1d(np.arange(d), planted_coords)
    expect = X[1000:, keep] / np.linalg.norm(X[1000:, keep], axis=1, keepdims=True)
    assert np.allclose(Xr[:, keep], expect, atol=1e-12)
    assert metrics.centroid_distance(Xr, Yr) < 0.2 * metrics.centroid_distance(X, Y)


# --------------------------------------------------------------------------- centring


def test_centring_subtracts_fitted_means():
    X, Y = _gapped(500, 8, 0.5, seed=4)
    Xte, Yte = _gapped(300, 8, 0.2, seed=5)
    cen = Centring().fit(X, Y)
    assert np.allclose(cen.mean_x_, np.mean(X, axis=0), atol=1e-15)
    Xc, Yc = cen.transform(X, Y)
    # before renormalisation the fit set has zero mean: sum_i |x_i - m| x'_i = 0
    w = np.linalg.norm(X - X.mean(0), axis=1)
    assert np.allclose((w[:, None] * Xc).mean(0), 0, atol=1e-12)
    # held out: the FIT means are subtracted, not the new set's own (negative control)
    Xh, _ = cen.transform(Xte, Yte)
    fit_dir = Xte - X.mean(0)
    own_dir = Xte - Xte.mean(0)
    assert np.allclose(pair_cos(Xh, fit_dir / np.linalg.norm(fit_dir, axis=1)[:, None]), 1)
    own = pair_cos(Xh, own_dir / np.linalg.norm(own_dir, axis=1)[:, None])
    assert np.min(own) < 0.99


# --------------------------------------------------------------------------- contract


ALL = [
    SharedSpaceProjection(),
    HyperplaneRotation(),
    Translation(),
    Removal(k=2),
    Centring(),
]


@pytest.mark.parametrize("op", ALL, ids=lambda o: type(o).__name__)
def test_transform_before_fit_raises(op):
    X, Y, *_ = planted(50, 8, 3, phi=0.5, seed=0)
    fresh = type(op)(**op.get_params())
    with pytest.raises(NotFittedError, match="not fitted yet"):
        fresh.transform(X, Y)


@pytest.mark.parametrize("op", ALL, ids=lambda o: type(o).__name__)
def test_bad_input_names_the_argument(op):
    X, Y, *_ = planted(60, 8, 3, phi=0.5, seed=0)
    Xn = X.copy()
    Xn[3, 2] = np.nan
    with pytest.raises(ValueError, match="X contains 1 NaN"):
        op.fit(Xn, Y)
    with pytest.raises(ValueError, match="Y rows must be unit vectors"):
        op.fit(X, 2 * Y)
    X6 = X[:, :6] / np.linalg.norm(X[:, :6], axis=1, keepdims=True)
    Y6 = Y[:, :6] / np.linalg.norm(Y[:, :6], axis=1, keepdims=True)
    with pytest.raises(ValueError, match="same space"):
        op.fit(X, Y6)
    with pytest.raises(ValueError, match="2-dimensional"):
        op.fit(X[0], Y)
    op.fit(X, Y)
    with pytest.raises(ValueError, match="fitted in R\\^8"):
        op.transform(X6, Y6)
    # normalize=True accepts non-unit rows, and outputs are unit rows
    scaled = type(op)(**{**op.get_params(), "normalize": True})
    Xo, Yo = scaled.fit_transform(3 * X, 2 * Y)
    assert np.allclose(np.linalg.norm(Xo, axis=1), 1, atol=1e-12)
    assert np.allclose(np.linalg.norm(Yo, axis=1), 1, atol=1e-12)


@pytest.mark.parametrize("op", ALL, ids=lambda o: type(o).__name__)
def test_float32_stays_float32_and_row_counts_may_differ(op):
    X, Y, *_ = planted(90, 8, 3, phi=0.5, seed=1)
    X32, Y32 = X[:30].astype(np.float32), Y.astype(np.float32)  # 3 captions per image
    Xo, Yo = op.fit(X32, Y32).transform(X32, Y32)
    assert Xo.dtype == Yo.dtype == np.float32
    assert Xo.shape == (30, 8) and Yo.shape == (90, 8)


def test_parameter_validation():
    X, Y, *_ = planted(60, 8, 3, phi=0.5, seed=0)
    with pytest.raises(ValueError, match="variance must lie in"):
        SharedSpaceProjection(variance=1.5).fit(X, Y)
    with pytest.raises(ValueError, match="eps must lie in"):
        SharedSpaceProjection(eps=1.0).fit(X, Y)
    with pytest.raises(ValueError, match="k = 4 exceeds .* d_overlap = 3"):
        SharedSpaceProjection(k=4).fit(X, Y)  # only 3 shared directions
    with pytest.raises(ValueError, match="k must satisfy"):
        Removal(k=8).fit(X, Y)
    with pytest.raises(TypeError, match="dim must be an integer"):
        HyperplaneRotation(dim=2.5).fit(X, Y)
    assert set(OPERATORS) == {"ssp", "rotation", "translation", "removal", "centring"}


def test_ssp_reduces_the_centre_angle_on_real_clip(liang_dir):
    F = np.load(liang_dir / "features_clip.npy").astype(np.float64)
    X = F[0] / np.linalg.norm(F[0], axis=1, keepdims=True)
    Y = F[1] / np.linalg.norm(F[1], axis=1, keepdims=True)
    before = np.degrees(metrics.centre_angle(X, Y))
    ssp = SharedSpaceProjection().fit(X, Y)
    Xs, Ys = ssp.transform(X, Y)
    after = np.degrees(metrics.centre_angle(Xs, Ys))
    assert before == pytest.approx(72.0, abs=0.05)
    assert 0 < ssp.d_overlap_ < 512
    assert after < before - 5.0, (before, after, ssp.d_overlap_)
