"""The one gap-observables type: every measure of the modality gap, side by side.

docs/theory.md §5 asks not to assume which observable carries the gap under a constraint:
measure the centre angle (or report it undefined), the centroid distance and the
distribution of pair angles, and compare each with phi. :class:`GapObservables` holds them,
with the same keys everywhere (analyze, align, solve, zeroshot, the theorem checks and the
figures), angles in radians; degrees appear only when printed
(:meth:`GapObservables.degrees`).

Definitions and sources:

- centre angle Delta_theta (Yi, Douady & Chen, arXiv 2510.03268, section 2) under the one
  centre rule of :mod:`modgap.verify.centres` (undefined, with the reason, at noise-level
  means);
- centroid distance |mean x - mean y| (Liang et al. 2022);
- pair cosines x_i . y_i and pair angles (seed paper section 2; Corollary 2), their mean,
  minimum and maximum; mean pair distance mean_i |x_i - y_i| (Schrodi et al. 2025, L2I);
- with a basis Q_C of the shared space C: mean and max of |P_C x_i - P_C y_i|
  (Theorem 4's quantity).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from modgap.verify import metrics
from modgap.verify._validation import InputError, as_unit_rows
from modgap.verify.centres import CentreAngle, CentreSource, centre_angle_from_means

__all__ = ["GapObservables", "gap_observables", "observables_from_sums", "KEYS", "PAIR_CHUNK_ROWS"]

#: Paired rows processed at once (the metrics work in float64: bounded extra memory).
PAIR_CHUNK_ROWS = 16_384


@dataclass(frozen=True)
class GapObservables:
    """Gap observables of two modalities (radians; None where undefined).

    n_x, n_y: rows per modality; n_pairs: pairs (text rows when a pair index is given);
    centre_rule: "sample" or "configuration" (:mod:`modgap.verify.centres`);
    centre_angle: Delta_theta or None; centre_undefined_reason: why it is None;
    mean_norm_x/y and mean_norm_floor_x/y: |mean| and the floors they were compared with;
    centroid_distance; pair_cosine_mean; pair_angle_mean/min/max; mean_pair_distance;
    shared_space_diff_mean/max: |P_C x_i - P_C y_i| (None without a basis of C).
    """

    n_x: int
    n_y: int
    n_pairs: int
    centre_rule: str
    centre_angle: float | None
    centre_undefined_reason: str | None
    mean_norm_x: float
    mean_norm_y: float
    mean_norm_floor_x: float
    mean_norm_floor_y: float
    centroid_distance: float
    pair_cosine_mean: float
    pair_angle_mean: float
    pair_angle_min: float
    pair_angle_max: float
    mean_pair_distance: float
    shared_space_diff_mean: float | None = None
    shared_space_diff_max: float | None = None

    @property
    def centre_defined(self) -> bool:
        """True when the centre angle is defined under the centre rule."""
        return self.centre_angle is not None

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python dict with the keys :data:`KEYS` (radians), JSON-ready."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GapObservables:
        """Inverse of :meth:`to_dict` (extra keys are an error)."""
        unknown = set(data) - set(KEYS)
        if unknown:
            raise InputError(f"unknown gap-observable keys: {sorted(unknown)}")
        return cls(**data)

    def degrees(self) -> dict[str, Any]:
        """The angles in degrees, for printing only (keys ``*_deg``; None stays None)."""

        def deg(a: float | None) -> float | None:
            return None if a is None else math.degrees(a)

        return {
            "centre_angle_deg": deg(self.centre_angle),
            "pair_angle_mean_deg": deg(self.pair_angle_mean),
            "pair_angle_min_deg": deg(self.pair_angle_min),
            "pair_angle_max_deg": deg(self.pair_angle_max),
        }

    def centre_text(self, digits: int = 2) -> str:
        """'12.34 deg' or 'undefined (reason)' -- how every front end prints the centre angle."""
        if self.centre_angle is None:
            return f"undefined ({self.centre_undefined_reason})"
        return f"{math.degrees(self.centre_angle):.{digits}f} deg"


#: The keys of :meth:`GapObservables.to_dict`, in order.
KEYS: tuple[str, ...] = tuple(GapObservables.__dataclass_fields__)


def gap_observables(
    X: Any,
    Y: Any,
    *,
    source: CentreSource | tuple[CentreSource, CentreSource] = "sample",
    pairs: Any = None,
    pairs_x: Any = None,
    QC: Any = None,
    normalize: bool = False,
    chunk: int = PAIR_CHUNK_ROWS,
) -> GapObservables:
    """Every gap observable of unit rows X (images) and Y (texts), as :class:`GapObservables`.

    ``source``: the centre rule ("sample" for embeddings of data, "configuration" for a
    solver's optimum or a planted model), or one per modality (x's, y's); ``pairs``: None
    (row i of X with row i of Y) or an int array of length len(Y) giving each text's image
    row (several captions per image); ``pairs_x``: instead, an int array of length len(X)
    giving each image's text row (zero-shot: the class of each image);
    ``QC``: optional orthonormal basis (h, k) of the shared space C; ``normalize``: divide
    rows by their norms first (else they must be unit rows). Centres use every row of each
    modality once; pair measures use the pairs, in chunks of ``chunk`` rows pooled exactly.
    Formulas and sources: module docstring.
    """
    Xa = as_unit_rows(X, "X", normalize=normalize)
    Ya = as_unit_rows(Y, "Y", normalize=normalize)
    if Xa.shape[1] != Ya.shape[1]:
        raise InputError(
            f"X and Y must live in the same ambient dimension, got d = {Xa.shape[1]} and "
            f"d = {Ya.shape[1]}"
        )
    n_x, n_y = Xa.shape[0], Ya.shape[0]
    if pairs is not None and pairs_x is not None:
        raise InputError("give pairs (per text) or pairs_x (per image), not both")
    if pairs_x is not None:  # swap the roles: walk the images, each with its text
        idx = _index(pairs_x, "pairs_x", n_x, n_y)
        walk, other = Ya, Xa  # chunks take walk[idx] against other's rows
    elif pairs is not None:
        idx = _index(pairs, "pairs", n_y, n_x)
        walk, other = Xa, Ya
    else:
        if n_x != n_y:
            raise InputError(f"{n_x} rows in X but {n_y} in Y: give a pair index (pairs)")
        idx, walk, other = None, Xa, Ya
    Qc = None if QC is None else np.asarray(QC, dtype=np.float64)
    if Qc is not None and (Qc.ndim != 2 or Qc.shape[0] != Xa.shape[1]):
        raise InputError(f"QC must be a ({Xa.shape[1]}, k) basis, got shape {Qc.shape}")

    mx = Xa.mean(axis=0, dtype=np.float64)
    my = Ya.mean(axis=0, dtype=np.float64)

    cos_sum = ang_sum = dist_sum = 0.0
    ang_min, ang_max = math.inf, -math.inf
    diff_sum, diff_max = 0.0, 0.0
    n_pairs = other.shape[0]
    for lo in range(0, n_pairs, chunk):
        hi = min(lo + chunk, n_pairs)
        Xc = np.asarray(walk[lo:hi] if idx is None else walk[idx[lo:hi]], dtype=np.float64)
        Yc = np.asarray(other[lo:hi], dtype=np.float64)
        cos_sum += float(metrics.pair_cosines(Xc, Yc).sum())
        ang = metrics.pair_angles(Xc, Yc)
        ang_sum += float(ang.sum())
        ang_min, ang_max = min(ang_min, float(ang.min())), max(ang_max, float(ang.max()))
        dist_sum += float(np.linalg.norm(Xc - Yc, axis=1).sum())
        if Qc is not None:
            d = np.linalg.norm((Xc - Yc) @ Qc, axis=1)
            diff_sum += float(d.sum())
            diff_max = max(diff_max, float(d.max()))
    return observables_from_sums(
        mx,
        my,
        n_x,
        n_y,
        n_pairs=n_pairs,
        sum_cos=cos_sum,
        sum_angle=ang_sum,
        min_angle=ang_min,
        max_angle=ang_max,
        sum_distance=dist_sum,
        source=source,
        sum_shared_diff=None if Qc is None else diff_sum,
        max_shared_diff=None if Qc is None else diff_max,
    )


def observables_from_sums(
    mean_x: np.ndarray,
    mean_y: np.ndarray,
    n_x: int,
    n_y: int,
    *,
    n_pairs: int,
    sum_cos: float,
    sum_angle: float,
    min_angle: float,
    max_angle: float,
    sum_distance: float,
    source: CentreSource | tuple[CentreSource, CentreSource] = "sample",
    sum_shared_diff: float | None = None,
    max_shared_diff: float | None = None,
) -> GapObservables:
    """:class:`GapObservables` from the sufficient statistics of one pass over the rows
    (the means of each modality and the pair sums), so chunked and distributed passes
    (verify.streaming) build the same record as :func:`gap_observables`: centre angle by the
    one centre rule, centroid distance |mean_x - mean_y|, pair means = sums / n_pairs."""
    mx = np.asarray(mean_x, dtype=np.float64)
    my = np.asarray(mean_y, dtype=np.float64)
    centre: CentreAngle = centre_angle_from_means(mx, my, n_x, n_y, source=source)
    return GapObservables(
        n_x=int(n_x),
        n_y=int(n_y),
        n_pairs=int(n_pairs),
        centre_rule=centre.source,
        centre_angle=centre.angle,
        centre_undefined_reason=centre.reason,
        mean_norm_x=centre.mean_norm_x,
        mean_norm_y=centre.mean_norm_y,
        mean_norm_floor_x=centre.floor_x,
        mean_norm_floor_y=centre.floor_y,
        centroid_distance=float(np.linalg.norm(mx - my)),
        pair_cosine_mean=float(sum_cos) / n_pairs,
        pair_angle_mean=float(sum_angle) / n_pairs,
        pair_angle_min=float(min_angle),
        pair_angle_max=float(max_angle),
        mean_pair_distance=float(sum_distance) / n_pairs,
        shared_space_diff_mean=None if sum_shared_diff is None else sum_shared_diff / n_pairs,
        shared_space_diff_max=None if max_shared_diff is None else float(max_shared_diff),
    )


def _index(value: Any, name: str, length: int, bound: int) -> np.ndarray:
    """An int index array of ``length`` entries in [0, bound), or a ValueError naming it."""
    idx = np.asarray(value)
    if idx.dtype.kind not in "iu" or idx.shape != (length,):
        raise InputError(
            f"{name} must be {length} integer row indices, got {idx.dtype} {idx.shape}"
        )
    if length and (idx.min() < 0 or idx.max() >= bound):
        raise InputError(f"{name} must index rows in [0, {bound})")
    return idx.astype(np.int64, copy=False)
