"""Side-by-side comparison of post-hoc alignment operators (the paper's Table 1 protocol).

For each operator of :mod:`verify.alignment`, fit on a set of paired embeddings, transform,
and measure the gap observables (verify.observables: centre angle Delta_theta of the seed
paper, centroid distance of Liang et al. 2022, pair cosines and angles) and retrieval
R@1/R@5 in both directions
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
from .metrics import retrieval_recall
from .observables import gap_observables

__all__ = ["MIN_ROWS", "default_operators", "fit_and_apply", "compare_alignments"]


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


def fit_and_apply(
    op: Any, fit: tuple[Any, Any], apply: tuple[Any, Any], row: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray] | None:
    """``op.fit(*fit)`` then ``op.transform(*apply)``; records SSP's ``d_overlap`` in ``row``.

    An operator that cannot be applied (ValueError, e.g. SSP with no shared direction) sets
    ``row["error"]`` to the reason and returns None, never a made-up number.
    """
    try:
        op.fit(*fit)
        out = op.transform(*apply)
    except ValueError as exc:
        row["error"] = str(exc)
        return None
    if hasattr(op, "d_overlap_"):
        row["d_overlap"] = int(op.d_overlap_)
    return out


def _measure(X: np.ndarray, Y: np.ndarray) -> dict[str, Any]:
    """The gap observables ("sample" centre rule) and R@1/R@5 both ways, keyed as in
    ``modgap analyze``: {"gap": GapObservables dict, "recall": {"i2t": {"1", "5"}, ...}}."""
    recall = retrieval_recall(X, Y, ks=(1, 5))
    return {
        "gap": gap_observables(X, Y, source="sample").to_dict(),
        "recall": {d: {str(k): float(v) for k, v in r.items()} for d, r in recall.items()},
    }


#: Fewest pairs :func:`compare_alignments` takes (callers check their inputs against it
#: before any work, e.g. paper_repro.py's --embeddings).
MIN_ROWS = 4


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
    X = as_unit_rows(X, "X", normalize=normalize, min_rows=MIN_ROWS)
    Y = as_unit_rows(Y, "Y", normalize=normalize, min_rows=MIN_ROWS)
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
            out = fit_and_apply(op, (X[fit_idx], Y[fit_idx]), (Xe, Ye), row)
            if out is None:
                rows.append(row)
                continue
            Xe, Ye = out
        row.update(_measure(np.asarray(Xe, dtype=np.float64), np.asarray(Ye, dtype=np.float64)))
        rows.append(row)
    return rows
