"""Global search for min L_N with measured coverage: the entry point of the finite-N checks.

The finite-N readings of Yi, Douady & Chen (arXiv 2510.03268; docs/theory.md §5(b)) minimise
symmetric InfoNCE over a non-convex feasible set; at the small sizes of the checks the
landscape is rugged (issue 12: at (N, h) = (40, 4) under the subspace constraint, 2.5 % of
random starts reach the best value). :func:`multistart` runs every start with the batched
solver (verify.batched) and combines four strategies, each a documented option:

- ``"random"``: i.i.d. starts, uniform on the constraint's lift (seeds seed, seed+1, ...);
- ``"continuation"``: continuation in the temperature (homotopy; Allgower & Georg,
  Introduction to Numerical Continuation Methods, 1990, ch. 1): random starts solved at
  tau * f for each factor f of ``continuation`` (largest first, where the landscape is
  smoother), each stage started from the previous stage's minimisers, ending at tau;
- ``"mapped"``: starts mapped across symmetric branches: given points of other problems
  (e.g. the best minima of another branch of a theorem check) and an isometry (Rx, Ry) of
  R^h that maps that branch's feasible set onto this one's, the images (X Rx^T, Y Ry^T)
  are projected and solved (the reflection y -> y - 2 (y.c) c of the Theorem 2 check is
  :func:`reflection`);
- ``"hop"``: perturb-and-resolve around the best point (basin hopping; Wales & Doye,
  J. Phys. Chem. A 101, 1997): ``hop_rounds`` rounds of ``hop_starts`` perturbations of
  the best point's lift parameters (Gaussian of scale ``hop_sigma`` per coordinate,
  renormalised: always feasible), re-solved; the best moves when a hop improves it.

Every final point of the target problem, whatever its strategy, is pooled into one
:class:`verify.coverage.Coverage` (starts, distinct minima at a stated value resolution,
starts at the best, Good-Turing estimate of the probability that a further start finds an
unseen basin); :func:`verify.coverage.decide` turns it into a verdict. Pooling strategies
is deliberate: non-random starts that find new basins appear as singletons and raise the
estimate, so a search whose random part missed the best basin is not called exhaustive.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._validation import InputError, check_int_in_range, check_positive
from .batched import solve_batched_points
from .constraints import FeasibleSet
from .coverage import DEFAULT_RESOLUTION, Coverage, coverage
from .solvers import SolveResult, StartRecord, check_feasible_set, result_from_finals

__all__ = [
    "multistart",
    "MultiStartResult",
    "Symmetry",
    "reflection",
    "STRATEGIES",
    "DEFAULT_STRATEGIES",
]

STRATEGIES = ("random", "continuation", "mapped", "hop")
#: Strategies of :func:`multistart` unless told otherwise ("mapped" needs points to map).
DEFAULT_STRATEGIES = ("random", "continuation", "hop")
#: Seed offsets of the strategies' random draws (disjoint from the "random" seeds).
_CONT_SEED = 10**9
_HOP_SEED = 2 * 10**9


@dataclass(frozen=True)
class Symmetry:
    """An isometry (x, y) -> (Rx x, Ry y) of R^h x R^h, Rx and Ry orthogonal h x h.

    InfoNCE depends on (X, Y) only through X Y^T, so if Rx = Ry it leaves L_N unchanged;
    with Rx != Ry it maps the feasible set of one branch onto another's and changes L_N
    (e.g. the boundary flip of Theorem 2)."""

    Rx: np.ndarray
    Ry: np.ndarray

    def apply(self, X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(X Rx^T, Y Ry^T)."""
        return X @ self.Rx.T, Y @ self.Ry.T


def reflection(normal: np.ndarray, modality: str = "y", h: int | None = None) -> Symmetry:
    """The Householder reflection I - 2 n n^T / |n|^2 of one modality ("x", "y" or "both"),
    the identity on the other: y -> y - 2 (y.c) c maps a cap around d onto the cap around
    d - 2 (d.c) c (the branch map of the Theorem 2 check)."""
    n = np.asarray(normal, dtype=np.float64).reshape(-1)
    h = n.size if h is None else h
    if n.size != h or not np.all(np.isfinite(n)) or np.linalg.norm(n) == 0.0:
        raise InputError(f"normal must be a finite non-zero vector of size {h}")
    n = n / np.linalg.norm(n)
    H = np.eye(h) - 2.0 * np.outer(n, n)
    eye = np.eye(h)
    if modality not in ("x", "y", "both"):
        raise InputError(f"modality must be 'x', 'y' or 'both', got {modality!r}")
    return Symmetry(
        H if modality in ("x", "both") else eye, H if modality in ("y", "both") else eye
    )


_DELEGATED = ("X", "Y", "centres", "loss", "loss_shifted", "grad_norm", "converged", "message")


@dataclass
class MultiStartResult:
    """Result of :func:`multistart`.

    result: the best start as a :class:`verify.solvers.SolveResult` (its ``converged`` and
    ``message`` say whether that start met the KKT tolerance and why it stopped; its
    ``per_start`` lists every start of every strategy); coverage: the pooled
    :class:`verify.coverage.Coverage`; strategies: per strategy, the starts it ran, its
    best value and how many of its starts converged; best_strategy: where the best came
    from; minima: the points (X, Y, centres, loss) of the ``keep`` lowest basins (for
    mapping to other branches).
    """

    result: SolveResult
    coverage: Coverage
    strategies: dict[str, dict]
    best_strategy: str
    wall_time: float
    minima: list[dict] = field(default_factory=list)

    def __getattr__(self, name: str):
        """X, Y, centres, loss, loss_shifted, grad_norm, converged, message: the best
        start's, from ``result``."""
        if name in _DELEGATED:
            return getattr(self.result, name)
        raise AttributeError(f"MultiStartResult has no attribute {name!r}")

    def summary(self) -> dict:
        """JSON-serialisable: the best start's numbers (SolveResult.summary without the
        per-start list), the coverage record and the per-strategy table."""
        d = self.result.summary()
        d.pop("per_start", None)
        d["coverage"] = self.coverage.summary()
        d["strategies"] = self.strategies
        d["best_strategy"] = self.best_strategy
        d["search_wall_time"] = self.wall_time
        return d


def multistart(
    constraint: FeasibleSet,
    n: int,
    tau: float,
    starts: int = 256,
    strategies: Sequence[str] = DEFAULT_STRATEGIES,
    seed: int = 0,
    *,
    tol: float = 1e-9,
    max_iter: int = 5000,
    resolution: float = DEFAULT_RESOLUTION,
    continuation: Sequence[float] = (4.0, 2.0),
    continuation_starts: int | None = None,
    hop_rounds: int = 2,
    hop_starts: int | None = None,
    hop_sigma: float = 0.3,
    mapped: Sequence[tuple[Sequence, Symmetry]] = (),
    keep: int = 8,
    polish: int = 4,
    device: Any = None,
) -> MultiStartResult:
    """Global search for min L_N(X, Y) (docs/theory.md §1) over ``constraint``, with coverage.

    starts: i.i.d. random starts ("random"); continuation_starts (default starts // 4)
    chains followed from tau * max(continuation) down to tau; hop_rounds rounds of
    hop_starts (default starts // 8) perturbations of the best point; mapped: pairs
    (points, symmetry), points a list of (X, Y) or of ``minima`` dicts of another
    MultiStartResult. Every start is run by :func:`verify.batched.solve_batched_points`
    (float64: numpy on the CPU, torch on ``device`` "cuda"), tol and max_iter per start.
    Then the ``polish`` lowest unconverged starts are refined by
    :func:`verify.faces.polish` (face identification on caps, Riemannian Newton), judged
    by the same KKT tolerance. Returns a :class:`MultiStartResult` whose coverage pools
    every final start at tau.
    """
    check_feasible_set(constraint)
    n = check_int_in_range(n, "n", 2, 10**7)
    tau = check_positive(tau, "tau")
    starts = check_int_in_range(starts, "starts", 1, 10**7)
    seed = check_int_in_range(seed, "seed", 0, 10**8)
    strategies = tuple(strategies)
    for s in strategies:
        if s not in STRATEGIES:
            raise InputError(f"strategies: unknown strategy {s!r}; choose from {STRATEGIES}")
    if not strategies:
        raise InputError("strategies must name at least one strategy")
    if "mapped" in strategies and not mapped:
        raise InputError("strategy 'mapped' needs mapped=[(points, Symmetry), ...]")
    factors = sorted((check_positive(f, "continuation") for f in continuation), reverse=True)
    if "continuation" in strategies and (not factors or min(factors) <= 1.0):
        raise InputError("continuation factors must all be > 1 (tau * factor, down to tau)")
    cstarts = max(1, starts // 4) if continuation_starts is None else continuation_starts
    cstarts = check_int_in_range(cstarts, "continuation_starts", 1, 10**7)
    hstarts = max(1, starts // 8) if hop_starts is None else hop_starts
    hstarts = check_int_in_range(hstarts, "hop_starts", 1, 10**7)
    hop_rounds = check_int_in_range(hop_rounds, "hop_rounds", 0, 1000)
    hop_sigma = check_positive(hop_sigma, "hop_sigma")
    keep = check_int_in_range(keep, "keep", 1, 10**6)
    polish = check_int_in_range(polish, "polish", 0, 10**6)
    kw = dict(tol=tol, max_iter=max_iter, device=device)

    t0 = time.perf_counter()
    pool: list[tuple[str, StartRecord, dict]] = []  # (strategy, record, final point)

    def add(name: str, res: SolveResult, finals: list[dict]) -> None:
        pool.extend((name, r, f) for r, f in zip(res.per_start, finals, strict=True))

    if "random" in strategies:
        add(
            "random",
            *solve_batched_points(constraint, n, tau, seeds=range(seed, seed + starts), **kw),
        )
    if "continuation" in strategies:
        res, finals = solve_batched_points(
            constraint,
            n,
            tau * factors[0],
            seeds=range(_CONT_SEED + seed, _CONT_SEED + seed + cstarts),
            **kw,
        )
        for f in factors[1:] + [1.0]:
            pts = [(p["X"], p["Y"], p["centres"]) for p in finals]
            res, finals = solve_batched_points(constraint, n, tau * f, starts=pts, **kw)
        add("continuation", res, finals)
    if "mapped" in strategies:
        pts = []
        for points, sym in mapped:
            if not isinstance(sym, Symmetry):
                raise InputError("mapped: each entry must be (points, Symmetry)")
            for p in points:
                X, Y = (p["X"], p["Y"]) if isinstance(p, dict) else (p[0], p[1])
                pts.append((*sym.apply(np.asarray(X), np.asarray(Y)), None))
        add("mapped", *solve_batched_points(constraint, n, tau, starts=pts, **kw))
    if "hop" in strategies and pool:
        rng = np.random.default_rng(_HOP_SEED + seed)
        for _ in range(hop_rounds):
            best = min((p for p in pool if p[1].converged), key=lambda p: p[1].loss, default=None)
            best = best or min(pool, key=lambda p: p[1].loss)
            pts = _perturbed(constraint, best[2], hstarts, hop_sigma, rng)
            add("hop", *solve_batched_points(constraint, n, tau, starts=pts, **kw))

    _polish(constraint, n, tau, tol, pool, polish)
    return _assemble(constraint, n, tau, tol, pool, resolution, keep, time.perf_counter() - t0)


def _polish(constraint, n, tau, tol, pool, k) -> None:
    """Refine the k lowest unconverged starts in place (verify.faces.polish)."""
    from .faces import polish

    todo = sorted(
        (i for i, p in enumerate(pool) if not p[1].converged), key=lambda i: pool[i][1].loss
    )
    for i in todo[:k]:
        name, rec, fin = pool[i]
        try:
            pt, _ = polish(constraint, n, tau, fin["X"], fin["Y"], fin["centres"], tol=tol)
        except ValueError:  # too large for a dense Hessian: leave the start as it is
            continue
        if pt["loss"] > fin["loss"] + 1e-9 * max(1.0, abs(fin["loss"])) and not pt["converged"]:
            continue
        fin = dict(fin, **pt)
        rec = StartRecord(
            rec.seed, pt["loss"], pt["grad_norm"], pt["converged"], rec.n_iter, pt["message"]
        )
        pool[i] = (name, rec, fin)


def _perturbed(constraint: FeasibleSet, point: dict, k: int, sigma: float, rng) -> list:
    """k feasible points near ``point``: its lift parameters plus Gaussian noise of scale
    sigma per coordinate, each row renormalised (a point of the lift), mapped forward."""
    blocks = constraint.lift(point["X"], point["Y"], point["centres"])
    out = []
    for _ in range(k):
        nb = []
        for b in blocks:
            z = b + sigma * rng.standard_normal(b.shape)
            nb.append(z / np.linalg.norm(z, axis=1, keepdims=True))
        X, Y, aux = constraint.forward(nb)
        out.append((X, Y, aux[0]))
    return out


def _assemble(constraint, n, tau, tol, pool, resolution, keep, wall) -> MultiStartResult:
    records = [r for _, r, _ in pool]
    cov = coverage([r.loss for r in records], [r.converged for r in records], resolution)
    conv = [i for i, r in enumerate(records) if r.converged]
    cand = conv or list(range(len(records)))
    ib = min(cand, key=lambda i: records[i].loss)
    name = pool[ib][0]
    strategies: dict[str, dict] = {}
    for s, r, _ in pool:
        d = strategies.setdefault(s, {"starts": 0, "converged": 0, "best": math.inf})
        d["starts"] += 1
        d["converged"] += int(r.converged)
        d["best"] = min(d["best"], r.loss)
    for d in strategies.values():
        d["best_shifted"] = d["best"] - 2.0 * math.log(n)
    result = result_from_finals(
        constraint,
        n,
        tau,
        tol,
        "batched multistart",
        records,
        [p[2] for p in pool],
        wall,
        best=ib,
        n_fev=int(sum(p[2]["n_fev"] for p in pool)),
    )
    minima = []
    seen: list[float] = []
    for i in sorted(cand, key=lambda i: records[i].loss):
        v = records[i].loss
        if seen and v - seen[-1] <= resolution:
            continue
        seen.append(v)
        f = pool[i][2]
        minima.append({"X": f["X"], "Y": f["Y"], "centres": f["centres"], "loss": v})
        if len(minima) >= keep:
            break
    return MultiStartResult(result, cov, strategies, name, wall, minima)
