"""Resumable sweeps of Theorem 3's population check over parameter grids (``modgap sweep``).

Two kinds of point (this project's population reading, verify.phase and verify.population;
Theorem 3 of Yi, Douady & Chen, arXiv 2510.03268):

- ``margin``: (h, tau, kappa, phi) -> D = F(claimed) - F(centres together in C) with its
  quadrature error (D > 0: the claim fails there);
- ``critical``: (h, kappa, phi) -> the critical temperature tau*
  (verify.phase.critical_temperature).

Each finished point is written at once to its own JSON file in a cache folder (atomically,
verify.atomic), keyed by the point's parameters; a rerun with the same folder loads the
cached points whose parameters and numerical settings match and computes only the rest, so
an interrupted sweep resumes where it stopped. Points run in this process or on a
dask.distributed cluster (verify.engine.map_unordered; ``scheduler`` or
$MODGAP_DASK_SCHEDULER). The combined result file (:func:`write_result`) is what
figures/fig8_theorem3_phase.py draws from; its format is documented in docs/phase.md.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from modgap.verify import phase
from modgap.verify._validation import InputError, check_angle, check_int_in_range, check_positive
from modgap.verify.atomic import write_json, write_text
from modgap.verify.engine import map_unordered

__all__ = [
    "KINDS",
    "FORMAT",
    "PHASE_GRID",
    "QUICK_GRID",
    "grid_points",
    "run_sweep",
    "checks",
    "write_result",
    "load_result",
    "phase_diagram",
]

KINDS = ("margin", "critical")
#: Version tag of the cached points and of the result file.
FORMAT = "modgap-sweep-1"
#: The phase-diagram grid of docs/phase.md: 13 x 9 x 16 = 1872 (h, kappa, phi) points.
PHASE_GRID: dict[str, tuple[float, ...]] = dict(
    h=(3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 128, 256, 512),
    kappa=(0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0),
    phi=tuple(round(float(p), 6) for p in np.linspace(0.05, 1.55, 16)),
)
#: A small grid for quick reproduction runs (3 x 1 x 4 = 12 points, a few seconds).
QUICK_GRID: dict[str, tuple[float, ...]] = dict(
    h=(4, 16, 64),
    kappa=(10.0,),
    phi=(0.4, 0.8, 1.2, 1.55),
)


def _settings(kind: str) -> dict[str, Any]:
    """Numerical settings a cached point must match to be reused."""
    return dict(
        format=FORMAT,
        kind=kind,
        tau_min=phase.TAU_MIN,
        tau_max=phase.TAU_MAX,
        n_scan=phase.N_SCAN,
        n_quad=phase.N_QUAD,
        n_circle=phase.N_CIRCLE,
    )


def _check_point(kind: str, p: dict[str, Any]) -> dict[str, Any]:
    out = dict(
        h=check_int_in_range(p["h"], "h", 3, 1 << 20),
        kappa=float(check_positive(p["kappa"], "kappa")),
        phi=check_angle(p["phi"], "phi", low=1e-6),
    )
    if kind == "margin":
        out["tau"] = check_positive(p["tau"], "tau")
    return out


def grid_points(
    kind: str,
    hs: Sequence[int],
    kappas: Sequence[float],
    phis: Sequence[float],
    taus: Sequence[float] | None = None,
) -> list[dict[str, Any]]:
    """The Cartesian grid as a list of points (dicts), validated; taus only for "margin"."""
    if kind not in KINDS:
        raise InputError(f"kind must be one of {KINDS}, got {kind!r}")
    if kind == "margin" and not taus:
        raise InputError("taus: a margin sweep needs at least one temperature")
    if kind == "critical" and taus:
        raise InputError("taus: a critical sweep finds tau itself; give no temperatures")
    for name, seq in (("h", hs), ("kappa", kappas), ("phi", phis)):
        if not seq:
            raise InputError(f"{name}: the grid needs at least one value")
    pts = []
    for h in hs:
        for kappa in kappas:
            for phi in phis:
                for tau in taus if kind == "margin" else (None,):
                    p = dict(h=int(h), kappa=float(kappa), phi=float(phi))
                    if tau is not None:
                        p["tau"] = float(tau)
                    pts.append(_check_point(kind, p))
    return pts


def _key(kind: str, p: dict[str, Any]) -> str:
    base = f"{kind}_h{p['h']}_k{p['kappa']:.8g}_p{p['phi']:.8g}"
    return base + (f"_t{p['tau']:.8g}" if kind == "margin" else "") + ".json"


def _compute(task: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    """One point (module-level, so that dask can pickle it)."""
    kind, p = task
    t0 = time.perf_counter()
    if kind == "critical":
        out = phase.critical_temperature(p["h"], p["kappa"], p["phi"]).to_dict()
    else:
        D, err = phase.claim_margin(p["h"], p["tau"], p["kappa"], p["phi"], estimate_error=True)
        out = dict(p, margin=D, margin_error=err, claim_fails=bool(D > err))
    out["seconds"] = time.perf_counter() - t0
    return out


def _load_cached(path: Path, kind: str, p: dict[str, Any]) -> dict[str, Any] | None:
    try:
        rec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # absent or unreadable: recompute
    if rec.get("settings") != _settings(kind) or rec.get("point") != p:
        return None
    return rec["result"]


def run_sweep(
    kind: str,
    points: Sequence[dict[str, Any]],
    cache_dir: str | Path,
    *,
    scheduler: str | None = None,
    progress: bool = False,
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Results for every point (in the order given) and counts {"cached", "computed"}.

    Cached points (same parameters and settings) are loaded from ``cache_dir``; the others
    are computed in this process or on the Dask cluster at ``scheduler`` and each is written
    to the cache as soon as it finishes (atomic rename: an interrupted sweep leaves only
    whole files behind).
    """
    if kind not in KINDS:
        raise InputError(f"kind must be one of {KINDS}, got {kind!r}")
    cache = Path(cache_dir)
    if cache.exists() and not cache.is_dir():
        raise InputError(f"cache_dir {cache}: exists and is not a folder")
    cache.mkdir(parents=True, exist_ok=True)
    pts = [_check_point(kind, p) for p in points]
    results: list[dict[str, Any] | None] = [None] * len(pts)
    todo = []
    for i, p in enumerate(pts):
        results[i] = _load_cached(cache / _key(kind, p), kind, p)
        if results[i] is None:
            todo.append(i)
    tasks = [(kind, pts[i]) for i in todo]
    for j, out in map_unordered(
        _compute, tasks, scheduler=scheduler, progress=progress, desc=f"sweep {kind}"
    ):
        i = todo[j]
        write_json(
            cache / _key(kind, pts[i]), dict(settings=_settings(kind), point=pts[i], result=out)
        )
        results[i] = out
    return [r for r in results if r is not None], dict(
        cached=len(pts) - len(todo), computed=len(todo)
    )


def checks(
    results: Sequence[dict[str, Any]],
    *,
    n_points: int = 4,
    n_samples: int = 100_000,
    factors: tuple[float, float] = (0.6, 1.6),
    minimise: bool = True,
    min_tau_star: float = 3e-3,
) -> list[dict[str, Any]]:
    """Independent checks at ``n_points`` crossings (tau* >= min_tau_star, where Monte Carlo
    resolves D) spread over h: at tau = f tau* for each
    factor f, Monte Carlo D (verify.phase.monte_carlo_check: its sign must be + below tau*,
    - above) and, for h >= 4, a full minimisation over the centres (verify.phase.minimiser_check:
    the minimiser must be "in_C" below and "claimed" above)."""
    crossing = [
        r for r in results if r.get("status") == "crossing" and r["tau_star"] >= min_tau_star
    ]
    if not crossing:
        return []
    crossing.sort(key=lambda r: (r["h"], r["kappa"], r["phi"]))
    picks = [
        crossing[int(i)]
        for i in np.unique(np.linspace(0, len(crossing) - 1, n_points).round().astype(int))
    ]
    out = []
    for r in picks:
        for f in factors:
            tau = f * r["tau_star"]
            mc = phase.monte_carlo_check(r["h"], r["kappa"], r["phi"], tau, n_samples=n_samples)
            rec = dict(mc, tau_star=r["tau_star"], factor=f, expected_sign=1 if f < 1 else -1)
            rec["sign_agrees"] = bool(
                np.sign(mc["D_monte_carlo"]) == rec["expected_sign"]
                and abs(mc["D_monte_carlo"]) > 2 * mc["stderr"]
            )
            if minimise and r["h"] >= 4:
                mn = phase.minimiser_check(r["h"], r["kappa"], r["phi"], tau)
                rec["minimiser"] = mn["minimiser"]
                rec["F_best_minus_F_claimed"] = mn["F_best"] - mn["F_claimed"]
                rec["centre_angle_best"] = mn["centre_angle_best"]
            out.append(rec)
    return out


def write_result(
    path: str | Path,
    kind: str,
    grid: dict[str, Sequence[float]],
    results: Sequence[dict[str, Any]],
    check_rows: Sequence[dict[str, Any]] = (),
    *,
    include_scan: bool = False,
    **meta: Any,
) -> Path:
    """The combined result file (JSON, atomic): format, kind, settings, grid, points, checks.

    Each point is its result record without the tau scan (the scan stays in the per-point
    cache files, which keeps the file small: about 0.5 kB per point), unless
    ``include_scan``. Non-finite floats are written as null.
    """
    pts = [r if include_scan else {k: v for k, v in r.items() if k != "scan"} for r in results]
    doc = dict(
        format=FORMAT,
        kind=kind,
        settings=_settings(kind),
        grid={k: [float(v) for v in vals] for k, vals in grid.items()},
        points=pts,
        checks=list(check_rows),
        **meta,
    )

    def _default(o: Any) -> Any:
        if isinstance(o, (np.floating, np.integer)):
            return o.item()
        raise InputError(f"not JSON-serialisable: {type(o).__name__}")

    def _clean(o: Any) -> Any:
        if isinstance(o, float) and not math.isfinite(o):
            return None
        if isinstance(o, dict):
            return {k: _clean(v) for k, v in o.items()}
        if isinstance(o, (list, tuple)):
            return [_clean(v) for v in o]
        return o

    text = json.dumps(_clean(doc), separators=(",", ":"), allow_nan=False, default=_default)
    return write_text(path, text + "\n")


def load_result(path: str | Path) -> dict[str, Any]:
    """Read a result file of :func:`write_result`, checking its format tag."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as exc:
        raise InputError(f"{p}: not a readable sweep result ({exc})") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise InputError(f"{p}: not a {FORMAT} result file")
    return doc


def phase_diagram(
    out_dir: str | Path,
    *,
    quick: bool = True,
    scheduler: str | None = None,
    n_checks: int | None = None,
) -> Path:
    """Run (or resume) the tau* sweep and write ``out_dir/theorem3_phase.json``.

    The entry point for paper_repro.py: QUICK_GRID (12 points, a few seconds) when ``quick``,
    PHASE_GRID (1872 points, about 15 minutes on one core) otherwise; cache in
    ``out_dir/sweep_cache``; Monte Carlo / minimiser checks at ``n_checks`` crossings
    (default 2 quick, 6 full). Returns the result file's path.
    """
    grid = QUICK_GRID if quick else PHASE_GRID
    out = Path(out_dir)
    pts = grid_points("critical", grid["h"], grid["kappa"], grid["phi"])
    results, counts = run_sweep("critical", pts, out / "sweep_cache", scheduler=scheduler)
    n_checks = (2 if quick else 6) if n_checks is None else n_checks
    rows = checks(results, n_points=n_checks, n_samples=50_000 if quick else 200_000)
    return write_result(
        out / "theorem3_phase.json", "critical", grid, results, rows, counts=counts, quick=quick
    )
