"""Checks of verify.metrics against hand computations, brute force and planted answers."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.linalg

from modgap.verify import metrics as M
from modgap.verify.observables import KEYS

RNG_SEED = 20251003


def unit(A: np.ndarray) -> np.ndarray:
    A = np.asarray(A, dtype=np.float64)
    return A / np.linalg.norm(A, axis=1, keepdims=True)


def rand_unit(n: int, d: int, seed: int) -> np.ndarray:
    return unit(np.random.default_rng(seed).standard_normal((n, d)))


def e(i: int, d: int) -> np.ndarray:
    v = np.zeros(d)
    v[i] = 1.0
    return v


def noisy_pairs(n: int, d: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = unit(rng.standard_normal((n, d)))
    Y = unit(X + noise * rng.standard_normal((n, d)))
    return X, Y


# ----------------------------------------------------------------- identical modalities


def test_identical_modalities_have_no_gap():
    X = rand_unit(40, 6, 1)
    assert M.centroid_distance(X, X) == pytest.approx(0.0, abs=1e-15)
    assert M.gap_direction(X, X) is None
    # 40 uniform random rows: the mean (~1/sqrt(40)) is within sampling noise, no centre
    assert M.centre_angle(X, X) is None
    assert M.centre_angle(X, X, source="configuration") == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(M.pair_angles(X, X), 0.0, atol=1e-7)
    np.testing.assert_allclose(M.pair_cosines(X, X), 1.0, atol=1e-15)
    assert M.mean_pair_distance(X, X) == 0.0
    assert M.alignment(X, X) == 0.0
    assert M.relative_modality_gap(X, X) == pytest.approx(0.0, abs=1e-15)
    np.testing.assert_allclose(M.modality_principal_angles(X, X), 0.0, atol=1e-7)


# ----------------------------------------------------------------- centres


def coned(centre: np.ndarray, a: float, perps: list[np.ndarray]) -> np.ndarray:
    """Rows cos(a) c +- sin(a) u for each u: the mean is exactly cos(a) c."""
    rows = [np.cos(a) * centre + s * np.sin(a) * u for u in perps for s in (1.0, -1.0)]
    return np.array(rows)


@pytest.mark.parametrize("theta", [0.3, np.pi / 2, 2.5, np.pi])
def test_planted_centre_angle_and_centroid_distance(theta):
    d = 6
    cx = e(0, d)
    cy = np.cos(theta) * e(0, d) + np.sin(theta) * e(1, d)
    a, b = 0.7, 1.1
    X = coned(cx, a, [e(2, d), e(3, d)])
    Y = coned(cy, b, [e(4, d), e(5, d), e(2, d)])
    # 4 and 6 planted rows: a configuration (as a sample, 3/sqrt(4) > 1 leaves no centre)
    assert M.centre_angle(X, Y, source="configuration") == pytest.approx(theta, abs=1e-12)
    assert M.centre_angle(X, Y) is None
    dist = np.sqrt(np.cos(a) ** 2 + np.cos(b) ** 2 - 2 * np.cos(a) * np.cos(b) * np.cos(theta))
    assert M.centroid_distance(X, Y) == pytest.approx(dist, rel=1e-12)
    g = M.gap_direction(X, Y)
    np.testing.assert_allclose(g, (np.cos(a) * cx - np.cos(b) * cy) / dist, atol=1e-12)


def test_centre_angle_is_none_for_a_centred_modality():
    d = 4
    v = unit(np.arange(1.0, d + 1)[None, :])[0]
    X = np.array([v, -v])
    Y = coned(e(1, d), 0.3, [e(2, d)])
    for source in ("sample", "configuration"):
        assert M.centre_angle(X, Y, source=source) is None
        assert M.centre_angle(Y, X, source=source) is None
    # a mean of 1e-4 (solver noise) is undefined; 0.36 is a centre of a configuration
    Z = unit(np.array([v + 1e-4 * e(0, d), -v + 1e-4 * e(0, d)]))
    assert 0 < np.linalg.norm(Z.mean(0)) < 1e-3
    assert M.centre_angle(Z, Y, source="configuration") is None
    W = coned(e(1, d), 1.2, [e(2, d)])
    assert M.centre_angle(W, Y, source="configuration") is not None


def test_sample_centre_rule_against_the_sampling_noise_of_a_mean():
    """Independent check of the 3/sqrt(n) floor: for n uniform unit vectors E|mean|^2 = 1/n
    exactly, so the fraction of uniform samples whose mean clears 3/sqrt(n) is tiny, while a
    cap around c (mean ~ cos of its width) clears it at every n used here."""
    rng = np.random.default_rng(0)
    n, d, trials = 200, 8, 300
    means = [np.linalg.norm(unit(rng.standard_normal((n, d))).mean(0)) for _ in range(trials)]
    assert np.mean(np.square(means)) == pytest.approx(1 / n, rel=0.1)
    defined = sum(
        M.centre_angle(unit(rng.standard_normal((n, d))), unit(rng.standard_normal((n, d))))
        is not None
        for _ in range(100)
    )
    assert defined == 0
    c = e(0, d)
    cap = unit(c + 0.3 * rng.standard_normal((n, d)))
    cap2 = unit(e(1, d) + 0.3 * rng.standard_normal((n, d)))
    ang = M.centre_angle(cap, cap2)
    assert ang == pytest.approx(np.pi / 2, abs=0.1)


# ----------------------------------------------------------------- pairs


def test_pair_angles_hand_computed():
    d = 3
    phis = np.array([0.0, 0.2, 1.0, np.pi / 2, 3.0, np.pi])
    X = np.tile(e(0, d), (phis.size, 1))
    Y = np.array([np.cos(p) * e(0, d) + np.sin(p) * e(1, d) for p in phis])
    np.testing.assert_allclose(M.pair_angles(X, Y), phis, atol=1e-7)
    s = M.pair_angle_summary(X, Y)
    assert s["mean"] == pytest.approx(phis.mean(), abs=1e-7)
    assert s["max"] == pytest.approx(np.pi, abs=1e-7)
    assert s["min"] == pytest.approx(0.0, abs=1e-7)
    chord = 2 * np.sin(phis / 2)
    assert M.mean_pair_distance(X, Y) == pytest.approx(chord.mean(), rel=1e-12)
    assert M.alignment(X, Y) == pytest.approx(np.mean(chord**2), rel=1e-12)
    assert M.alignment(X, Y, alpha=1) == pytest.approx(chord.mean(), rel=1e-12)
    assert M.alignment(X, Y, alpha=3.5) == pytest.approx(np.mean(chord**3.5), rel=1e-12)


# ----------------------------------------------------------------- relative modality gap


def rmg_brute(X: np.ndarray, Y: np.ndarray) -> float:
    n = len(X)

    def dis(u, v):
        return (1 - np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v))) / 2

    dm = sum(dis(X[i], Y[i]) for i in range(n)) / n
    off = [(i, j) for i in range(n) for j in range(n) if i != j]
    di = sum(dis(X[i], X[j]) for i, j in off) / len(off)
    dt = sum(dis(Y[i], Y[j]) for i, j in off) / len(off)
    return dm / (dm + (di + dt) / 2)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rmg_closed_form_matches_double_loop(seed):
    rng = np.random.default_rng(seed)
    X = unit(rng.standard_normal((9, 5)) + [2, 0, 0, 0, 0])
    Y = unit(rng.standard_normal((9, 5)) - [0, 2, 0, 0, 0])
    value = M.relative_modality_gap(X, Y)
    assert value == pytest.approx(rmg_brute(X, Y), rel=1e-12)
    assert 0.0 <= value <= 1.0


def test_rmg_undefined_when_everything_collapses():
    X = np.tile(e(1, 4), (5, 1))
    assert M.relative_modality_gap(X, X) is None
    # matched but antipodal single directions: d_m = 1, d_I = d_T = 0 -> RMG = 1
    assert M.relative_modality_gap(X, -X) == pytest.approx(1.0)


# ----------------------------------------------------------------- uniformity


def uniformity_brute(X: np.ndarray, t: float) -> float:
    n = len(X)
    vals = [np.exp(-t * np.sum((X[i] - X[j]) ** 2)) for i in range(n) for j in range(i + 1, n)]
    return float(np.log(np.mean(vals)))


@pytest.mark.parametrize("t", [2.0, 0.7])
def test_uniformity_matches_brute_force(t):
    X = rand_unit(30, 4, 5)
    assert M.uniformity(X, t) == pytest.approx(uniformity_brute(X, t), rel=1e-12)


def test_uniformity_hand_computed_antipodal_pair():
    X = np.array([e(0, 3), -e(0, 3)])
    assert M.uniformity(X) == pytest.approx(-8.0, abs=1e-12)  # log exp(-2 * 4)


def test_uniformity_subsample_is_seeded_and_documented():
    X = rand_unit(80, 3, 6)
    got = M.uniformity(X, max_samples=20, seed=4)
    assert isinstance(got, float)
    assert got == M.uniformity(X, max_samples=20, seed=4)
    idx = np.sort(np.random.default_rng(4).choice(80, size=20, replace=False))
    assert got == pytest.approx(uniformity_brute(X[idx], 2.0), rel=1e-12)
    # with max_samples >= n it is the exact value
    assert M.uniformity(X, max_samples=80) == pytest.approx(uniformity_brute(X, 2.0), rel=1e-12)


# ----------------------------------------------------------------- spectra and dimensions


def planted_counts(counts: list[int], d: int) -> np.ndarray:
    """Rows +-e_k, counts[k] of them (half each sign): mean 0, cov eigenvalues = counts / n."""
    rows = []
    for k, c in enumerate(counts):
        rows += [e(k, d)] * (c // 2) + [-e(k, d)] * (c // 2)
    return np.array(rows)


def test_spectrum_and_effective_dimension_on_planted_eigenvalues():
    X = planted_counts([90, 8, 2], 5)
    np.testing.assert_allclose(M.singular_value_spectrum(X), [0.9, 0.08, 0.02, 0, 0], atol=1e-14)
    assert M.effective_dimension(X, 0.9) == 1
    assert M.effective_dimension(X, 0.95) == 2
    assert M.effective_dimension(X, 0.99) == 3
    assert M.effective_dimension(X, 1.0) == 3


def test_effective_dimension_of_a_planted_spectrum_and_bad_spectra():
    # cumulative shares 0.9, 0.98, 1.0 (as the planted counts above)
    lam = np.array([0.9, 0.08, 0.02, 0.0, 0.0])
    assert [M.effective_dimension_of_spectrum(lam, t) for t in (0.9, 0.95, 0.99, 1.0)] == [
        1,
        2,
        3,
        3,
    ]
    assert M.effective_dimension_of_spectrum(np.zeros(3)) == 0
    for bad in ([0.1, 0.5], [0.5, -0.1], [], [np.nan, 0.1]):
        with pytest.raises(ValueError, match="spectrum"):
            M.effective_dimension_of_spectrum(np.asarray(bad, dtype=float))
    with pytest.raises(ValueError, match="threshold"):
        M.effective_dimension_of_spectrum(lam, 1.5)


def test_spectrum_matches_numpy_covariance():
    X = rand_unit(50, 7, 8) + 0.0
    X = unit(X + [1.0, 0, 0, 0, 0, 0, 0])
    ref = np.sort(np.linalg.eigvalsh(np.cov(X.T, bias=True)))[::-1]
    np.testing.assert_allclose(M.singular_value_spectrum(X), ref, atol=1e-13)
    ref_raw = np.sort(np.linalg.eigvalsh(X.T @ X / len(X)))[::-1]
    np.testing.assert_allclose(M.singular_value_spectrum(X, centred=False), ref_raw, atol=1e-13)


@pytest.mark.parametrize("k", [1, 3, 6])
def test_effective_dimension_of_data_planted_in_k_dim_subspace(k):
    rng = np.random.default_rng(k)
    Q, _ = np.linalg.qr(rng.standard_normal((20, k)))
    X = unit(rng.standard_normal((300, k)) @ Q.T)
    assert M.effective_dimension(X) == k


def test_effective_dimension_is_bounded_by_n_minus_one():
    X = rand_unit(6, 30, 9)
    assert M.effective_dimension(X, 1.0) == 5
    assert M.effective_dimension(np.tile(e(0, 3), (4, 1))) == 0


def test_principal_subspace_threshold_counts_energy():
    X = np.array([e(0, 4)] * 90 + [e(1, 4)] * 9 + [e(2, 4)] * 1)
    assert M.principal_subspace(X, threshold=0.9).shape == (4, 1)
    assert M.principal_subspace(X, threshold=0.95).shape == (4, 2)
    assert M.principal_subspace(X, threshold=0.999).shape == (4, 3)
    Q = M.principal_subspace(X, k=2)
    np.testing.assert_allclose(Q.T @ Q, np.eye(2), atol=1e-12)
    np.testing.assert_allclose(Q @ Q.T, np.diag([1.0, 1.0, 0.0, 0.0]), atol=1e-12)


def test_principal_subspace_centring_option():
    # cone around e0 in the (e0, e1) plane: through the origin it is 2-dim, centred 1-dim
    X = coned(e(0, 3), 0.4, [e(1, 3)])
    assert M.principal_subspace(X, threshold=1.0).shape[1] == 2
    Q = M.principal_subspace(X, threshold=1.0, centred=True)
    assert Q.shape == (3, 1)
    assert abs(Q[1, 0]) == pytest.approx(1.0)


# ----------------------------------------------------------------- principal angles


@pytest.mark.parametrize("phi", [0.05, 0.6, np.pi / 2])
def test_principal_angles_planted_ascending(phi):
    rng = np.random.default_rng(11)
    d = 5
    B = np.cos(phi) * e(1, d) + np.sin(phi) * e(2, d)
    ca, cb = rng.standard_normal((2, 40, 1))
    X = unit(ca * e(0, d) + cb * e(1, d))
    ca, cb = rng.standard_normal((2, 40, 1))
    Y = unit(ca * e(0, d) + cb * B)
    got = M.modality_principal_angles(X, Y)
    np.testing.assert_allclose(got, [0.0, phi], atol=1e-7)
    assert got[0] <= got[1]


@pytest.mark.parametrize("kx,ky", [(3, 3), (5, 2), (2, 4)])
def test_principal_angles_match_scipy_reversed(kx, ky):
    X = rand_unit(60, 8, 12)
    Y = unit(rand_unit(60, 8, 13) + 0.5 * X)
    Qx = M.principal_subspace(X, k=kx)
    Qy = M.principal_subspace(Y, k=ky)
    ref = scipy.linalg.subspace_angles(Qx, Qy)[::-1]
    k = min(kx, ky)
    # same k for both when given through modality_principal_angles
    if kx == ky:
        np.testing.assert_allclose(M.modality_principal_angles(X, Y, k=k), ref, atol=1e-7)
    # orthonormal, and the SVD of the raw (uncentred) data
    np.testing.assert_allclose(Qx.T @ Qx, np.eye(kx), atol=1e-12)
    _, _, Vt = np.linalg.svd(X, full_matrices=False)
    np.testing.assert_allclose(Qx @ Qx.T, Vt[:kx].T @ Vt[:kx], atol=1e-10)
    sig = np.linalg.svd(Qx.T @ Qy, compute_uv=False)
    np.testing.assert_allclose(np.sort(np.arccos(np.clip(sig, -1, 1))), ref, atol=1e-7)
    assert ref.shape == (k,)


def test_principal_angles_default_threshold_vs_scipy():
    X = rand_unit(50, 6, 14)
    Y = unit(rand_unit(50, 6, 15) + X)
    got = M.modality_principal_angles(X, Y)
    ref = scipy.linalg.subspace_angles(M.principal_subspace(X), M.principal_subspace(Y))
    np.testing.assert_allclose(got, ref[::-1], atol=1e-7)
    assert np.all(np.diff(got) >= 0)


# ----------------------------------------------------------------- linear separability


def test_linear_separability_well_separated_caps():
    rng = np.random.default_rng(16)
    d = 10
    X = unit(4 * e(0, d) + rng.standard_normal((300, d)) * 0.5)
    Y = unit(4 * e(1, d) + rng.standard_normal((250, d)) * 0.5)
    assert M.linear_separability(X, Y) == 1.0


def test_linear_separability_negative_control_same_distribution():
    X = rand_unit(400, 16, 17)
    Y = rand_unit(400, 16, 18)
    acc = M.linear_separability(X, Y)
    assert 0.38 <= acc <= 0.62
    assert M.linear_separability(X, Y, seed=3) == M.linear_separability(X, Y, seed=3)


def newton_logistic_accuracy(X, Y, C, seed=0, test_fraction=0.3):
    """Same protocol (documented split, unpenalised intercept), fitted by Newton's method."""
    rs = np.random.default_rng(seed)
    tx, ty = round(test_fraction * len(X)), round(test_fraction * len(Y))
    px, py = rs.permutation(len(X)), rs.permutation(len(Y))
    Xtr, Xte, Ytr, Yte = X[px[tx:]], X[px[:tx]], Y[py[ty:]], Y[py[:ty]]
    Z = np.hstack([np.vstack([Xtr, Ytr]), np.ones((len(Xtr) + len(Ytr), 1))])
    s = np.r_[np.ones(len(Xtr)), -np.ones(len(Ytr))]
    d = X.shape[1]
    reg = np.diag([1.0 / C] * d + [0.0])
    w = np.zeros(d + 1)
    for _ in range(100):
        p = 1 / (1 + np.exp(s * (Z @ w)))  # sigma(-margin)
        grad = reg @ w - Z.T @ (s * p)
        H = reg + (Z * (p * (1 - p))[:, None]).T @ Z
        w -= np.linalg.solve(H, grad)
    correct = np.sum(Xte @ w[:d] + w[d] > 0) + np.sum(Yte @ w[:d] + w[d] <= 0)
    return correct / (tx + ty)


@pytest.mark.parametrize("C", [0.01, 1.0, 1e4])
def test_linear_separability_matches_an_independent_logistic_fit(C):
    # overlapping caps in d = 12 with 40 rows each: the test accuracy depends on C
    # (0.875, 0.75, 0.667 here), so a wrong penalty or a fit that stops early shows up
    rng = np.random.default_rng(0)
    d = 12
    X = unit(0.5 * e(0, d) + rng.standard_normal((40, d)))
    Y = unit(-0.5 * e(0, d) + rng.standard_normal((40, d)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no convergence warning
        got = M.linear_separability(X, Y, C=C)
    assert got == pytest.approx(newton_logistic_accuracy(X, Y, C))


# ----------------------------------------------------------------- retrieval


def brute_recall(X, Y, ks, pairs=None):
    """Ranks from a stable argsort of every score row (no ties in random data)."""
    pairs = np.arange(len(Y)) if pairs is None else np.asarray(pairs)
    S = unit(X) @ unit(Y).T
    r_i2t = []
    for i in range(len(X)):
        true = np.flatnonzero(pairs == i)
        if true.size == 0:
            continue
        order = np.argsort(-S[i], kind="stable")
        r_i2t.append(min(int(np.flatnonzero(order == j)[0]) for j in true))
    r_t2i = []
    for j in range(len(Y)):
        order = np.argsort(-S[:, j], kind="stable")
        r_t2i.append(int(np.flatnonzero(order == pairs[j])[0]))
    r_i2t, r_t2i = np.array(r_i2t), np.array(r_t2i)
    return {
        "i2t": {k: float(np.mean(r_i2t < k)) for k in ks},
        "t2i": {k: float(np.mean(r_t2i < k)) for k in ks},
    }


def test_retrieval_matches_brute_force_one_to_one():
    X, Y = noisy_pairs(60, 8, 0.35, 20)
    ks = (1, 3, 5, 10, 100)
    ref = brute_recall(X, Y, ks)
    assert 0.1 < ref["i2t"][1] < 0.95  # a non-trivial case
    assert M.retrieval_recall(X, Y, ks) == ref
    assert M.retrieval_recall(X, Y, ks, block_size=7) == ref
    assert ref["i2t"][100] == 1.0


def test_retrieval_matches_brute_force_five_captions_per_image():
    rng = np.random.default_rng(21)
    n_img, d = 30, 8
    X = rand_unit(n_img, d, 22)
    pairs = rng.permutation(np.repeat(np.arange(n_img), 5))
    Y = unit(X[pairs] + 0.5 * rng.standard_normal((pairs.size, d)))
    ks = (1, 5, 10)
    ref = brute_recall(X, Y, ks, pairs)
    assert M.retrieval_recall(X, Y, ks, pairs=pairs) == ref
    assert M.retrieval_recall(X, Y, ks, pairs=pairs, block_size=4) == ref
    # some images without captions: they are not i2t queries
    keep = pairs < 20
    ref2 = brute_recall(X, Y[keep], ks, pairs[keep])
    assert M.retrieval_recall(X, Y[keep], ks, pairs=pairs[keep], block_size=6) == ref2


def test_retrieval_float32_path_and_tolerance():
    X, Y = noisy_pairs(50, 16, 0.8, 23)
    ref = brute_recall(X, Y, (1, 5))
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    assert M.retrieval_recall(X32, Y32, (1, 5)) == ref
    # float32 rows within 1e-3 of unit norm are accepted and scored as exact cosines
    scale = (1 + 5e-4 * np.random.default_rng(0).uniform(-1, 1, (50, 1))).astype(np.float32)
    assert M.retrieval_recall(X32 * scale, Y32, (1, 5)) == ref
    # ... but not float64 rows
    with pytest.raises(ValueError, match="unit"):
        M.retrieval_recall(X * scale, Y, (1, 5))


def test_retrieval_ties_are_optimistic():
    # two identical images and their two identical captions: the partner wins the tie
    X = np.array([e(0, 3), e(0, 3), e(1, 3)])
    res = M.retrieval_recall(X, X.copy(), (1,))
    assert res == {"i2t": {1: 1.0}, "t2i": {1: 1.0}}


# ----------------------------------------------------------------- invariances


def test_metrics_are_rotation_invariant():
    X, Y = noisy_pairs(40, 6, 0.7, 24)
    Y = unit(Y + [0.8, 0, 0, 0, 0, 0])
    R, _ = np.linalg.qr(np.random.default_rng(25).standard_normal((6, 6)))
    XR, YR = X @ R.T, Y @ R.T
    for f in (
        M.centroid_distance,
        M.centre_angle,
        M.mean_pair_distance,
        M.alignment,
        M.relative_modality_gap,
    ):
        assert f(XR, YR) == pytest.approx(f(X, Y), rel=1e-10), f.__name__
    np.testing.assert_allclose(
        M.modality_principal_angles(XR, YR, k=3),
        M.modality_principal_angles(X, Y, k=3),
        atol=1e-7,
    )
    assert M.uniformity(XR) == pytest.approx(M.uniformity(X), rel=1e-10)
    assert M.effective_dimension(XR) == M.effective_dimension(X)
    assert M.retrieval_recall(XR, YR) == M.retrieval_recall(X, Y)


def test_normalize_flag_equals_prenormalised_input():
    rng = np.random.default_rng(26)
    A = rng.standard_normal((30, 5)) * rng.uniform(0.5, 3, (30, 1))
    B = rng.standard_normal((30, 5)) + 1.0
    assert M.centroid_distance(A, B, normalize=True) == M.centroid_distance(unit(A), unit(B))
    assert M.relative_modality_gap(A, B, normalize=True) == pytest.approx(
        M.relative_modality_gap(unit(A), unit(B)), rel=1e-14
    )
    assert M.uniformity(A, normalize=True) == pytest.approx(M.uniformity(unit(A)), rel=1e-14)
    assert M.retrieval_recall(A, B, normalize=True) == M.retrieval_recall(unit(A), unit(B))


# ----------------------------------------------------------------- gap report


def test_gap_report_plain_types_and_planted_values():
    d = 6
    X = coned(e(0, d), 0.7, [e(2, d), e(3, d)])
    Y = coned(e(1, d), 0.7, [e(4, d), e(5, d)])
    rep = M.gap_report(X, Y, source="configuration")  # a planted configuration of 4 rows
    expected = {
        "n_pairs", "dim", "gap", "alignment", "uniformity_x", "uniformity_y",
        "relative_modality_gap", "linear_separability", "effective_dimension_x",
        "effective_dimension_y", "principal_subspace_dim_x", "principal_subspace_dim_y",
        "principal_angles_deg",
    } | {f"recall_{r}_at_{k}" for r in ("i2t", "t2i") for k in (1, 5, 10)}  # fmt: skip
    assert set(rep) == expected
    for key, value in rep.items():
        if key == "principal_angles_deg":
            assert type(value) is list and all(type(v) is float for v in value)
        elif key == "gap":
            assert set(value) == set(KEYS)
        else:
            assert type(value) in (int, float), key
    assert rep["gap"]["centre_angle"] == pytest.approx(np.pi / 2)
    assert rep["gap"]["centroid_distance"] == pytest.approx(np.sqrt(2) * np.cos(0.7))
    assert rep["principal_angles_deg"] == sorted(rep["principal_angles_deg"])
    assert rep["n_pairs"] == 4 and rep["dim"] == d


def test_gap_report_centre_angle_none_when_undefined():
    v = e(0, 3)
    X = np.array([v, -v, e(1, 3), -e(1, 3)])
    Y = unit(X + [0, 0, 0.5])
    rep = M.gap_report(X, Y, source="configuration")
    assert rep["gap"]["centre_angle"] is None
    assert "centre undefined" in rep["gap"]["centre_undefined_reason"]
    assert rep["gap"]["centroid_distance"] > 0


# ----------------------------------------------------------------- bad input


def _bad_inputs():
    good = rand_unit(8, 4, 27)
    nan = good.copy()
    nan[2, 1] = np.nan
    inf = good.copy()
    inf[0, 0] = np.inf
    zero = good.copy()
    zero[3] = 0.0
    nonunit = good * 1.01
    return good, {
        "nan": (nan, ValueError, "NaN"),
        "inf": (inf, ValueError, "NaN or infinite"),
        "zero_row": (zero, ValueError, "zero row"),
        "one_d": (good[0], ValueError, "2-dimensional"),
        "non_unit": (nonunit, ValueError, "unit vectors"),
        "strings": (np.array([["a", "b"]]), TypeError, "real numbers"),
    }


TWO_SET = {
    "centroid_distance": M.centroid_distance,
    "gap_direction": M.gap_direction,
    "centre_angle": M.centre_angle,
    "linear_separability": M.linear_separability,
    "modality_principal_angles": M.modality_principal_angles,
    "retrieval_recall": M.retrieval_recall,
}
PAIRED = {
    "pair_cosines": M.pair_cosines,
    "pair_angles": M.pair_angles,
    "pair_angle_summary": M.pair_angle_summary,
    "mean_pair_distance": M.mean_pair_distance,
    "alignment": M.alignment,
    "relative_modality_gap": M.relative_modality_gap,
    "gap_report": M.gap_report,
}
ONE_SET = {
    "uniformity": M.uniformity,
    "effective_dimension": M.effective_dimension,
    "singular_value_spectrum": M.singular_value_spectrum,
    "principal_subspace": M.principal_subspace,
}


@pytest.mark.parametrize("kind", ["nan", "inf", "zero_row", "one_d", "non_unit", "strings"])
@pytest.mark.parametrize("name", sorted({**TWO_SET, **PAIRED, **ONE_SET}))
def test_bad_input_is_rejected_naming_the_argument(name, kind):
    good, bad = _bad_inputs()
    value, exc, msg = bad[kind]
    if name in ONE_SET:
        with pytest.raises(exc, match=msg):
            ONE_SET[name](value)
        return
    f = {**TWO_SET, **PAIRED}[name]
    with pytest.raises(exc, match=rf"\bX\b.*{msg}"):
        f(value, good)
    with pytest.raises(exc, match=rf"\bY\b.*{msg}"):
        f(good, value)


@pytest.mark.parametrize("name", sorted(PAIRED))
def test_paired_functions_reject_unpaired_shapes(name):
    X, Y = rand_unit(8, 4, 28), rand_unit(7, 4, 29)
    with pytest.raises(ValueError, match="same shape"):
        PAIRED[name](X, Y)


@pytest.mark.parametrize("name", sorted(TWO_SET))
def test_two_set_functions_reject_different_dimensions(name):
    X, Y = rand_unit(8, 4, 30), rand_unit(8, 5, 31)
    with pytest.raises(ValueError, match="dimension"):
        TWO_SET[name](X, Y)


def test_non_unit_rows_accepted_with_normalize():
    good = rand_unit(8, 4, 32)
    for f in (*TWO_SET.values(), *PAIRED.values()):
        f(good * 3.0, good * 0.5, normalize=True)
    for f in ONE_SET.values():
        f(good * 3.0, normalize=True)


def test_bad_parameters():
    X, Y = noisy_pairs(10, 4, 0.5, 33)
    with pytest.raises(ValueError, match="alpha"):
        M.alignment(X, Y, alpha=0)
    with pytest.raises(ValueError, match="t must"):
        M.uniformity(X, t=-1)
    with pytest.raises(ValueError, match="max_samples"):
        M.uniformity(X, max_samples=1)
    with pytest.raises(ValueError, match="at least 2 rows"):
        M.uniformity(X[:1])
    with pytest.raises(ValueError, match="threshold"):
        M.effective_dimension(X, 1.5)
    with pytest.raises(ValueError, match="threshold"):
        M.principal_subspace(X, threshold=0.0)
    with pytest.raises(ValueError, match="k must"):
        M.principal_subspace(X, k=0)
    with pytest.raises(ValueError, match="k must"):
        M.modality_principal_angles(X, Y, k=5)
    with pytest.raises(ValueError, match="test_fraction"):
        M.linear_separability(X, Y, test_fraction=1.0)
    with pytest.raises(ValueError, match="source"):
        M.centre_angle(X, Y, source="population")
    with pytest.raises(ValueError, match="ks"):
        M.retrieval_recall(X, Y, (0, 1))
    with pytest.raises(TypeError, match="pairs"):
        M.retrieval_recall(X, Y, pairs=np.arange(10.0))
    with pytest.raises(ValueError, match="pairs"):
        M.retrieval_recall(X, Y, pairs=np.arange(9))
    with pytest.raises(ValueError, match="pairs"):
        M.retrieval_recall(X, Y, pairs=np.arange(1, 11))
    with pytest.raises(ValueError, match="same number of rows"):
        M.retrieval_recall(X, Y[:7])
    with pytest.raises(ValueError, match="at least 2 rows"):
        M.relative_modality_gap(X[:1], Y[:1])


# ----------------------------------------------------------------- real embeddings


@pytest.mark.realdata
def test_reference_values_on_liang_clip(liang_dir):
    F = np.load(liang_dir / "features_clip.npy")
    assert F.shape == (2, 500, 512)
    X, Y = unit(F[0]), unit(F[1])
    assert round(M.centroid_distance(X, Y), 3) == 0.851
    assert round(float(np.degrees(M.centre_angle(X, Y))), 1) == 72.0
    assert round(float(M.pair_cosines(X, Y).mean()), 3) == 0.310
    rec = M.retrieval_recall(X, Y, (1,))
    assert round(rec["i2t"][1], 3) == 0.552
    assert round(rec["t2i"][1], 3) == 0.506
    # float32 input, normalised in float32, gives the same recall
    assert M.retrieval_recall(F[0], F[1], (1,), normalize=True) == rec
    assert M.effective_dimension(X) <= 499


def test_sampled_retrieval_equals_exhaustive_when_sample_is_everything_and_is_close_otherwise():
    """Sampled queries score against all candidates: with max_queries >= n it is the
    exhaustive value exactly; with fewer it is within 4 standard errors."""
    from modgap.verify.metrics import retrieval_recall

    rng = np.random.default_rng(7)
    n, d = 3000, 16
    X = rng.standard_normal((n, d))
    Y = X + 1.2 * rng.standard_normal((n, d))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    Y /= np.linalg.norm(Y, axis=1, keepdims=True)
    full = retrieval_recall(X, Y, ks=(1, 10))
    assert retrieval_recall(X, Y, ks=(1, 10), max_queries=n) == full
    m = 600
    est = retrieval_recall(X, Y, ks=(1, 10), max_queries=m, seed=3)
    for direction in ("i2t", "t2i"):
        for k in (1, 10):
            r = full[direction][k]
            se = np.sqrt(max(r * (1 - r), 1e-4) / m)
            assert abs(est[direction][k] - r) < 4 * se


def test_sampled_retrieval_with_several_captions_matches_brute_force():
    from modgap.verify.metrics import retrieval_recall

    rng = np.random.default_rng(8)
    n_img, d = 200, 8
    X = rng.standard_normal((n_img, d))
    pairs = np.repeat(np.arange(n_img), 3)
    Y = X[pairs] + 0.9 * rng.standard_normal((pairs.size, d))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    Y /= np.linalg.norm(Y, axis=1, keepdims=True)
    full = retrieval_recall(X, Y, ks=(1, 5), pairs=pairs)
    # max_queries just below the text count: every image query kept, texts subsampled.
    est = retrieval_recall(X, Y, ks=(1, 5), pairs=pairs, max_queries=599)
    assert est["i2t"] == full["i2t"]
    for k in (1, 5):
        assert abs(est["t2i"][k] - full["t2i"][k]) < 0.02
