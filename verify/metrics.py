"""Modality-gap measures on paired embeddings: one canonical definition each.

Inputs ``X`` (first modality, e.g. images) and ``Y`` (second modality, e.g. texts) are
``(n, d)`` arrays whose rows are unit vectors; row ``i`` of ``X`` is paired with row ``i``
of ``Y`` wherever pairing matters. Every function validates its input with
:mod:`verify._validation`: rows must already be unit vectors (within ``1e-6``; ``1e-3``
for float32 input to :func:`retrieval_recall`) unless ``normalize=True`` is passed, in which
case each row is divided by its norm. NaN/inf entries, zero rows, 1-D input and mismatched
shapes are errors, never silent numbers.

Quantities that are undefined on the given data (the centre angle when a modality mean is
(near) zero, the gap direction when the two means coincide, the relative modality gap when
every distance vanishes) are returned as ``None``, never as a number (docs/theory.md §2).

Sources (see ``docs/theory.md §6``):

- seed paper: L. Yi, R. Douady, C. Chen, "Decipher the Modality Gap in Multimodal
  Contrastive Learning", arXiv 2510.03268 (section 2: Delta_theta; section 4: the post-hoc
  SSP uses principal subspaces at 99% cumulative variance and their principal angles);
- Liang et al. 2022, "Mind the Gap" (NeurIPS): centroid distance, gap direction;
- Schrodi et al. 2025, "Two Effects, One Trigger" (ICLR): mean pair distance (L2I),
  relative modality gap (RMG);
- Fahim et al. 2024, "It's Not a Modality Gap": linear separability;
- Wang & Isola 2020, "Understanding Contrastive Representation Learning through Alignment
  and Uniformity on the Hypersphere" (ICML): alignment, uniformity;
- Zhang et al. (C3, "Connect, Collapse, Corrupt"): effective dimension;
- Jing et al. 2022, "Understanding Dimensional Collapse in Contrastive Self-supervised
  Learning" (ICLR, DirectCLR): singular-value spectrum of the embedding covariance;
- Liang / Schrodi / Cai et al.: cross-modal retrieval recall@K.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np
from scipy import optimize, special

from modgap.verify._validation import (
    as_array,
    as_unit_rows,
    check_int_in_range,
    check_paired,
    check_positive,
    row_norms,
)
from modgap.verify.centres import CentreSource, centre_angle_from_means
from modgap.verify.geometry import principal_angles

from ._validation import InputError

__all__ = [
    "centroid_distance",
    "gap_direction",
    "centre_angle",
    "pair_cosines",
    "pair_angles",
    "pair_angle_summary",
    "mean_pair_distance",
    "alignment",
    "uniformity",
    "relative_modality_gap",
    "linear_separability",
    "effective_dimension",
    "effective_dimension_of_spectrum",
    "singular_value_spectrum",
    "principal_subspace",
    "modality_principal_angles",
    "retrieval_recall",
    "sample_queries",
    "gap_report",
]

# Relative slack when comparing a cumulative energy with ``threshold * total``, so that
# threshold=1.0 on exactly rank-k data returns k despite rounding in the trailing
# (numerically zero) eigenvalues.
_ENERGY_RTOL = 1e-12
# Entries of one score / Gram block processed at once (128 MB in float32).
_BLOCK_ENTRIES = 1 << 25


# --------------------------------------------------------------------------- helpers


def _two(
    X: Any, Y: Any, *, normalize: bool, paired: bool, min_rows: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Validate two modalities: unit rows, same ambient dimension, same shape if paired."""
    Xa = as_unit_rows(X, "X", normalize=normalize, min_rows=min_rows)
    Ya = as_unit_rows(Y, "Y", normalize=normalize, min_rows=min_rows)
    if paired:
        check_paired(Xa, Ya)
    elif Xa.shape[1] != Ya.shape[1]:
        raise InputError(
            f"X and Y must live in the same ambient dimension, got d = {Xa.shape[1]} "
            f"and d = {Ya.shape[1]}"
        )
    return Xa, Ya


def _check_fraction(value: Any, name: str, *, closed_right: bool) -> float:
    """A number in (0, 1] (closed_right) or in (0, 1)."""
    out = check_positive(value, name)
    if out > 1.0 or (not closed_right and out >= 1.0):
        bracket = "(0, 1]" if closed_right else "(0, 1)"
        raise InputError(f"{name} must lie in {bracket}, got {out}")
    return out


def _energy_count(energy: np.ndarray, threshold: float) -> int:
    """Smallest k >= 1 with sum(energy[:k]) >= threshold * sum(energy) (energy descending)."""
    cum = np.cumsum(energy)
    total = cum[-1]
    k = int(np.searchsorted(cum, threshold * total * (1.0 - _ENERGY_RTOL), side="left")) + 1
    return min(k, energy.size)


# --------------------------------------------------------------------------- centres


def centroid_distance(X: Any, Y: Any, *, normalize: bool = False) -> float:
    """Distance between the two modality means: ``|mean_i x_i - mean_j y_j|``.

    Source: Liang et al. 2022 ("Mind the Gap"), also used by Schrodi et al. 2025 (L2M),
    Fahim et al. 2024. The two sets need not have the same number of rows (no pairing),
    only the same ambient dimension.
    """
    Xa, Ya = _two(X, Y, normalize=normalize, paired=False)
    return float(np.linalg.norm(Xa.mean(axis=0) - Ya.mean(axis=0)))


def gap_direction(
    X: Any, Y: Any, *, tol: float = 1e-12, normalize: bool = False
) -> np.ndarray | None:
    """Unit gap vector ``g = (mean x - mean y) / |mean x - mean y|``, shape ``(d,)``.

    Source: Liang et al. 2022 (the direction along which their translation operator moves
    the embeddings). Returns ``None`` (undefined) when the centroid distance is below
    ``tol``.
    """
    tol = check_positive(tol, "tol")
    Xa, Ya = _two(X, Y, normalize=normalize, paired=False)
    diff = Xa.mean(axis=0) - Ya.mean(axis=0)
    norm = float(np.linalg.norm(diff))
    if norm < tol:
        return None
    return diff / norm


def centre_angle(
    X: Any, Y: Any, *, source: CentreSource = "sample", normalize: bool = False
) -> float | None:
    """Angle between the two modality centres, in radians (the seed paper's Delta_theta).

    ``Delta_theta = angle(m_x / |m_x|, m_y / |m_y|)`` with ``m_x, m_y`` the means of the unit
    rows (the centre is the normalised mean), computed stably as 2 atan2(|c_x - c_y|,
    |c_x + c_y|). Source: Yi, Douady & Chen, arXiv 2510.03268, section 2.

    Returns ``None`` -- undefined, not a number -- when either mean is below the centre
    rule's floor for its number of rows and ``source`` (:mod:`modgap.verify.centres`:
    "sample" rows need |mean| >= 3 / sqrt(n + 9); "configuration" rows, e.g. a solver's optimum,
    |mean| >= 1e-3). :func:`modgap.verify.observables.gap_observables` also gives the reason.
    """
    Xa, Ya = _two(X, Y, normalize=normalize, paired=False)
    return centre_angle_from_means(
        Xa.mean(axis=0), Ya.mean(axis=0), Xa.shape[0], Ya.shape[0], source=source
    ).angle


# --------------------------------------------------------------------------- pairs


def pair_cosines(X: Any, Y: Any, *, normalize: bool = False) -> np.ndarray:
    """Cosine of each pair, ``x_i . y_i`` (shape ``(n,)``); 1 means perfect alignment.

    Source: seed paper, section 2 ("alignment of a pair"); the mean paired cosine is the
    quantity Liang et al. 2022 histogram.
    """
    Xa, Ya = _two(X, Y, normalize=normalize, paired=True)
    return np.einsum("ij,ij->i", Xa, Ya)


def pair_angles(X: Any, Y: Any, *, normalize: bool = False) -> np.ndarray:
    """Angle of each pair in radians, shape ``(n,)``: ``theta_i = arccos(x_i . y_i)``,
    computed as ``2 atan2(|u_i - v_i|, |u_i + v_i|)`` with ``u, v`` the rows rescaled to
    unit norm in float64 (Kahan's formula: accurate for every angle, whereas ``arccos`` of a
    cosine rounded near 1 loses half the digits, e.g. 0.03 deg for identical float32 rows).

    Source: seed paper, section 2/3 (Corollary 2: pairs are not perfectly aligned when
    phi > 0); docs/theory.md §5 asks for their mean and maximum.
    """
    Xa, Ya = _two(X, Y, normalize=normalize, paired=True)
    U = Xa / row_norms(Xa)[:, None]
    V = Ya / row_norms(Ya)[:, None]
    return 2.0 * np.arctan2(row_norms(U - V), row_norms(U + V))


def pair_angle_summary(X: Any, Y: Any, *, normalize: bool = False) -> dict[str, float]:
    """``{"mean", "max", "min"}`` of :func:`pair_angles`, in radians (plain floats)."""
    ang = pair_angles(X, Y, normalize=normalize)
    return {"mean": float(ang.mean()), "max": float(ang.max()), "min": float(ang.min())}


def mean_pair_distance(X: Any, Y: Any, *, normalize: bool = False) -> float:
    """Mean Euclidean distance between paired rows: ``(1/n) sum_i |x_i - y_i|``.

    Source: Schrodi et al. 2025 (their L2I gap measure).
    """
    Xa, Ya = _two(X, Y, normalize=normalize, paired=True)
    return float(np.linalg.norm(Xa - Ya, axis=1).mean())


def alignment(X: Any, Y: Any, alpha: float = 2, *, normalize: bool = False) -> float:
    """Alignment loss ``(1/n) sum_i |x_i - y_i|^alpha`` (lower is better aligned).

    Source: Wang & Isola 2020, "Understanding Contrastive Representation Learning through
    Alignment and Uniformity on the Hypersphere" (default alpha = 2).
    """
    alpha = check_positive(alpha, "alpha")
    Xa, Ya = _two(X, Y, normalize=normalize, paired=True)
    return float(np.mean(np.linalg.norm(Xa - Ya, axis=1) ** alpha))


# --------------------------------------------------------------------------- one modality


def uniformity(
    X: Any,
    t: float = 2,
    *,
    max_samples: int = 5000,
    seed: int = 0,
    normalize: bool = False,
) -> float:
    """Uniformity ``log(mean_{i<j} exp(-t |x_i - x_j|^2))`` of one modality (lower = more uniform).

    Source: Wang & Isola 2020 (default t = 2). Computed in log space
    (``logsumexp``) over blocks of the upper triangle, so that no ``n x n`` matrix is
    built at once.

    Subsampling: when ``n > max_samples`` the mean runs over the pairs of a random subset
    of ``max_samples`` rows, drawn without replacement with ``numpy.random.default_rng(seed)``
    (an unbiased estimate of the full value; exact when ``n <= max_samples``). The result
    is a float either way.
    """
    t = check_positive(t, "t")
    max_samples = check_int_in_range(max_samples, "max_samples", 2, np.iinfo(np.int64).max)
    Xa = as_unit_rows(X, "X", normalize=normalize, min_rows=2)
    n = Xa.shape[0]
    if n > max_samples:
        idx = np.sort(np.random.default_rng(seed).choice(n, size=max_samples, replace=False))
        Xa = Xa[idx]
        n = max_samples
    sq = np.einsum("ij,ij->i", Xa, Xa)
    block = max(1, min(n, _BLOCK_ENTRIES // (8 * n)))
    parts = []
    for lo in range(0, n - 1, block):
        hi = min(lo + block, n - 1)
        # rows lo..hi-1 against columns j > i (columns lo+1 .. n-1)
        G = Xa[lo:hi] @ Xa[lo + 1 :].T
        d2 = np.maximum(sq[lo:hi, None] + sq[None, lo + 1 :] - 2.0 * G, 0.0)
        rows = np.arange(lo, hi)[:, None]
        cols = np.arange(lo + 1, n)[None, :]
        parts.append(special.logsumexp(-t * d2[cols > rows]))
    n_pairs = n * (n - 1) / 2.0
    return float(special.logsumexp(parts) - np.log(n_pairs))


def singular_value_spectrum(X: Any, *, centred: bool = True, normalize: bool = False) -> np.ndarray:
    """Singular values of the ``d x d`` covariance of the rows, descending, shape ``(d,)``.

    ``C = (1/n) sum_i (x_i - m)(x_i - m)^T`` (``m`` = mean row, or 0 when
    ``centred=False``, giving the second-moment matrix). C is symmetric PSD, so its
    singular values are its eigenvalues, ``s_k^2 / n`` for the singular values ``s_k`` of
    the (centred) data matrix; values beyond ``min(n, d)`` are exactly 0.
    Source: Jing et al. 2022 (DirectCLR), who plot the log of this spectrum to show
    dimensional collapse; the seed paper's Figure 2 shows the same for CLIP on MSCOCO.
    """
    Xa = as_unit_rows(X, "X", normalize=normalize)
    n, d = Xa.shape
    Z = Xa - Xa.mean(axis=0) if centred else Xa
    s = np.linalg.svd(Z, compute_uv=False)
    out = np.zeros(d)
    out[: s.size] = np.sort(s**2 / n)[::-1]
    return out


def effective_dimension(X: Any, threshold: float = 0.99, *, normalize: bool = False) -> int:
    """Smallest ``k`` with ``sum_{i<=k} lambda_i >= threshold * sum_i lambda_i``.

    ``lambda_1 >= lambda_2 >= ...`` are the eigenvalues of the (centred) covariance of the
    rows (:func:`singular_value_spectrum`). Source: Zhang et al. (C3, "Connect, Collapse,
    Corrupt"), threshold 99%.

    The centred covariance of n rows has rank at most ``n - 1``, so the result is bounded by
    ``min(n - 1, d)``: 500 pairs cannot show more than 499 dimensions. Returns 0 when all
    rows coincide (no variance at all). Needs ``n >= 2``.
    """
    threshold = _check_fraction(threshold, "threshold", closed_right=True)
    Xa = as_unit_rows(X, "X", normalize=normalize, min_rows=2)
    return effective_dimension_of_spectrum(singular_value_spectrum(Xa, centred=True), threshold)


def effective_dimension_of_spectrum(spectrum: Any, threshold: float = 0.99) -> int:
    """:func:`effective_dimension` from an already computed covariance spectrum
    (:func:`singular_value_spectrum`, descending, non-negative): the smallest ``k`` with
    ``sum_{i<=k} lambda_i >= threshold * sum_i lambda_i``, 0 when ``lambda_1 = 0``. Source:
    Zhang et al. (C3), as :func:`effective_dimension`."""
    threshold = _check_fraction(threshold, "threshold", closed_right=True)
    lam = as_array(spectrum, "spectrum", ndim=1)
    if lam.size == 0 or np.any(np.diff(lam) > 0) or lam[-1] < 0:
        raise InputError("spectrum must be a non-empty, descending, non-negative vector")
    if lam[0] <= 0.0:
        return 0
    return _energy_count(lam, threshold)


# --------------------------------------------------------------------------- subspaces


def principal_subspace(
    X: Any,
    *,
    threshold: float = 0.99,
    k: int | None = None,
    centred: bool = False,
    normalize: bool = False,
) -> np.ndarray:
    """Orthonormal basis ``(d, k)`` of the top right singular vectors of the data matrix.

    ``X = U S V^T``; the basis is ``V[:, :k]`` with ``k`` the smallest count whose
    cumulative energy ``sum_{i<=k} s_i^2`` reaches ``threshold * sum_i s_i^2`` (or the given
    ``k``, which then overrides ``threshold``). Source: seed paper, appendix algorithm for
    SSP (docs/theory.md §4: right singular vectors up to 99% cumulative variance).

    Centring: by default the SVD is NOT centred (``centred=False``), i.e. the subspace
    passes through the origin, matching the hyperplanes through the origin of the seed
    paper's subspace constraint (docs/theory.md §2); the paper does not say which it uses.
    ``centred=True`` subtracts the mean row first.
    """
    threshold = _check_fraction(threshold, "threshold", closed_right=True)
    Xa = as_unit_rows(X, "X", normalize=normalize)
    n, d = Xa.shape
    Z = Xa - Xa.mean(axis=0) if centred else Xa
    _, s, Vt = np.linalg.svd(Z, full_matrices=False)
    if k is not None:
        k = check_int_in_range(k, "k", 1, min(n, d))
    else:
        energy = s**2
        if energy[0] <= 0.0:
            raise InputError(
                "X has no variance around its mean (all rows equal): "
                "the centred principal subspace is undefined"
            )
        k = _energy_count(energy, threshold)
    return np.ascontiguousarray(Vt[:k].T)


def modality_principal_angles(
    X: Any,
    Y: Any,
    *,
    threshold: float = 0.99,
    k: int | None = None,
    centred: bool = False,
    normalize: bool = False,
) -> np.ndarray:
    """Principal angles between the principal subspaces of the two modalities, ASCENDING.

    ``theta_i = arccos(clip(sigma_i(Q_x^T Q_y), -1, 1))`` in radians, smallest first, with
    ``Q_x, Q_y`` from :func:`principal_subspace` (same ``threshold`` / ``k`` / ``centred``
    for both; not centred by default, see there). There are ``min(k_x, k_y)`` angles;
    ``theta_1`` is the seed paper's phi (smallest angle between the subspaces; docs/theory.md
    sections 2 and 4, Figure 2). Note that ``scipy.linalg.subspace_angles`` returns the
    same angles in DESCENDING order. Computed by :func:`verify.geometry.principal_angles`,
    which combines the cosine and sine formulas, so small angles are resolved well below
    the ~1e-8 rad of arccos of a singular value close to 1.
    """
    Xa, Ya = _two(X, Y, normalize=normalize, paired=False)
    Qx = principal_subspace(Xa, threshold=threshold, k=k, centred=centred)
    Qy = principal_subspace(Ya, threshold=threshold, k=k, centred=centred)
    return principal_angles(Qx, Qy)


# --------------------------------------------------------------------------- gap ratios


def relative_modality_gap(X: Any, Y: Any, *, normalize: bool = False) -> float | None:
    """Relative modality gap ``RMG = d_m / (d_m + (d_I + d_T) / 2)``.

    With the dissimilarity ``d(u, v) = (1 - cos(u, v)) / 2``: ``d_m`` is its mean over the
    matched pairs ``(x_i, y_i)``, ``d_I`` (``d_T``) its mean over the off-diagonal pairs
    ``(x_i, x_j)`` (``(y_i, y_j)``), ``i != j``. Source: Schrodi et al. 2025 ("Two Effects,
    One Trigger"). Computed in O(n d) with the closed form
    ``sum_{i != j} x_i . x_j = |sum_i x_i|^2 - sum_i |x_i|^2``.

    Returns a value in [0, 1] (0 when ``X == Y``), or ``None`` when the denominator
    vanishes (every row of both modalities is the same vector: 0/0). Needs ``n >= 2``.
    """
    Xa, Ya = _two(X, Y, normalize=normalize, paired=True, min_rows=2)
    n = Xa.shape[0]
    d_m = float(np.mean((1.0 - np.einsum("ij,ij->i", Xa, Ya)) / 2.0))

    def _within(Z: np.ndarray) -> float:
        s = Z.sum(axis=0)
        off = float(s @ s) - float(np.einsum("ij,ij->", Z, Z))
        return (1.0 - off / (n * (n - 1))) / 2.0

    denom = d_m + (_within(Xa) + _within(Ya)) / 2.0
    if denom <= 1e-15:
        return None
    return float(d_m / denom)


def linear_separability(
    X: Any,
    Y: Any,
    *,
    seed: int = 0,
    test_fraction: float = 0.3,
    C: float = 1.0,
    normalize: bool = False,
) -> float:
    """Held-out accuracy of a logistic regression telling rows of X from rows of Y.

    Source: Fahim et al. 2024 ("It's Not a Modality Gap"): the modality gap as the linear
    separability of image from text embeddings. 1.0 = perfectly separable, ~0.5 = the two
    modalities are indistinguishable by a hyperplane.

    Protocol: each modality is split separately at random (``numpy.random.default_rng(seed)``)
    into ``round(test_fraction * n)`` test rows (at least 1) and the rest for training.
    Fit: minimise ``0.5 |w|^2 + C sum_i log(1 + exp(-s_i (w . z_i + b)))`` (``s_i = +1``
    for X, ``-1`` for Y; intercept ``b`` not penalised; the objective of scikit-learn's
    ``LogisticRegression(C=1)``) with L-BFGS (``scipy.optimize.minimize``). Prediction:
    X when ``w . z + b > 0``. Returns the accuracy on the pooled test rows (a
    RuntimeWarning is issued if L-BFGS reports no convergence). Needs
    at least 2 rows per modality; X and Y need not have the same number of rows.
    """
    test_fraction = _check_fraction(test_fraction, "test_fraction", closed_right=False)
    C = check_positive(C, "C")
    Xa, Ya = _two(X, Y, normalize=normalize, paired=False, min_rows=2)
    rng = np.random.default_rng(seed)

    def _split(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        m = Z.shape[0]
        n_test = min(max(1, int(round(test_fraction * m))), m - 1)
        perm = rng.permutation(m)
        return Z[perm[n_test:]], Z[perm[:n_test]]

    Xtr, Xte = _split(Xa)
    Ytr, Yte = _split(Ya)
    Z = np.vstack([Xtr, Ytr])
    s = np.concatenate([np.ones(len(Xtr)), -np.ones(len(Ytr))])
    d = Z.shape[1]

    def fun(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:d], theta[d]
        margin = s * (Z @ w + b)
        loss = 0.5 * float(w @ w) + C * float(np.sum(np.logaddexp(0.0, -margin)))
        g = -C * s * special.expit(-margin)
        grad = np.empty(d + 1)
        grad[:d] = w + Z.T @ g
        grad[d] = g.sum()
        return loss, grad

    res = optimize.minimize(
        fun, np.zeros(d + 1), jac=True, method="L-BFGS-B", options={"maxiter": 2000}
    )
    if not res.success:
        warnings.warn(
            f"linear_separability: L-BFGS did not converge ({res.message}); "
            "the accuracy is that of the last iterate",
            RuntimeWarning,
            stacklevel=2,
        )
    w, b = res.x[:d], res.x[d]
    correct = np.count_nonzero(Xte @ w + b > 0) + np.count_nonzero(Yte @ w + b <= 0)
    return float(correct / (len(Xte) + len(Yte)))


# --------------------------------------------------------------------------- retrieval


def _retrieval_dtype(value: Any) -> type:
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # torch tensor
        value = value.detach().cpu().numpy()
    dt = getattr(value, "dtype", None)
    if dt is None:
        dt = np.asarray(value).dtype
    return np.float32 if dt in (np.float16, np.float32) else np.float64


def _unit_to_precision(A: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(A, axis=1, keepdims=True)
    if float(np.max(np.abs(norms - 1.0))) <= 8 * np.finfo(A.dtype).eps:
        return A
    return A / norms


def sample_queries(
    p_idx: np.ndarray, n_img: int, max_queries: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """The seeded query sample of :func:`retrieval_recall` (sorted indices).

    Image queries: the images with at least one caption (``p_idx`` = image of each text), a
    uniform sample of ``max_queries`` of them without replacement when there are more;
    text queries likewise from all texts; one ``numpy.random.default_rng(seed)`` draws
    images first, then texts (verify.streaming draws the same queries from disk).
    """
    rng = np.random.default_rng(seed)
    n_txt = p_idx.size
    has_caption = np.zeros(n_img, dtype=bool)
    has_caption[p_idx] = True
    img_q = np.flatnonzero(has_caption)
    if img_q.size > max_queries:
        img_q = np.sort(rng.choice(img_q, size=max_queries, replace=False))
    txt_q = np.arange(n_txt)
    if n_txt > max_queries:
        txt_q = np.sort(rng.choice(n_txt, size=max_queries, replace=False))
    return img_q, txt_q


def _unique_rows(A: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(first, inverse, counts)`` of the bitwise-identical rows of A.

    ``A[first]`` are the distinct rows, ``A[first[inverse[i]]]`` equals row i bitwise and
    ``counts`` says how often each occurs. Rows are grouped by a hash of their bytes and
    the grouping is verified exactly (np.unique over the raw rows on a hash collision).
    """
    n = A.shape[0]
    h = np.fromiter((hash(r.tobytes()) for r in A), dtype=np.int64, count=n)
    _, first, inverse, counts = np.unique(
        h, return_index=True, return_inverse=True, return_counts=True
    )
    rep = first[inverse]
    dup = np.flatnonzero(rep != np.arange(n))
    if dup.size and not np.array_equal(A[dup], A[rep[dup]]):  # a hash collision
        rows = np.ascontiguousarray(A).view(np.dtype((np.void, A.dtype.itemsize * A.shape[1])))
        _, first, inverse, counts = np.unique(
            rows.ravel(), return_index=True, return_inverse=True, return_counts=True
        )
    return first, inverse.reshape(-1), counts


def _ranks(
    Q: np.ndarray,
    C: np.ndarray,
    counts: np.ndarray,
    targets: list[np.ndarray],
    block: int,
) -> np.ndarray:
    """Rank of each query's true partner among the candidates (ties: the partner wins).

    ``Q`` (q, d) queries, ``C`` (c, d) DISTINCT candidate rows occurring ``counts`` times,
    ``targets[i]`` the candidate columns of query i's true partner(s). Scores come from ONE
    expression, the block product ``Q_b C^T``: the partner's score is an entry of the very
    row it is compared with, so identical candidates (one column) tie exactly. rank_i =
    sum of counts[c] over candidates c with S_ic > max_{t in targets[i]} S_it.
    """
    ranks = np.empty(Q.shape[0], dtype=np.int64)
    weighted = bool(np.any(counts != 1))
    for lo in range(0, Q.shape[0], block):
        S = Q[lo : lo + block] @ C.T
        rows = np.concatenate(
            [np.full(t.size, i, dtype=np.int64) for i, t in enumerate(targets[lo : lo + block])]
        )
        cols = np.concatenate(targets[lo : lo + block])
        best = np.full(S.shape[0], -np.inf, dtype=S.dtype)
        np.maximum.at(best, rows, S[rows, cols])
        above = S > best[:, None]
        ranks[lo : lo + block] = above @ counts if weighted else np.count_nonzero(above, axis=1)
    return ranks


def retrieval_recall(
    X: Any,
    Y: Any,
    ks: Iterable[int] = (1, 5, 10),
    *,
    pairs: Any = None,
    normalize: bool = False,
    block_size: int | None = None,
    max_queries: int | None = None,
    seed: int = 0,
) -> dict[str, dict[int, float]]:
    """Cross-modal retrieval recall@K by cosine: image->text ``"i2t"``, text->image ``"t2i"``.

    ``X`` is ``(n_img, d)``, ``Y`` is ``(n_txt, d)``; ``pairs[j]`` is the image index of text
    row ``j`` (default ``arange``, which needs ``n_img == n_txt``). Several captions per
    image are allowed: an image query is a hit at K if ANY of its true captions ranks in the
    top K; a text query is a hit if its image ranks in the top K. Image rows are not
    repeated per caption. Images without any caption are not used as i2t queries (they
    still compete as t2i candidates). Source: Liang et al. 2022, Schrodi et al. 2025,
    Cai et al.; recall@K = fraction of queries whose true partner ranks in the top K.

    Ranks and ties (one expression, one rule): the rank of the true partner is the number
    of candidates with a score STRICTLY greater than the partner's (for i2t: than the best
    true caption's), and a hit at K means rank < K: the partner wins every tie. Every
    score, the partner's included, is an entry of the same block product ``Q_b C^T`` row
    it is compared in, and bitwise-identical candidate rows are merged into one column
    (counted with their multiplicity), so identical candidates tie exactly instead of by
    the luck of rounding (50 identical image rows: text->image R@1 = 1.0). Duplicated rows
    raise a RuntimeWarning, since the optimistic rule then flatters the recall. Distinct
    rows whose scores are equal only mathematically can still be split by rounding.

    Scale: each direction is one pass over blocks of query rows against the distinct
    candidates (O(n_img n_txt d) work per direction, O(block * n) memory, about 128 MB per
    block). For n = 100k, d = 1024 that is 2 x 2e13 flops, several minutes on 2 CPU cores.
    float32 input (both arrays float32/float16) is kept in float32 and its rows must be
    unit within 1e-3; otherwise everything is float64 with tolerance 1e-6.
    Rows accepted within that tolerance are rescaled to unit norm before scoring, so the
    scores are exact cosines (on the Liang et al. CLIP file, raw float32 dot products with
    row norms off by ~3e-4 change text->image R@5 from 0.766 to 0.764).

    Sampled queries: with ``max_queries`` set and more queries than that in a direction,
    a seeded uniform sample of ``max_queries`` queries (without replacement) is scored
    against ALL candidates; the recall is then an unbiased estimate with standard error
    sqrt(r (1 - r) / max_queries) <= 0.5 / sqrt(max_queries). Work drops to
    O(max_queries (n_img + n_txt) d): 100k x 1024 with 5000 queries per direction is about
    2e12 flops instead of 2e13.

    Returns ``{"i2t": {K: recall}, "t2i": {K: recall}}`` with the K values as given.
    """
    dtype = (
        np.float32
        if _retrieval_dtype(X) is np.float32 and _retrieval_dtype(Y) is np.float32
        else np.float64
    )
    atol = 1e-3 if dtype is np.float32 else 1e-6
    Xa = as_unit_rows(X, "X", normalize=normalize, atol=atol, dtype=dtype)
    Ya = as_unit_rows(Y, "Y", normalize=normalize, atol=atol, dtype=dtype)
    if not normalize:
        # rows accepted within ``atol`` are rescaled so that the scores are exact cosines
        # (with float32 tolerance 1e-3 raw dot products reorder close candidates); rows
        # already unit to a few ulps are used as they are, saving a copy
        Xa, Ya = _unit_to_precision(Xa), _unit_to_precision(Ya)
    n_img, d = Xa.shape
    n_txt = Ya.shape[0]
    if Ya.shape[1] != d:
        raise InputError(
            f"X and Y must live in the same ambient dimension, got d = {d} and d = {Ya.shape[1]}"
        )
    if isinstance(ks, (int, np.integer)):
        ks = (ks,)
    ks_list = [check_int_in_range(k, "ks", 1, np.iinfo(np.int64).max) for k in ks]
    if not ks_list:
        raise InputError("ks must name at least one K")
    if pairs is None:
        if n_img != n_txt:
            raise InputError(
                f"without pairs, X and Y must have the same number of rows (row i pairs row i),"
                f" got {n_img} and {n_txt}"
            )
        p_idx = np.arange(n_txt)
    else:
        p_arr = np.asarray(pairs)
        if p_arr.dtype == np.bool_ or not np.issubdtype(p_arr.dtype, np.integer):
            raise InputError(f"pairs must be an array of integers, got dtype {p_arr.dtype}")
        if p_arr.shape != (n_txt,):
            raise InputError(
                f"pairs must have shape ({n_txt},) (one image index per row of Y), "
                f"got {p_arr.shape}"
            )
        if p_arr.min() < 0 or p_arr.max() >= n_img:
            raise InputError(f"pairs must index rows of X, i.e. lie in [0, {n_img - 1}]")
        p_idx = p_arr.astype(np.int64)
    if block_size is not None:
        block_size = check_int_in_range(block_size, "block_size", 1, np.iinfo(np.int64).max)
    # queries: every image with a caption (i2t) and every text (t2i), or a seeded sample
    if max_queries is not None:
        max_queries = check_int_in_range(max_queries, "max_queries", 1, np.iinfo(np.int64).max)
    img_q, txt_q = sample_queries(
        p_idx, n_img, np.iinfo(np.int64).max if max_queries is None else max_queries, seed
    )
    # identical rows become one candidate column each, counted with multiplicity
    fx, inv_x, cnt_x = _unique_rows(Xa)
    fy, inv_y, cnt_y = _unique_rows(Ya)
    for name, n, k in (("X (images)", n_img, fx.size), ("Y (texts)", n_txt, fy.size)):
        if k < n:
            warnings.warn(
                f"retrieval_recall: {name} has {n - k} duplicated row(s) ({k} distinct of "
                f"{n}); identical candidates tie exactly and the true partner wins ties "
                "(rank = number of candidates scoring strictly higher), so recall is "
                "optimistic for them",
                RuntimeWarning,
                stacklevel=2,
            )
    Xu, Yu = Xa[fx], Ya[fy]
    order = np.argsort(p_idx, kind="stable")  # texts grouped by their image
    bounds = np.searchsorted(p_idx[order], np.arange(n_img + 1))
    caps = [inv_y[order[bounds[i] : bounds[i + 1]]] for i in img_q]  # caption columns
    block = block_size or max(1, min(2048, _BLOCK_ENTRIES // max(fx.size, fy.size, 1)))
    rank_i2t = _ranks(Xu[inv_x[img_q]], Yu, cnt_y, caps, block)
    partner = inv_x[p_idx[txt_q]]
    rank_t2i = _ranks(Yu[inv_y[txt_q]], Xu, cnt_x, list(partner[:, None]), block)
    return {
        "i2t": {k: float(np.mean(rank_i2t < k)) for k in ks_list},
        "t2i": {k: float(np.mean(rank_t2i < k)) for k in ks_list},
    }


# --------------------------------------------------------------------------- report


def gap_report(
    X: Any, Y: Any, *, source: CentreSource = "sample", normalize: bool = False
) -> dict[str, Any]:
    """Every gap measure of this module, side by side, as a dict of plain Python values.

    Keys: ``n_pairs``, ``dim``; ``gap`` -- the
    :class:`~modgap.verify.observables.GapObservables` dict (centre angle under the centre
    rule of ``source``, centroid distance, pair cosines and angles, mean pair distance;
    radians); ``alignment`` (alpha = 2); ``uniformity_x``, ``uniformity_y`` (t = 2);
    ``relative_modality_gap`` (None if undefined); ``linear_separability`` (seed 0, 30%
    test); ``effective_dimension_x``, ``effective_dimension_y`` (99%);
    ``principal_subspace_dim_x``, ``principal_subspace_dim_y`` and ``principal_angles_deg``
    (list, ascending; uncentred SVD, 99% energy); ``recall_i2t_at_K``, ``recall_t2i_at_K``
    for K = 1, 5, 10. X and Y must be paired (same shape, n >= 2).
    """
    from modgap.verify.observables import gap_observables

    Xa, Ya = _two(X, Y, normalize=normalize, paired=True, min_rows=2)
    n, d = Xa.shape
    rmg = relative_modality_gap(Xa, Ya)
    angles = modality_principal_angles(Xa, Ya)
    recall = retrieval_recall(Xa, Ya, (1, 5, 10))
    report: dict[str, Any] = {
        "n_pairs": int(n),
        "dim": int(d),
        "gap": gap_observables(Xa, Ya, source=source).to_dict(),
        "alignment": alignment(Xa, Ya),
        "uniformity_x": uniformity(Xa),
        "uniformity_y": uniformity(Ya),
        "relative_modality_gap": rmg,
        "linear_separability": linear_separability(Xa, Ya),
        "effective_dimension_x": effective_dimension(Xa),
        "effective_dimension_y": effective_dimension(Ya),
        "principal_subspace_dim_x": int(principal_subspace(Xa).shape[1]),
        "principal_subspace_dim_y": int(principal_subspace(Ya).shape[1]),
        "principal_angles_deg": [float(a) for a in np.degrees(angles)],
    }
    for direction in ("i2t", "t2i"):
        for k, r in recall[direction].items():
            report[f"recall_{direction}_at_{k}"] = float(r)
    return report
