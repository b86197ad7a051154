import numpy as np
import pytest

from modgap.verify.similarity import cosine_distributions, joint_pca_map


def _unit(rng, n, h):
    X = rng.standard_normal((n, h))
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def test_cosine_distributions_exhaustive_matches_brute_force():
    rng = np.random.default_rng(0)
    X, Y = _unit(rng, 30, 5), _unit(rng, 30, 5)
    d = cosine_distributions(X, Y)
    np.testing.assert_allclose(d["paired"], np.diag(X @ Y.T))
    G = X @ X.T
    brute = sorted(G[i, j] for i in range(30) for j in range(i + 1, 30))
    np.testing.assert_allclose(np.sort(d["image_image"]), brute)
    assert d["text_text"].size == 30 * 29 // 2


def test_cosine_distributions_subsample_excludes_diagonal():
    rng = np.random.default_rng(1)
    X = _unit(rng, 50, 4)
    d = cosine_distributions(X, X, max_pairs=500, seed=3)
    assert d["image_image"].size == 500
    assert np.all(d["image_image"] < 1 - 1e-12)  # never a row with itself
    np.testing.assert_allclose(d["paired"], 1.0)


def test_sampled_cosines_gathered_in_blocks_are_the_seeded_pairs(monkeypatch):
    """The blocked gather (blocks of 7 pairs, a ragged last block) gives exactly the dot
    products of the seeded ordered pairs, redrawn here with the documented rule."""
    from modgap.verify import similarity

    monkeypatch.setattr(similarity, "_PAIR_BLOCK", 7)
    rng = np.random.default_rng(4)
    X = _unit(rng, 12, 3)
    d = cosine_distributions(X, X, max_pairs=45, seed=5)
    draw = np.random.default_rng(5)
    i = draw.integers(0, 12, size=45)
    j = (i + draw.integers(1, 12, size=45)) % 12
    brute = [float(X[a] @ X[b]) for a, b in zip(i, j, strict=True)]
    np.testing.assert_allclose(d["image_image"], brute, rtol=0, atol=1e-15)
    assert np.all(i != j) and d["image_image"].size == 45


def test_joint_pca_separates_a_planted_gap():
    rng = np.random.default_rng(2)
    g = np.zeros(6)
    g[0] = 3.0
    X = _unit(rng, 200, 6) * 0.3 + g
    Y = _unit(rng, 200, 6) * 0.3 - g
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    Y /= np.linalg.norm(Y, axis=1, keepdims=True)
    px, py, explained = joint_pca_map(X, Y)
    assert px.shape == (200, 2) and explained[0] > 0.5
    assert np.sign(px[:, 0].mean()) != np.sign(py[:, 0].mean())
    assert abs(px[:, 0].mean() - py[:, 0].mean()) > 1.5


def test_bad_input():
    with pytest.raises(ValueError, match="X and Y must have the same shape"):
        cosine_distributions(np.eye(3), np.eye(4)[:3])
    with pytest.raises(ValueError, match="X rows must be unit"):
        joint_pca_map(2 * np.eye(3), np.eye(3))
    with pytest.raises(ValueError, match="n_components must satisfy"):
        joint_pca_map(np.eye(3), np.eye(3), n_components=4)
