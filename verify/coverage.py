"""How much of a non-convex landscape a multi-start search has seen, and what a finite-N
verdict may conclude from it.

Every finite-N verdict of this project ("nothing beats Delta = 0", "nothing beats the
claim", every observable "at the optimum") rests on the best value a multi-start search
found for min L_N (Yi, Douady & Chen, arXiv 2510.03268; docs/theory.md §5). This module says
how thorough that search was:

- local minima are identified by their value: the final losses of the converged starts,
  sorted, are split wherever two neighbours differ by more than ``resolution`` (single
  linkage in one dimension). Minima related by a symmetry of the problem (rotations that
  fix the constraint, permutations of the pairs) have equal values and are one basin here,
  which is what a verdict about the optimal value needs;
- the Good-Turing estimate of the probability that one more start would land in a basin
  not seen yet is N_1 / n, the fraction of starts whose basin was found exactly once
  (I. J. Good, "The population frequencies of species and the estimation of population
  parameters", Biometrika 40, 1953, eq. 2 with r = 0; Robbins, Ann. Math. Stat. 39, 1968:
  it is unbiased for the missing mass of n - 1 starts). A start that did not converge found
  no minimum: it counts as a singleton (conservative);
- the decision rule of issue 12, item 4 (:func:`decide`): a verdict that rests on "nothing
  found beats X" is CONFIRMED only when that estimate is below
  :data:`GOOD_TURING_THRESHOLD`; otherwise INCONCLUSIVE, with the estimate as the reason.
  Something found that beats X is a counterexample whatever the coverage (REFUTED).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import NamedTuple

import numpy as np

from ._validation import InputError, as_array, check_positive

__all__ = [
    "Coverage",
    "Decision",
    "coverage",
    "decide",
    "GOOD_TURING_THRESHOLD",
    "DEFAULT_RESOLUTION",
]

# both defined once, in modgap.verify.settings
from .settings import GOOD_TURING_THRESHOLD  # noqa: E402
from .settings import MINIMUM_RESOLUTION as DEFAULT_RESOLUTION  # noqa: E402


@dataclass(frozen=True)
class Coverage:
    """The coverage record of a multi-start search.

    starts: starts run; converged: how many met the KKT tolerance; resolution: the value
    resolution of the clustering; distinct_minima: basins found (clusters of converged
    values); best: lowest final value of a converged start (None if none converged);
    starts_at_best: starts in the best basin; singletons: basins found exactly once, plus
    the unconverged starts; good_turing = singletons / starts, the estimated probability
    that a further start finds a basin not yet seen; basin_values / basin_counts: the
    basins, lowest first (value = the cluster's lowest member).
    """

    starts: int
    converged: int
    resolution: float
    distinct_minima: int
    best: float | None
    starts_at_best: int
    singletons: int
    good_turing: float
    basin_values: list[float] = field(default_factory=list)
    basin_counts: list[int] = field(default_factory=list)

    def summary(self, max_basins: int = 20) -> dict:
        """JSON-serialisable dict (the ``max_basins`` lowest basins listed)."""
        d = asdict(self)
        d["basin_values"] = d["basin_values"][:max_basins]
        d["basin_counts"] = d["basin_counts"][:max_basins]
        d["threshold"] = GOOD_TURING_THRESHOLD
        return d

    def describe(self) -> str:
        """One line: starts, minima, starts at the best, Good-Turing estimate."""
        return (
            f"{self.starts} starts ({self.converged} converged), {self.distinct_minima} distinct "
            f"minima at resolution {self.resolution:.1g}, {self.starts_at_best} at the best, "
            f"Good-Turing P(unseen basin) = {self.good_turing:.3f}"
        )


def coverage(
    values: Sequence[float],
    converged: Sequence[bool] | None = None,
    resolution: float = DEFAULT_RESOLUTION,
) -> Coverage:
    """Cluster the final values of a multi-start search and estimate its missing mass.

    values: final loss of every start; converged: whether each start met its tolerance
    (default all True). Clusters: sorted converged values split where consecutive values
    differ by more than ``resolution``. good_turing = N_1 / n (Good 1953), N_1 = number of
    basins found once + number of unconverged starts, n = number of starts.
    """
    v = as_array(values, "values", ndim=1)
    if v.size == 0:
        raise InputError("values must contain at least one start")
    if not np.all(np.isfinite(v)):
        raise InputError("values must be finite")
    if converged is None:
        ok = np.ones(v.size, dtype=bool)
    else:
        ok = np.asarray(converged, dtype=bool).reshape(-1)
        if ok.size != v.size:
            raise InputError(f"converged must have one entry per value ({v.size}), got {ok.size}")
    resolution = check_positive(resolution, "resolution")
    vals, counts = _clusters(np.sort(v[ok]), resolution)
    unconverged = int(v.size - ok.sum())
    singletons = int(sum(c == 1 for c in counts)) + unconverged
    return Coverage(
        starts=int(v.size),
        converged=int(ok.sum()),
        resolution=float(resolution),
        distinct_minima=len(counts),
        best=vals[0] if vals else None,
        starts_at_best=counts[0] if counts else 0,
        singletons=singletons,
        good_turing=singletons / v.size,
        basin_values=vals,
        basin_counts=counts,
    )


def _clusters(sorted_values: np.ndarray, resolution: float) -> tuple[list[float], list[int]]:
    """Single-linkage clusters of sorted values: (lowest member, size) per cluster."""
    vals: list[float] = []
    counts: list[int] = []
    prev = -math.inf
    for x in sorted_values:
        if x - prev > resolution:
            vals.append(float(x))
            counts.append(0)
        counts[-1] += 1
        prev = x
    return vals, counts


class Decision(NamedTuple):
    """Outcome of :func:`decide`: verdict ("CONFIRMED", "REFUTED", "INCONCLUSIVE") and why."""

    verdict: str
    reason: str


def decide(
    beaten: bool, cov: Coverage, threshold: float = GOOD_TURING_THRESHOLD, what: str = "X"
) -> Decision:
    """The verdict of a claim "nothing beats ``what``" after a search with coverage ``cov``.

    beaten: the search found a feasible value below ``what`` (beyond the caller's tolerance):
    REFUTED (a counterexample needs no coverage). Otherwise CONFIRMED if
    cov.good_turing < threshold, else INCONCLUSIVE with the estimate as the reason
    (issue 12, item 4; Good 1953 for the estimate).
    """
    if not isinstance(cov, Coverage):
        raise InputError(f"cov must be a verify.coverage.Coverage, got {type(cov).__name__}")
    threshold = check_positive(threshold, "threshold")
    if beaten:
        return Decision("REFUTED", f"the search found a value below {what} ({cov.describe()})")
    if cov.good_turing < threshold:
        return Decision(
            "CONFIRMED",
            f"nothing found beats {what}; {cov.describe()} < threshold {threshold:g}",
        )
    return Decision(
        "INCONCLUSIVE",
        f"nothing found beats {what}, but the search is not exhaustive enough: "
        f"{cov.describe()} >= threshold {threshold:g}",
    )
