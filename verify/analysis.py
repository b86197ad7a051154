"""Analysis of paired embeddings: the numbers and the verdict behind ``modgap analyze``.

Reads two embedding matrices (verify.embeddings_io: .npy/.npz/.pt/.csv, or one (2, n, d)
array) and an optional pair index, L2-normalises the rows, and reports the measures of
verify.metrics side by side (centroid distance, centre angle Delta_theta, pair angles,
mean pair distance, alignment, uniformity, relative modality gap, linear separability,
effective dimension, covariance spectrum, principal angles between the two modalities'
99%-variance subspaces, retrieval R@1/5/10 both ways), the shared-space dimension
d_overlap of the seed paper's SSP (verify.alignment.SharedSpaceProjection), and the
paper's prediction (Theorem 3 of Yi, Douady & Chen, arXiv 2510.03268: at the optimum
under the subspace constraint Delta_theta equals phi, the smallest principal angle)
next to the measured Delta_theta, then explains what the numbers say.

Several captions per image: with a pair index (text row j <-> image row pairs[j]) the
measures that need paired rows use image[pairs[j]] with text j; per-modality measures use
each image row once; retrieval counts an image query as a hit if any caption ranks in the
top K (verify.metrics.retrieval_recall).

Scale: float32 is kept where the metric allows it; retrieval is blocked in verify.metrics
(no n x n matrix) and, above :data:`MAX_QUERIES` queries per direction, scores a seeded
sample of queries against all candidates (``--max-queries``); uniformity subsamples inside
verify.metrics; linear separability is fit
on at most 10,000 rows per modality here (a seeded random subset, said in the output).
Above :data:`EXACT_MAX_ENTRIES` matrix entries per modality, the spectral quantities
(covariance spectrum, effective dimension, principal subspaces and angles) come from the
d x d second-moment matrices that the SSP fit accumulates in one pass
(verify.alignment.second_moment; eigenvalues of X^T X = squared singular values of X)
instead of an SVD of the n x d matrix; both routes give the same numbers
(tests/test_cli_analyze.py checks them against each other on real data).
"""

from __future__ import annotations

import math
from typing import Any

from modgap.verify.settings import MATCH_TOL_DEG

from ._validation import InputError

__all__ = ["analyze_embeddings", "explain"]

#: Up to this many entries (n x d) per modality the spectral metrics are computed by
#: verify.metrics itself (SVD of the n x d matrix); above, from the d x d covariance.
EXACT_MAX_ENTRIES = 1 << 22
#: Linear separability is fit on at most this many rows per modality (seeded subset).
SEPARABILITY_MAX_ROWS = 10_000
KS = (1, 5, 10)
#: Retrieval: above this many queries per direction, a seeded sample of this many is scored.
MAX_QUERIES = 5000


# --------------------------------------------------------------------------- analysis


def analyze_embeddings(
    images: Any,
    texts: Any,
    pairs: Any = None,
    *,
    variance: float = 0.99,
    eps: float = 1e-3,
    exact_max_entries: int = EXACT_MAX_ENTRIES,
    max_queries: int | None = MAX_QUERIES,
    seed: int = 0,
    normalize: bool = True,
) -> dict[str, Any]:
    """The full report as a JSON-ready dict (plain Python values, None where undefined).

    ``images`` (n_x, d), ``texts`` (n_y, d): any rows, divided by their norms here
    (``normalize=True``, into new arrays) or already unit rows (``normalize=False``: within
    1e-5 for float32, 1e-6 otherwise; no copy is made, which matters at 100k x 1024);
    ``pairs``: None (row i <-> row i) or int array of length n_y. Definitions and sources
    are those of verify.metrics and verify.alignment; the composition is described in the
    module docstring. Keys: n_images, n_texts, dim, gap (the
    :class:`modgap.verify.observables.GapObservables` dict: centre angle under the "sample"
    centre rule, centroid distance, pair cosines and angles, mean pair distance; radians),
    alignment, relative_modality_gap, uniformity_{x,y}, linear_separability,
    effective_dimension_{x,y}, singular_values_{x,y}, principal_subspace_dim_{x,y},
    principal_angles_deg (ascending), smallest_principal_angle_deg, d_overlap,
    ssp_largest_cosine, variance, eps, predicted_gap_deg (phi: the smallest principal angle
    outside the d_overlap shared directions, i.e. principal_angles_deg[d_overlap]; for two
    hyperplanes the angle between their normals, docs/theory.md §2), measured_gap_deg (the
    centre angle in degrees, None when undefined),
    recall {"i2t": {"1", "5", "10"}, "t2i": {...}}, spectral_route, notes, verdict
    {dimension_collapse, prediction_matches, text}.
    """
    import numpy as np

    from modgap.verify import metrics
    from modgap.verify._validation import as_unit_rows
    from modgap.verify.alignment import SharedSpaceProjection, principal_basis
    from modgap.verify.geometry import principal_angles
    from modgap.verify.observables import gap_observables

    def unit(Z: Any, name: str) -> np.ndarray:
        dtype = np.float32 if getattr(Z, "dtype", None) == np.float32 else np.float64
        atol = 1e-5 if dtype is np.float32 else 1e-6
        return as_unit_rows(Z, name, normalize=normalize, atol=atol, min_rows=3, dtype=dtype)

    X = unit(images, "images")
    Y = unit(texts, "texts")
    n_x, d = X.shape
    n_y = Y.shape[0]
    if Y.shape[1] != d:
        raise InputError(f"images have dimension {d}, texts {Y.shape[1]}: need the same R^d")
    if pairs is None:
        if n_x != n_y:
            raise InputError(f"{n_x} image rows but {n_y} text rows: give a pair index")
    else:
        pairs = np.asarray(pairs, dtype=np.int64)
    notes: list[str] = []
    rep: dict[str, Any] = {"n_images": int(n_x), "n_texts": int(n_y), "dim": int(d)}

    # the gap observables: centres over each modality's rows once, pair measures on the
    # pairs (image[pairs[j]] with text j) in row chunks
    gap = gap_observables(X, Y, source="sample", pairs=pairs)
    rep["gap"] = gap.to_dict()
    Xp = X if pairs is None else X[pairs]
    rep["alignment"] = _chunked_alignment(X, Y, pairs)
    rep["relative_modality_gap"] = metrics.relative_modality_gap(Xp, Y)
    del Xp
    if pairs is not None:
        notes.append(
            "relative modality gap: image rows repeated per caption enter d_I as pairs at "
            "distance 0 (Schrodi et al. define it on one-to-one pairs)"
        )

    # one modality at a time
    rep["uniformity_x"] = metrics.uniformity(X)
    rep["uniformity_y"] = metrics.uniformity(Y)
    if max(n_x, n_y) > 5000:
        notes.append("uniformity: mean over the pairs of a seeded random subset of 5000 rows")
    rng = np.random.default_rng(seed)

    def cap(Z: np.ndarray) -> np.ndarray:
        if Z.shape[0] <= SEPARABILITY_MAX_ROWS:
            return Z
        return Z[np.sort(rng.choice(Z.shape[0], SEPARABILITY_MAX_ROWS, replace=False))]

    rep["linear_separability"] = metrics.linear_separability(cap(X), cap(Y), seed=seed)
    if max(n_x, n_y) > SEPARABILITY_MAX_ROWS:
        notes.append(
            f"linear separability: logistic regression on a seeded random subset of "
            f"{SEPARABILITY_MAX_ROWS} rows per modality (30% of them held out)"
        )

    # SSP fit: d_overlap, and the d x d second moments for the large-n route
    ssp = SharedSpaceProjection(variance=variance, eps=eps).fit(X, Y)
    exact = n_x * d <= exact_max_entries and n_y * d <= exact_max_entries
    if exact:
        rep["spectral_route"] = "verify.metrics (SVD of each n x d matrix)"
        bases = []  # one SVD per modality and kind (centred spectrum, uncentred subspace)
        for key, Z in (("x", X), ("y", Y)):
            lam = metrics.singular_value_spectrum(Z)
            rep[f"effective_dimension_{key}"] = metrics.effective_dimension_of_spectrum(
                lam, variance
            )
            rep[f"singular_values_{key}"] = lam.tolist()
            bases.append(metrics.principal_subspace(Z, threshold=variance))
            rep[f"principal_subspace_dim_{key}"] = int(bases[-1].shape[1])
        # = metrics.modality_principal_angles(X, Y, threshold=variance), from those bases
        theta = principal_angles(*bases)
    else:
        rep["spectral_route"] = "d x d second-moment matrices (eigh), n large"
        for key, G, m, n in (
            ("x", ssp.second_moment_x_, ssp.mean_x_, n_x),
            ("y", ssp.second_moment_y_, ssp.mean_y_, n_y),
        ):
            Gc = G - n * np.outer(m, m)  # centred: sum (x - m)(x - m)^T
            basis, lam = principal_basis(gram=0.5 * (Gc + Gc.T), variance=variance)
            rep[f"effective_dimension_{key}"] = int(basis.shape[1])
            rep[f"singular_values_{key}"] = (lam / n).tolist()
        rep["principal_subspace_dim_x"] = ssp.dim_x_
        rep["principal_subspace_dim_y"] = ssp.dim_y_
        theta = ssp.principal_angles_
    rep["principal_angles_deg"] = [float(t) for t in np.degrees(theta)]
    rep["d_overlap"] = int(ssp.d_overlap_)
    rep["ssp_largest_cosine"] = float(ssp.cosines_[0])
    rep["variance"] = float(variance)
    rep["eps"] = float(eps)

    # the paper's prediction next to the measurement: phi = the smallest principal angle
    # outside the shared space (for two hyperplanes: the angle between their normals)
    angles = rep["principal_angles_deg"]
    rep["smallest_principal_angle_deg"] = angles[0]
    # undefined (None) when every direction is shared: no angle lies outside C
    rep["predicted_gap_deg"] = angles[ssp.d_overlap_] if ssp.d_overlap_ < len(angles) else None
    rep["measured_gap_deg"] = gap.degrees()["centre_angle_deg"]

    # retrieval
    if max_queries is not None and max_queries < 0:
        raise InputError(f"max_queries must be >= 0 (0 = every query), got {max_queries}")
    if max_queries == 0:
        max_queries = None
    recall = metrics.retrieval_recall(X, Y, KS, pairs=pairs, max_queries=max_queries, seed=seed)
    if max_queries is not None and max(n_x, n_y) > max_queries:
        notes.append(
            f"retrieval: a seeded sample of {max_queries} queries per direction, each scored "
            f"against all candidates (standard error <= 0.5 / sqrt({max_queries}) = "
            f"{0.5 / np.sqrt(max_queries):.4f}); --max-queries 0 scores every query"
        )
    rep["recall"] = {dr: {str(k): float(v) for k, v in recall[dr].items()} for dr in recall}
    rep["notes"] = notes
    rep["verdict"] = explain(rep)
    return rep


def _chunked_alignment(X: Any, Y: Any, pairs: Any) -> float:
    """Wang & Isola's alignment mean_j |x_pairs[j] - y_j|^2 (verify.metrics.alignment, alpha
    = 2), pooled exactly over row chunks (bounded float64 copies at large n)."""
    from modgap.verify import metrics
    from modgap.verify.observables import PAIR_CHUNK_ROWS

    n = Y.shape[0]
    total = 0.0
    for lo in range(0, n, PAIR_CHUNK_ROWS):
        hi = min(lo + PAIR_CHUNK_ROWS, n)
        Xc = X[lo:hi] if pairs is None else X[pairs[lo:hi]]
        total += (hi - lo) * metrics.alignment(Xc, Y[lo:hi])
    return total / n


# --------------------------------------------------------------------------- verdict


def _collapse_words(eff: int, bound: int) -> tuple[str, float]:
    frac = eff / bound if bound > 0 else float("nan")
    if frac < 0.25:
        return "strong", frac
    if frac < 0.5:
        return "clear", frac
    if frac < 0.75:
        return "moderate", frac
    return "none", frac


def explain(rep: dict[str, Any]) -> dict[str, Any]:
    """Plain-language verdict on an :func:`analyze_embeddings` report.

    Says whether dimension collapse is present and whether the measured centre angle
    matches the paper's prediction (within MATCH_TOL_DEG degrees), with the numbers that
    decide it; no new numbers are computed here.
    """
    n_x, n_y, d = rep["n_images"], rep["n_texts"], rep["dim"]
    lines: list[str] = []
    pct = f"{100 * rep['variance']:g}%"

    # 1. dimension collapse
    bx, by = min(n_x - 1, d), min(n_y - 1, d)
    wx, fx = _collapse_words(rep["effective_dimension_x"], bx)
    wy, fy = _collapse_words(rep["effective_dimension_y"], by)
    order = {"none": 0, "moderate": 1, "clear": 2, "strong": 3}
    worst = max((wx, wy), key=order.get)
    collapse = order[worst] >= 2
    text = (
        f"Dimension collapse: {worst if worst != 'none' else 'not present'}. "
        f"{pct} of the centred variance needs {rep['effective_dimension_x']} directions for "
        f"the images and {rep['effective_dimension_y']} for the texts, out of at most "
        f"{bx} and {by} that these data could show ({100 * fx:.0f}% and {100 * fy:.0f}%; "
        f"d = {d}). Categories used here: < 25% strong, < 50% clear, < 75% moderate."
    )
    if min(n_x, n_y) - 1 < d:
        text += (
            f" With only {min(n_x, n_y)} rows a modality cannot show more than "
            f"{min(n_x, n_y) - 1} dimensions, so the judgement is relative to that bound, "
            "not to d."
        )
    lines.append(text)

    # 2. principal subspaces and the shared space
    px, py = rep["principal_subspace_dim_x"], rep["principal_subspace_dim_y"]
    text = (
        f"Subspaces: the {pct}-variance subspaces (uncentred SVD) have dimensions {px} "
        f"(images) and {py} (texts) in R^{d}; SSP finds d_overlap = {rep['d_overlap']} shared "
        f"directions (cosine > 1 - {rep['eps']:g}; largest cosine "
        f"{rep['ssp_largest_cosine']:.6f})."
    )
    forced = max(0, px + py - d)
    text += (
        f" By dimension counting alone, subspaces of dimensions {px} and {py} in R^{d} must "
        f"share at least {forced} dimension(s); "
    )
    if rep["d_overlap"] > forced:
        text += (
            f"the {rep['d_overlap'] - forced} shared direction(s) found beyond that reflect a "
            "real alignment of the two modalities' subspaces."
        )
    else:
        text += "no more directions are shared than that."
    lines.append(text)

    # 3. prediction vs measurement
    phi, dth = rep["predicted_gap_deg"], rep["measured_gap_deg"]
    k = rep["d_overlap"]
    which = (
        ""
        if phi is None
        else (
            f"phi = {phi:.2f} deg, the smallest principal angle between the image and text "
            f"subspaces outside their {k} shared direction(s) (for two hyperplanes: the angle "
            f"between their normals; the smallest angle overall is "
            f"{rep['smallest_principal_angle_deg']:.2f} deg)"
        )
    )
    if phi is None:
        match = None
        text = (
            f"Paper's prediction (Theorem 3): UNDEFINED here: all {k} principal direction(s) "
            "of the smaller subspace are shared (cos > 1 - eps), so no principal angle lies "
            "outside the shared space and there is no phi to compare with the centre angle."
        )
    elif dth is None:
        match = None
        text = (
            f"Paper's prediction (Theorem 3): Delta_theta = {which}. The measured centre "
            f"angle is UNDEFINED here ({rep['gap']['centre_undefined_reason']}), so the "
            "prediction cannot be compared."
        )
    else:
        diff = abs(dth - phi)
        match = diff <= MATCH_TOL_DEG
        text = (
            f"Paper's prediction (Theorem 3): at the optimum under the subspace constraint "
            f"the centre angle equals {which}. Measured: Delta_theta = {dth:.2f} deg. "
        )
        if match:
            text += f"They agree within {MATCH_TOL_DEG:g} deg (difference {diff:.2f} deg)."
        else:
            text += (
                f"They do NOT match (difference {diff:.2f} deg, tolerance "
                f"{MATCH_TOL_DEG:g} deg). This is not a contradiction of the theorem, which "
                "is about the optimum of the large-batch loss with each modality confined "
                "to an exact subspace; trained embeddings are not at that optimum, and "
                f"their {pct}-variance subspaces are not two hyperplanes. Here the "
                f"subspaces are {phi:.2f} deg apart beyond their shared directions while "
                f"the centres are {dth:.2f} deg apart."
            )
    lines.append(text)

    # 4. the gap in other measures
    sep = rep["linear_separability"]
    gap = rep["gap"]
    lines.append(
        f"Gap measures: centroid distance {gap['centroid_distance']:.3f}, mean pair angle "
        f"{math.degrees(gap['pair_angle_mean']):.1f} deg (mean paired cosine "
        f"{gap['pair_cosine_mean']:.3f}), relative modality gap "
        + (
            "undefined"
            if rep["relative_modality_gap"] is None
            else f"{rep['relative_modality_gap']:.3f}"
        )
        + f"; a linear classifier tells images from texts with held-out accuracy {sep:.3f}"
        + (" (the modalities are linearly separable: a gap is present)." if sep >= 0.95 else ".")
    )

    # 5. retrieval
    r = rep["recall"]
    chance = 1.0 / n_y
    lines.append(
        "Retrieval: image->text R@1/5/10 = "
        + "/".join(f"{r['i2t'][str(k)]:.3f}" for k in KS)
        + ", text->image R@1/5/10 = "
        + "/".join(f"{r['t2i'][str(k)]:.3f}" for k in KS)
        + f" (chance R@1 is about {chance:.2g} for text queries)."
    )
    return {"dimension_collapse": collapse, "prediction_matches": match, "text": lines}
