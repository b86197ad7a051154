"""Distributions of cosine similarities and a joint 2-D map of two modalities.

These are the quantities behind the seed paper's Figure 2 and the SSP before/after figure
(Yi, Douady & Chen, arXiv 2510.03268, §4 and Figs. 2-3): the density of paired cosines
x_i . y_i, of image-image cosines x_i . x_j (i < j) and of text-text cosines y_i . y_j
(i < j), and a joint PCA map of both modalities (as in Liang et al. 2022, Fig. 1).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._validation import InputError, as_unit_rows, check_int_in_range, check_paired

__all__ = ["cosine_distributions", "cosine_densities", "DENSITY_BINS", "joint_pca_map"]


#: Row pairs per block when sampled off-diagonal cosines are gathered (bounds the memory of
#: the two gathered row blocks to 2 x block x d floats).
_PAIR_BLOCK = 8192


def _offdiagonal_cosines(Z: np.ndarray, rng: np.random.Generator, max_pairs: int) -> np.ndarray:
    """x_i . x_j over i < j (from the Gram matrix, when there are at most ``max_pairs``), or
    over ``max_pairs`` seeded ordered pairs i != j (gathered block by block)."""
    n = Z.shape[0]
    total = n * (n - 1) // 2
    if total <= max_pairs:
        i, j = np.triu_indices(n, k=1)
        return (Z @ Z.T)[i, j]
    i = rng.integers(0, n, size=max_pairs)
    j = (i + rng.integers(1, n, size=max_pairs)) % n  # uniform over j != i
    out = np.empty(max_pairs, dtype=Z.dtype)
    for s in range(0, max_pairs, _PAIR_BLOCK):
        b = slice(s, s + _PAIR_BLOCK)
        out[b] = np.einsum("ij,ij->i", Z[i[b]], Z[j[b]])
    return out


def cosine_distributions(
    X, Y, *, normalize: bool = False, max_pairs: int = 200_000, seed: int = 0
) -> dict[str, np.ndarray]:
    """Samples of the three cosine-similarity distributions of a paired embedding set.

    Returns {"paired": x_i . y_i (all i), "image_image": x_i . x_j, "text_text": y_i . y_j}
    for i != j; the off-diagonal sets are exhaustive (i < j) when there are at most
    ``max_pairs`` pairs, else ``max_pairs`` uniformly drawn ordered pairs i != j (seeded).
    Rows must be unit vectors (or ``normalize=True``). Seed paper Fig. 2 (left) and the
    SSP before/after figure.
    """
    X = as_unit_rows(X, "X", normalize=normalize, min_rows=2)
    Y = as_unit_rows(Y, "Y", normalize=normalize, min_rows=2)
    check_paired(X, Y)
    max_pairs = check_int_in_range(max_pairs, "max_pairs", 1, 10**9)
    rng = np.random.default_rng(seed)
    return {
        "paired": np.einsum("ij,ij->i", X, Y),
        "image_image": _offdiagonal_cosines(X, rng, max_pairs),
        "text_text": _offdiagonal_cosines(Y, rng, max_pairs),
    }


#: Bins of :func:`cosine_densities`: 80 equal bins on [-1, 1] (81 edges).
DENSITY_BINS = 80


def cosine_densities(
    X,
    Y,
    *,
    bins: int = DENSITY_BINS,
    normalize: bool = False,
    max_pairs: int = 200_000,
    seed: int = 0,
) -> dict[str, dict[str, Any]]:
    """Histogram densities of the three cosine distributions of :func:`cosine_distributions`.

    For each of "paired", "image_image", "text_text": ``{"edges": [...], "density": [...]}``
    with ``bins`` equal bins on [-1, 1] and density_b = count_b / (n_samples * width), so
    that sum_b density_b * width = 1 (numpy.histogram's ``density=True``; values exactly
    at 1 fall in the last bin). Plain lists, ready for an evidence document. Seed paper
    Fig. 2 (left) and the SSP before/after figure (arXiv 2510.03268).
    """
    bins = check_int_in_range(bins, "bins", 1, 10**6)
    dist = cosine_distributions(X, Y, normalize=normalize, max_pairs=max_pairs, seed=seed)
    edges = np.linspace(-1.0, 1.0, bins + 1)
    out = {}
    for key, values in dist.items():
        density, _ = np.histogram(np.clip(values, -1.0, 1.0), bins=edges, density=True)
        out[key] = {"edges": edges.tolist(), "density": density.tolist(), "n": int(values.size)}
    return out


def joint_pca_map(X, Y, *, n_components: int = 2, normalize: bool = False):
    """Coordinates of both modalities on the top principal axes of their union.

    With Z = [X; Y] and mean m, the axes are the top right singular vectors V_k of Z - m;
    returns (X - m) V_k, (Y - m) V_k and the fraction of variance each axis explains
    (s_i^2 / sum s^2). Liang et al. (2022), Fig. 1; seed paper Fig. 2 (middle).
    """
    X = as_unit_rows(X, "X", normalize=normalize)
    Y = as_unit_rows(Y, "Y", normalize=normalize)
    if X.shape[1] != Y.shape[1]:
        raise InputError(f"X and Y must have the same dimension, got {X.shape[1]} and {Y.shape[1]}")
    n_components = check_int_in_range(n_components, "n_components", 1, X.shape[1])
    Z = np.vstack([X, Y])
    m = Z.mean(axis=0)
    _, s, Vt = np.linalg.svd(Z - m, full_matrices=False)
    V = Vt[:n_components].T
    explained = s[:n_components] ** 2 / np.sum(s**2)
    return (X - m) @ V, (Y - m) @ V, explained
