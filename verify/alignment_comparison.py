"""Side-by-side comparison of post-hoc alignment operators (the paper's Table 1 protocol).

For each operator of :mod:`verify.alignment`, fit on a set of paired embeddings, transform,
and measure the centre angle Delta_theta (seed paper), the centroid distance (Liang et al.
2022), the mean paired cosine, and retrieval R@1/R@5 in both directions
(:func:`verify.metrics.retrieval_recall`). Source of the protocol: Yi, Douady & Chen,
arXiv 2510.03268, Table 1 (CLIP +Translation, +Removal, +SSP).

Fitting and evaluating on the same rows is the paper's (transductive) protocol; with
``holdout`` a seeded fraction of the pairs is held out, the operators are fitted on the
rest and all numbers are measured on the held-out pairs only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._validation import InputError, as_unit_rows, check_int_in_range, check_paired
from .alignment import (
    Centring,
    HyperplaneRotation,
    Removal,
    SharedSpaceProjection,
    Translation,
)
from .metrics import centre_angle, centroid_distance, pair_cosines, retrieval_recall

__all__ = ["default_operators", "compare_alignments"]


def default_operators(removal_k: int = 10) -> dict[str, Any]:
    """The operators compared by default, by display name, unfitted.

    Removal drops ``removal_k`` coordinates (this project's choice; the paper does not give
    its k). SSP uses the appendix defaults (99% variance, eps = 1e-3, no top-k).
    """
    return {
        "original": None,
        "+Translation": Translation(),
        f"+Removal (k={removal_k})": Removal(k=removal_k),
        "+Centring": Centring(),
        "+SSP": SharedSpaceProjection(),
        "+Hyperplane rotation": HyperplaneRotation(),
    }


def _measure(X: np.ndarray, Y: np.ndarray) -> dict[str, Any]:
    theta = centre_angle(X, Y)
    recall = retrieval_recall(X, Y, ks=(1, 5))
    return {
        "centre_angle_deg": None if theta is None else float(np.rad2deg(theta)),
        "centroid_distance": centroid_distance(X, Y),
        "mean_pair_cosine": float(np.mean(pair_cosines(X, Y))),
        "i2t_r1": recall["i2t"][1],
        "i2t_r5": recall["i2t"][5],
        "t2i_r1": recall["t2i"][1],
        "t2i_r5": recall["t2i"][5],
    }


def compare_alignments(
    X,
    Y,
    *,
    operators: dict[str, Any] | None = None,
    holdout: float | None = None,
    seed: int = 0,
    normalize: bool = False,
) -> list[dict[str, Any]]:
    """One row per operator: method name, fitted extras (e.g. SSP's d_overlap), metrics.

    X, Y: (n, d) paired rows (unit, or ``normalize=True``). ``operators`` maps display
    names to unfitted operators (None = the embeddings as given); default
    :func:`default_operators`. An operator that cannot be applied (e.g. SSP finds no
    shared direction) gives a row with ``error`` set and no metrics, never a made-up number.
    """
    X = as_unit_rows(X, "X", normalize=normalize, min_rows=4)
    Y = as_unit_rows(Y, "Y", normalize=normalize, min_rows=4)
    check_paired(X, Y)
    operators = default_operators() if operators is None else operators
    if holdout is None:
        fit_idx = eval_idx = np.arange(X.shape[0])
    else:
        if not 0.0 < float(holdout) < 1.0:
            raise InputError(f"holdout must lie in (0, 1), got {holdout}")
        n_eval = check_int_in_range(
            int(round(holdout * X.shape[0])), "held-out rows", 2, X.shape[0] - 2
        )
        perm = np.random.default_rng(seed).permutation(X.shape[0])
        eval_idx, fit_idx = perm[:n_eval], perm[n_eval:]
    rows = []
    for name, op in operators.items():
        row: dict[str, Any] = {
            "method": name,
            "n_fit": int(fit_idx.size),
            "n_eval": int(eval_idx.size),
        }
        Xe, Ye = X[eval_idx], Y[eval_idx]
        if op is not None:
            try:
                op.fit(X[fit_idx], Y[fit_idx])
                Xe, Ye = op.transform(Xe, Ye)
            except ValueError as exc:
                row["error"] = str(exc)
                rows.append(row)
                continue
            if hasattr(op, "d_overlap_"):
                row["d_overlap"] = int(op.d_overlap_)
        row.update(_measure(np.asarray(Xe, dtype=np.float64), np.asarray(Ye, dtype=np.float64)))
        rows.append(row)
    return rows
