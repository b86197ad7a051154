"""``modgap sweep``: Theorem 3's population check over a grid, resumable, in-process or on Dask.

Presentation only: the numbers come from verify.sweep / verify.phase (docs/phase.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from modgap.verify._validation import InputError

NAME = "sweep"
HELP = (
    "Theorem 3 population reading over a grid of (h, tau, kappa, phi): the margin "
    "F(claimed) - F(in C), or the critical temperature tau*; cached per point, resumable, "
    "optionally on a dask.distributed cluster"
)


def _floats(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers: {text!r}") from exc


def _ints(text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers: {text!r}") from exc


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments: KIND --out FILE [--cache DIR] [--grid phase|quick] [--h/--kappa/--phi/--tau]."""
    parser.add_argument(
        "kind",
        choices=("critical", "margin"),
        help="critical: tau*(h, kappa, phi) by root-finding; margin: "
        "D = F(claimed) - F(in C) at each (h, tau, kappa, phi)",
    )
    parser.add_argument(
        "--out", required=True, metavar="FILE", help="result file (JSON, written atomically)"
    )
    parser.add_argument(
        "--cache",
        metavar="DIR",
        help="per-point cache folder (default: FILE's folder / sweep_cache)",
    )
    parser.add_argument(
        "--grid",
        choices=("phase", "quick"),
        help="a predefined (h, kappa, phi) grid (verify.sweep.PHASE_GRID / "
        "QUICK_GRID); --h/--kappa/--phi override its axes",
    )
    parser.add_argument("--h", type=_ints, metavar="H,...", help="ambient dimensions (>= 3)")
    parser.add_argument("--kappa", type=_floats, metavar="K,...", help="vMF concentrations")
    parser.add_argument(
        "--phi", type=_floats, metavar="PHI,...", help="hyperplane angles in radians, in (0, pi/2]"
    )
    parser.add_argument(
        "--tau", type=_floats, metavar="TAU,...", help="temperatures (margin sweeps only)"
    )
    parser.add_argument(
        "--checks",
        type=int,
        default=0,
        metavar="N",
        help="critical: Monte Carlo and full-minimisation checks at N crossings",
    )
    parser.add_argument(
        "--mc-samples",
        type=int,
        default=100_000,
        metavar="N",
        help="Monte Carlo pairs per configuration for --checks (default 1e5)",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="dask.distributed scheduler address (default: "
        "$MODGAP_DASK_SCHEDULER, else this process)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    """Build the grid, run or resume it, write the result file, print a summary."""
    from modgap.verify import sweep
    from modgap.verify.atomic import JSON_SUFFIXES, check_output_dir, check_output_path

    out = check_output_path(args.out, "--out", suffixes=JSON_SUFFIXES)
    cache = Path(args.cache) if args.cache else out.parent / "sweep_cache"
    if cache.resolve() == out.resolve():
        raise InputError("--cache must be a folder, not the result file --out")
    check_output_dir(cache, "--cache" if args.cache else "--cache (default)", create=True)
    if args.checks < 0 or args.mc_samples < 2:
        raise InputError("--checks must be >= 0 and --mc-samples >= 2")
    base = (
        {}
        if args.grid is None
        else dict(sweep.PHASE_GRID if args.grid == "phase" else sweep.QUICK_GRID)
    )
    grid = dict(base)
    for axis in ("h", "kappa", "phi"):
        if getattr(args, axis) is not None:
            grid[axis] = getattr(args, axis)
        if axis not in grid:
            raise InputError(f"--{axis}: give the axis values or --grid")
    if args.kind == "margin":
        if not args.tau:
            raise InputError("--tau: a margin sweep needs temperatures")
        grid["tau"] = args.tau
    elif args.tau:
        raise InputError("--tau: a critical sweep finds the temperature itself")
    pts = sweep.grid_points(args.kind, grid["h"], grid["kappa"], grid["phi"], grid.get("tau"))
    print(f"modgap sweep {args.kind}: {len(pts)} points, cache {cache}")
    sys.stdout.flush()
    results, counts = sweep.run_sweep(
        args.kind, pts, cache, scheduler=args.scheduler, progress=not args.no_progress
    )
    rows = []
    if args.kind == "critical" and args.checks:
        rows = sweep.checks(results, n_points=args.checks, n_samples=args.mc_samples)
    sweep.write_result(out, args.kind, grid, results, rows, counts=counts)
    print(f"{counts['cached']} cached, {counts['computed']} computed")
    if args.kind == "critical":
        by = {}
        for r in results:
            by[r["status"]] = by.get(r["status"], 0) + 1
        print("status: " + ", ".join(f"{k} {v}" for k, v in sorted(by.items())))
    else:
        fails = sum(r["claim_fails"] for r in results)
        print(f"claim fails (D > quadrature error) at {fails} of {len(results)} points")
    for r in rows:
        print(
            f"  check h={r['h']} kappa={r['kappa']:g} phi={r['phi']:.3f} tau={r['tau']:.4g}: "
            f"MC D = {r['D_monte_carlo']:+.4g} +- {r['stderr']:.2g} (quadrature "
            f"{r['D_quadrature']:+.4g}), minimiser {r.get('minimiser', 'n/a')}"
        )
    print(f"wrote {out}")
    return 0
