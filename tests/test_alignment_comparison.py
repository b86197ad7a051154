import numpy as np
import pytest

from modgap.verify.alignment import Translation
from modgap.verify.alignment_comparison import compare_alignments, default_operators


def _planted(n=300, h=12, phi=0.8, seed=0):
    """Corollary 2's model: x = p + s a, y = p + s b, p in C = span(e_0..e_{h-3})."""
    rng = np.random.default_rng(seed)
    P = np.zeros((n, h))
    P[:, : h - 2] = rng.standard_normal((n, h - 2))
    P /= np.linalg.norm(P, axis=1, keepdims=True)
    s = rng.uniform(0.2, 0.6, n)[:, None]
    a = np.zeros(h)
    a[h - 2] = 1.0
    b = np.zeros(h)
    b[h - 2], b[h - 1] = np.cos(phi), np.sin(phi)
    X = np.sqrt(1 - s**2) * P + s * a
    Y = np.sqrt(1 - s**2) * P + s * b
    return X, Y


def test_rows_and_planted_answers():
    X, Y = _planted()
    rows = {r["method"]: r for r in compare_alignments(X, Y)}
    assert set(rows) == set(default_operators())
    orig, ssp, rot = rows["original"], rows["+SSP"], rows["+Hyperplane rotation"]
    # Planted: pairs are misaligned before (Corollary 2) ...
    assert orig["gap"]["pair_cosine_mean"] < 1 - 1e-3
    # ... and perfectly aligned after SSP and after rotation (Corollaries 3 and 4).
    assert ssp["gap"]["pair_cosine_mean"] == pytest.approx(1.0, abs=1e-9)
    assert ssp["d_overlap"] == 10
    assert rot["gap"]["pair_cosine_mean"] == pytest.approx(1.0, abs=1e-9)
    assert rot["recall"]["i2t"]["1"] == 1.0 and ssp["recall"]["t2i"]["1"] == 1.0
    # Translation closes the centroid distance to first order.
    assert rows["+Translation"]["gap"]["centroid_distance"] < 0.1 * orig["gap"]["centroid_distance"]


def test_holdout_uses_disjoint_rows_and_reports_errors_not_numbers():
    X, Y = _planted(n=100)
    rows = compare_alignments(X, Y, holdout=0.25, operators={"original": None, "+T": Translation()})
    assert rows[0]["n_eval"] == 25 and rows[0]["n_fit"] == 75
    # Orthogonal subspaces share nothing: SSP reports an error row, not a number.
    rng = np.random.default_rng(1)
    Z = np.hstack([rng.standard_normal((40, 5)), np.zeros((40, 5))])
    W = np.hstack([np.zeros((40, 5)), rng.standard_normal((40, 5))])
    rows = compare_alignments(Z, W, normalize=True)
    ssp = next(r for r in rows if r["method"] == "+SSP")
    assert "error" in ssp and "gap" not in ssp


def test_ssp_overlap_from_dimension_counting_does_not_align_unpaired_data():
    """Negative control: 40 random rows in R^50 give 99% subspaces of ~35 dims each, which
    must intersect in >= 2*35 - 50 dims; SSP then 'finds' a shared space that carries no
    pairing, and alignment stays at chance."""
    rng = np.random.default_rng(1)
    rows = compare_alignments(
        rng.standard_normal((40, 50)), rng.standard_normal((40, 50)), normalize=True
    )
    ssp = next(r for r in rows if r["method"] == "+SSP")
    assert ssp["d_overlap"] >= 15
    assert abs(ssp["gap"]["pair_cosine_mean"]) < 0.2


def test_bad_input():
    with pytest.raises(ValueError, match="holdout must lie in"):
        compare_alignments(*_planted(n=20), holdout=1.5)
    with pytest.raises(ValueError, match="X and Y must have the same shape"):
        compare_alignments(np.eye(5), np.eye(6)[:5, :5][:4])
