"""The one centre rule: when a modality has a centre, and the angle between two centres.

The seed paper's modality gap is the centre angle Delta_theta = arccos(c_x . c_y), with the
centre c = mean / |mean| of a modality's unit rows (Yi, Douady & Chen, arXiv 2510.03268,
section 2; docs/theory.md). A mean of (near) zero norm has no direction, so the angle is
undefined there and must be reported as undefined, never as a number (docs/theory.md §2).

"Near zero" depends on where the rows come from (docs/centre_rule.md):

- ``source="sample"``: the rows are draws from a population (embeddings of data, trained
  towers, vMF samples). The mean m of n unit vectors has E|m - mu|^2 = (1 - |mu|^2)/n. A
  centre needs |m| >= k sigma-hat with the plug-in sigma-hat^2 = (1 - |m|^2)/n and
  k = CENTRE_SIGMAS = 3, i.e. |m| >= k / sqrt(n + k^2) (about 3/sqrt(n) for large n);
  floor = max(k / sqrt(n + k^2), CONFIGURATION_MEAN_FLOOR).
- ``source="configuration"``: the rows are the object itself (a solver's optimum, a planted
  model). Its mean is exact up to the solver's position accuracy: floor =
  ``CONFIGURATION_MEAN_FLOOR`` (1e-3).

Each modality may have its own source (e.g. zero-shot: the images are a sample, the C
class embeddings are the whole text side, a configuration). Every part of modgap that
reports a centre angle (analyze, align, solve, zeroshot, every
theorem check, every figure) goes through :func:`centre_angle_from_means`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from modgap.verify._validation import InputError
from modgap.verify.settings import CENTRE_SIGMAS, CONFIGURATION_MEAN_FLOOR

__all__ = ["CentreSource", "SOURCES", "mean_norm_floor", "CentreAngle", "centre_angle_from_means"]

CentreSource = Literal["sample", "configuration"]
SOURCES: tuple[str, ...] = ("sample", "configuration")


def mean_norm_floor(n: int, source: CentreSource = "sample") -> float:
    """Smallest mean norm that counts as a centre for ``n`` rows from ``source``.

    sample: ``max(k / sqrt(n + k^2), CONFIGURATION_MEAN_FLOOR)`` with k = CENTRE_SIGMAS
    (|m| at least k plug-in standard errors of a mean of n unit vectors,
    E|m - mu|^2 = (1 - |mu|^2)/n); configuration: ``CONFIGURATION_MEAN_FLOOR`` (solver
    accuracy). Module docstring.
    """
    if source not in SOURCES:
        raise InputError(f"source must be one of {SOURCES}, got {source!r}")
    n = int(n)
    if n < 1:
        raise InputError(f"n must be a positive number of rows, got {n}")
    if source == "configuration":
        return CONFIGURATION_MEAN_FLOOR
    return max(CENTRE_SIGMAS / math.sqrt(n + CENTRE_SIGMAS**2), CONFIGURATION_MEAN_FLOOR)


@dataclass(frozen=True)
class CentreAngle:
    """The centre angle of two modalities, or why it is undefined.

    angle: radians in [0, pi], or None when undefined; reason: None when defined, else a
    sentence naming the mean that is too short and the floor; mean_norm_x/y: |mean|;
    floor_x/y: the floors they were compared with; source: the rule used.
    """

    angle: float | None
    reason: str | None
    mean_norm_x: float
    mean_norm_y: float
    floor_x: float
    floor_y: float
    source: str

    @property
    def defined(self) -> bool:
        """True when both means are above their floors."""
        return self.angle is not None


def _angle_between_units(u: np.ndarray, v: np.ndarray) -> float:
    """2 atan2(|u - v|, |u + v|): the angle between unit vectors, accurate near 0 and pi."""
    return float(2.0 * math.atan2(float(np.linalg.norm(u - v)), float(np.linalg.norm(u + v))))


def centre_angle_from_means(
    mean_x: np.ndarray,
    mean_y: np.ndarray,
    n_x: int,
    n_y: int | None = None,
    *,
    source: CentreSource | tuple[CentreSource, CentreSource] = "sample",
) -> CentreAngle:
    """Delta_theta = angle(mean_x / |mean_x|, mean_y / |mean_y|) under the centre rule.

    ``mean_x``, ``mean_y``: the means of each modality's unit rows (float64 recommended);
    ``n_x``, ``n_y``: how many rows each mean averages (``n_y`` defaults to ``n_x``). The
    angle is computed as 2 atan2(|c_x - c_y|, |c_x + c_y|), stable near 0 and pi. Undefined
    (angle None, with the reason) when either norm is below :func:`mean_norm_floor`.
    ``source``: one rule for both, or (rule of x, rule of y).
    Source: seed paper section 2 (Delta_theta); the rule: module docstring.
    """
    mx = np.asarray(mean_x, dtype=np.float64).ravel()
    my = np.asarray(mean_y, dtype=np.float64).ravel()
    if mx.shape != my.shape:
        raise InputError(f"mean_x has {mx.size} entries, mean_y {my.size}: need the same R^d")
    if not (np.all(np.isfinite(mx)) and np.all(np.isfinite(my))):
        raise InputError("mean_x and mean_y must be finite")
    n_y = n_x if n_y is None else n_y
    sx, sy = (source, source) if isinstance(source, str) else tuple(source)
    fx, fy = mean_norm_floor(n_x, sx), mean_norm_floor(n_y, sy)
    rule = sx if sx == sy else f"{sx}/{sy}"
    nx, ny = float(np.linalg.norm(mx)), float(np.linalg.norm(my))
    short = [
        f"|mean {name}| = {norm:.3g} < {floor:.3g}"
        for name, norm, floor in (("x", nx, fx), ("y", ny, fy))
        if not norm >= floor
    ]
    if short:
        why = {
            "sample": f"{CENTRE_SIGMAS:g} standard errors of a mean of n rows",
            "configuration": "the solver's position accuracy",
        }
        reasons = "; ".join(dict.fromkeys(why[s] for s in (sx, sy)))
        reason = (
            f"centre undefined: {' and '.join(short)} ({reasons}; rule: {rule}); "
            "a mean this short has no direction"
        )
        return CentreAngle(None, reason, nx, ny, fx, fy, rule)
    angle = _angle_between_units(mx / nx, my / ny)
    return CentreAngle(angle, None, nx, ny, fx, fy, rule)
