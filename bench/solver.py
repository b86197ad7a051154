"""Benchmark: time to an accurate minimiser of symmetric InfoNCE, ours vs the Adam baseline.

Not a test (nothing here is run by pytest). For each (N, h) at tau = 0.07, from the same
random start (Unconstrained(h).random_point(N, rng=0)):

- ours: verify.solvers.solve(method="lbfgs"), Riemannian L-BFGS in numpy float64;
- baseline: the optimiser of public modality-gap code (e.g. Liang et al. 2022, "Mind the
  Gap", and CLIP training loops): Adam on unnormalised parameters W_x, W_y that are
  L2-normalised in the forward pass, loss = cross-entropy of the logits both ways
  (= L_N), torch float64, for each learning rate of a grid, each with a time cap.

Target: loss within 1e-8 of the best value found by any run AND Riemannian gradient norm
below 1e-6 (for Adam: |w_i| * dL/dw_i = P_{x_i} dL/dx_i, read off the Adam gradient).
Also reported:
- the time to 1e-8 of the run's *own* final value with gradient below 1e-6 (convergence to
  its own local minimum; a capped run that gets there only in the last tenth of its time
  was still descending and counts as not converged);
- the time to the loss level that every run reached (speed at equal quality, whichever
  basin each run ends in: runs from one start end in different local minima whose losses
  differ by far more than 1e-8);
- the per-iteration time (whole run, and steady state measured alternately with the
  products) next to the time of the two N x N x h matrix products at this machine's
  measured throughput (numpy float64, same run).
When no Adam run reaches a target, the ratio is reported as a lower bound (shortest Adam
cap / our time).

Usage:  python bench/solver.py [--threads 1] [--sizes 256x16,1024x64,4096x512]
                               [--caps 60,900,1800] [--adam-caps ...]
                               [--lrs 1e-3,3e-3,1e-2[/...]] [--json OUT]
The thread count must be fixed before numpy is imported, hence the early argv parsing.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _threads import fix_threads  # noqa: E402

_THREADS = fix_threads()

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from modgap.verify.constraints import Unconstrained  # noqa: E402
from modgap.verify.solvers import loss_and_grad, release_workspace, solve  # noqa: E402

TARGET_LOSS = 1e-8
TARGET_GRAD = 1e-6


class _TimeUp(Exception):
    pass


def _median_time(fn, reps: int) -> float:
    fn()
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return float(np.median(ts))


def matmul_figures(X: np.ndarray, Y: np.ndarray, reps: int) -> dict:
    """Measured time and GFLOP/s of the N x h by h x N product (numpy float64)."""
    n, h = X.shape
    t = _median_time(lambda: X @ Y.T, reps)
    gflops = 2.0 * n * n * h / t / 1e9
    return {"matmul_s": t, "gflops": gflops, "two_products_s": 2.0 * 2.0 * n * n * h / gflops / 1e9}


def _stamper(stamps: list):
    return lambda *args: stamps.append(time.perf_counter())


def interleaved_per_iteration(
    C, n: int, tau: float, X0, Y0, blocks: int, iters: int, warm: int
) -> dict:
    """Steady-state per-iteration time of ours next to the two N x N x h products, measured
    alternately so that both see the same machine load: each block runs ``warm + iters``
    L-BFGS iterations from X0 and times the last ``iters`` (the first iterations backtrack
    from a steepest-descent step and are not typical), then as many pairs of products;
    medians over the blocks."""
    ratios, per_iter, two = [], [], []
    for _ in range(blocks):
        stamps: list[float] = []
        solve(C, n, tau, X0=X0, Y0=Y0, max_iter=warm + iters, tol=1e-300, callback=_stamper(stamps))
        timed = stamps[warm:]
        it_s = (timed[-1] - timed[0]) / (len(timed) - 1)
        t = time.perf_counter()
        for _ in range(iters):
            X0 @ Y0.T
            X0 @ Y0.T
        tw = (time.perf_counter() - t) / iters
        per_iter.append(it_s)
        two.append(tw)
        ratios.append(it_s / tw)
    return {
        "per_iter_s": float(np.median(per_iter)),
        "two_products_s": float(np.median(two)),
        "ratio": float(np.median(ratios)),
        "blocks": blocks,
        "iters": iters,
        "warm": warm,
    }


def run_ours(C, n: int, tau: float, X0, Y0, cap: float) -> dict:
    trace: list[tuple[float, float, float]] = []
    t0 = time.perf_counter()

    def cb(it, f, g):
        trace.append((time.perf_counter() - t0, f, g))
        if trace[-1][0] > cap:
            raise _TimeUp

    message = None
    try:
        res = solve(C, n, tau, X0=X0, Y0=Y0, method="lbfgs", tol=1e-9, max_iter=10**7, callback=cb)
        message = res.message
        n_fev = res.n_fev
    except _TimeUp:
        message = f"time cap {cap:g} s"
        n_fev = None
    wall = trace[-1][0]
    return {
        "name": "ours (R-L-BFGS, numpy f64)",
        "trace": trace,
        "message": message,
        "iterations": len(trace) - 1,
        "n_fev": n_fev,
        "per_iter_s": wall / max(len(trace) - 1, 1),
    }


def run_adam(n: int, tau: float, X0, Y0, lr: float, cap: float) -> dict:
    """Adam on W (normalised in the forward pass), torch float64: the public-code baseline."""
    import torch.nn.functional as F

    Wx = torch.tensor(X0, dtype=torch.float64, requires_grad=True)
    Wy = torch.tensor(Y0, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([Wx, Wy], lr=lr)
    labels = torch.arange(n)
    trace = []
    t0 = time.perf_counter()
    while True:
        opt.zero_grad(set_to_none=False)
        x = F.normalize(Wx, dim=1)
        y = F.normalize(Wy, dim=1)
        logits = x @ y.T / tau
        loss = F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)
        loss.backward()
        with torch.no_grad():
            rx = Wx.grad * Wx.norm(dim=1, keepdim=True)
            ry = Wy.grad * Wy.norm(dim=1, keepdim=True)
            gn = math.sqrt(float((rx * rx).sum() + (ry * ry).sum()))
        t = time.perf_counter() - t0
        trace.append((t, float(loss.detach()), gn))
        if t > cap or not math.isfinite(trace[-1][1]):
            break
        opt.step()
    return {
        "name": f"Adam lr={lr:g} (torch f64)",
        "trace": trace,
        "message": f"time cap {cap:g} s",
        "iterations": len(trace) - 1,
        "per_iter_s": trace[-1][0] / max(len(trace) - 1, 1),
    }


def time_to(trace, level: float) -> float | None:
    for t, f, g in trace:
        if f - level <= TARGET_LOSS and g <= TARGET_GRAD:
            return t
    return None


def _progress_line(r: dict, mm: dict) -> None:
    t, f, g = r["trace"][-1]
    fev = f", {r['n_fev'] / max(r['iterations'], 1):.3f} evaluations each" if r.get("n_fev") else ""
    print(
        f"  [done] {r['name']}: {r['iterations']} iterations{fev} in {t:.1f} s "
        f"({r['per_iter_s'] / mm['two_products_s']:.2f}x two products per iteration), "
        f"final loss {f:.12g}, grad {g:.2e} [{r['message']}]",
        flush=True,
    )


def bench_size(
    n: int,
    h: int,
    tau: float,
    cap_ours: float,
    cap_adam: float | str,
    lrs,
    partial=None,
    per_iter_only: bool = False,
) -> dict:
    C = Unconstrained(h)
    X0, Y0 = C.random_point(n, rng=0)
    reps = 20 if n <= 1024 else 3
    mm = matmul_figures(X0, Y0, reps)
    kernel = _median_time(lambda: loss_and_grad(X0, Y0, tau), reps)
    if n <= 1024:
        inter = interleaved_per_iteration(C, n, tau, X0, Y0, blocks=5, iters=50, warm=30)
    else:
        inter = interleaved_per_iteration(C, n, tau, X0, Y0, blocks=3, iters=5, warm=5)
    print(
        f"  steady-state per iteration {inter['per_iter_s'] * 1e3:.3f} ms "
        "vs two products "
        f"{inter['two_products_s'] * 1e3:.3f} ms, measured alternately: {inter['ratio']:.2f}x",
        flush=True,
    )
    if per_iter_only:
        return {
            "n": n,
            "h": h,
            "tau": tau,
            "threads": _THREADS,
            "matmul": mm,
            "kernel_s": kernel,
            "interleaved": inter,
        }
    runs = [run_ours(C, n, tau, X0, Y0, cap_ours)]
    _progress_line(runs[-1], mm)
    release_workspace()
    record = {
        "n": n,
        "h": h,
        "tau": tau,
        "threads": _THREADS,
        "matmul": mm,
        "matmul_between_runs": matmul_figures(X0, Y0, reps),  # throughput between the runs
        "kernel_s": kernel,
        "interleaved": inter,
        "runs": runs,
    }
    for lr in lrs:
        if partial is not None:  # what is done survives an interrupted run
            partial(record)
        runs.append(run_adam(n, tau, X0, Y0, lr, _adam_cap(cap_adam, runs[0])))
        _progress_line(runs[-1], mm)
    return _derive(record)


def _adam_cap(cap: float | str, ours: dict) -> float:
    """A cap in seconds, or "<k>x": k times our time to our own final value (so that a
    baseline that does not get there gives the lower bound ratio > k)."""
    if isinstance(cap, str):
        t = time_to(ours["trace"], ours["trace"][-1][1]) or ours["trace"][-1][0]
        return float(cap[:-1]) * t
    return cap


def _ratio(ours_t, adam_runs, key):
    """(ratio, lower bound): min over Adam runs of their time / ours; a lower bound
    (shortest Adam cap / ours) when no Adam run got there; (None, None) if ours did not."""
    if ours_t is None:
        return None, None
    times = [r[key] for r in adam_runs if r[key] is not None]
    if times:
        return min(times) / ours_t, None
    return None, min(r["cap_s"] for r in adam_runs) / ours_t


def _derive(res: dict) -> dict:
    """Targets and ratios from the traces (also used to re-render a saved JSON)."""
    runs = res["runs"]
    best = min(min(f for _, f, _ in r["trace"]) for r in runs)
    for r in runs:
        r["final_loss"] = r["trace"][-1][1]
        r["final_grad"] = r["trace"][-1][2]
        r["time_to_target"] = time_to(r["trace"], best)
        r["cap_s"] = r["trace"][-1][0]
        t_own = time_to(r["trace"], r["final_loss"])
        # a capped run that only got within 1e-8 of its last value in the last tenth of its
        # time was still descending: that is not convergence, so it counts as not reached
        capped = str(r["message"]).startswith("time cap")
        r["time_to_own_final"] = None if capped and t_own and t_own > 0.9 * r["cap_s"] else t_own
    res["best_loss"] = best
    # the level every run reached (the highest of the runs' lowest losses): time to it
    # compares speed at equal quality, whichever basin each run ends in
    level = max(min(f for _, f, _ in r["trace"]) for r in runs)
    for r in runs:
        r["time_to_common_level"] = next(
            (t for t, f, _ in r["trace"] if f - level <= TARGET_LOSS), None
        )
    res["common_level"] = level
    res["ratio_common"] = _ratio(runs[0]["time_to_common_level"], runs[1:], "time_to_common_level")
    best_run = min(runs, key=lambda r: min(f for _, f, _ in r["trace"]))
    if best_run["time_to_own_final"] is None:  # the best value is not a converged minimum
        for r in runs:
            r["time_to_target"] = None
    res["ratio_best"] = _ratio(runs[0]["time_to_target"], runs[1:], "time_to_target")
    res["ratio_own"] = _ratio(runs[0]["time_to_own_final"], runs[1:], "time_to_own_final")
    return res


def runs_unconverged(res: dict) -> bool:
    """True when the run holding the best value found had not converged."""
    best_run = min(res["runs"], key=lambda r: min(f for _, f, _ in r["trace"]))
    return best_run["time_to_own_final"] is None


def _fmt_t(t) -> str:
    return "not reached" if t is None else f"{t:.2f} s"


def report(res: dict) -> None:
    n, h = res["n"], res["h"]
    mm = res["matmul"]
    print(f"\n=== N = {n}, h = {h}, tau = {res['tau']}, threads = {res['threads']} ===")
    print(
        f"matmul N x h x N: {mm['matmul_s'] * 1e3:.3f} ms ({mm['gflops']:.1f} GFLOP/s; "
        f"{res['matmul_between_runs']['gflops']:.1f} GFLOP/s between runs); "
        f"two products: {mm['two_products_s'] * 1e3:.3f} ms; "
        f"loss+grad kernel: {res['kernel_s'] * 1e3:.3f} ms "
        f"({res['kernel_s'] / mm['two_products_s']:.2f}x two products)"
    )
    print(
        f"best loss found: {res['best_loss']:.12g}; level every run reached: "
        f"{res['common_level']:.12g}"
    )
    for r in res["runs"]:
        per = r["per_iter_s"]
        print(
            f"  {r['name']:<30} iters {r['iterations']:>7}  per-iter {per * 1e3:9.3f} ms "
            f"({per / mm['two_products_s']:.2f}x two products)  final loss {r['final_loss']:.12g} "
            f"grad {r['final_grad']:.2e}  to target: {_fmt_t(r['time_to_target'])}  "
            f"to own final: {_fmt_t(r['time_to_own_final'])}  "
            f"to common level: {_fmt_t(r['time_to_common_level'])}  [{r['message']}]"
        )
    for key, label in (
        ("ratio_best", "to the best value found by any run"),
        ("ratio_own", "to each run's own final value (convergence)"),
        ("ratio_common", "to the loss level every run reached (no gradient condition)"),
    ):
        ratio, lower = res[key]
        if ratio is not None:
            print(f"  ratio baseline/ours, time {label}: {ratio:.1f}")
        elif lower is not None:
            print(f"  ratio baseline/ours, time {label}: > {lower:.1f} (no Adam run got there)")
        elif key == "ratio_best" and runs_unconverged(res):
            print(
                f"  ratio baseline/ours, time {label}: undefined (the best value found "
                "comes from a run that had not converged)"
            )
        else:
            print(f"  ratio baseline/ours, time {label}: undefined (ours did not get there)")
    sys.stdout.flush()


def _float_arg(p: argparse.ArgumentParser, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        p.error(f"--adam-caps: each cap must be a positive number or '<k>x', got {text!r}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--sizes", default="256x16,1024x64,4096x512")
    p.add_argument("--tau", type=float, default=0.07)
    p.add_argument("--caps", default="60,900,1800", help="time cap (s) of ours, one per size")
    p.add_argument(
        "--adam-caps",
        help="time cap of each Adam run, one per size: seconds, or '<k>x' for k times our "
        "time to our own final value (default: --caps)",
    )
    p.add_argument(
        "--lrs",
        default="1e-3,3e-3,1e-2",
        help="Adam learning rates; groups separated by '/' give one grid per size",
    )
    p.add_argument("--json", help="write all figures (with traces) to this file")
    p.add_argument("--report", help="print the report of a JSON written by --json, and exit")
    p.add_argument(
        "--per-iter-only",
        action="store_true",
        help="only the per-iteration vs matrix-product figures (no long runs)",
    )
    args = p.parse_args(argv)
    if args.report:
        for res in json.loads(Path(args.report).read_text()):
            report(_derive(res))
        return 0
    torch.set_num_threads(args.threads)
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
    caps = [float(c) for c in args.caps.split(",")]
    if len(caps) != len(sizes):
        p.error("--caps needs one value per size")
    adam_caps = (
        caps
        if args.adam_caps is None
        else [c if c.endswith("x") else _float_arg(p, c) for c in args.adam_caps.split(",")]
    )
    for c in adam_caps:
        try:
            v = float(c[:-1]) if isinstance(c, str) else c
        except ValueError:
            v = math.nan
        if not (math.isfinite(v) and v > 0):
            p.error(f"--adam-caps: each cap must be a positive number or '<k>x', got {c!r}")
    if len(adam_caps) != len(sizes):
        p.error("--adam-caps needs one value per size")
    grids = [[float(v) for v in g.split(",")] for g in args.lrs.split("/")]
    if len(grids) == 1:
        grids = grids * len(sizes)
    if len(grids) != len(sizes):
        p.error("--lrs needs one grid, or one grid per size separated by '/'")
    print(
        f"threads: {args.threads} (OMP/MKL/OpenBLAS and torch); numpy {np.__version__}, "
        f"torch {torch.__version__}; load average {os.getloadavg()}"
    )
    results = []

    def save(current=None):
        if args.json:
            Path(args.json).write_text(json.dumps(results + ([current] if current else [])))

    for (n, h), cap, cap_adam, lrs in zip(sizes, caps, adam_caps, grids, strict=True):
        print(
            f"N = {n}, h = {h}: running (cap {cap:g} s for ours, "
            f"{cap_adam if isinstance(cap_adam, str) else f'{cap_adam:g} s'} per Adam run; "
            f"Adam learning rates {lrs})",
            flush=True,
        )
        res = bench_size(
            n, h, args.tau, cap, cap_adam, lrs, partial=save, per_iter_only=args.per_iter_only
        )
        if args.per_iter_only:
            results.append(res)
            save()
            continue
        report(res)
        results.append(res)
        save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
