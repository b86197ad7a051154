"""Benchmark: batched multi-start solver vs the sequential one, side by side in one run.

Not a test (nothing here is run by pytest). Issue 12, item 1: B starts of one problem
advanced as one torch float64 tensor (verify.batched.solve_batched) against the sequential
Riemannian L-BFGS (verify.solvers.solve, method "lbfgs", numpy float64), same seeds, same
tolerance (1e-9), same iteration limit, same final float64 check.

For each (N, h) under the subspace constraint (two hyperplanes at phi = 60 deg, tau = 0.05
as in the issue's first case):
- sequential: ``--seq`` starts (seeds 0..seq-1), time per start and per start-iteration;
- batched: B = 1, 10, 100, 1000 starts (seeds 0..B-1), time per start and per
  start-iteration, the best value found and how many starts converged;
- the ratio (sequential time per start) / (batched time per start), and the extrapolated
  sequential time for B starts (per start x B: seeds are i.i.d., so the per-start mean
  over the first ``seq`` seeds estimates it; its standard error is printed too);
- the agreement: for the seeds run both ways, the largest difference of final losses
  (both solvers run the same algorithm; rounding differences can send a start to another
  local minimum, which is counted);
- the machine's measured float64 matmul throughput (numpy, 512 x 512, one thread) in the
  same run, so that timings from different machines can be put side by side.

Usage:  python bench/batched.py [--sizes 40x4,64x4,256x16] [--batches 1,10,100,1000]
                                [--seq 50] [--max-iter 5000] [--json OUT]
Per-size limits: --batches-for 256x16=1,10 caps the batch sizes of one size.
One thread (OMP_NUM_THREADS=1 and torch.set_num_threads(1)) unless --threads is given.
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

from modgap.verify.batched import solve_batched  # noqa: E402
from modgap.verify.constraints import Subspace  # noqa: E402
from modgap.verify.solvers import solve  # noqa: E402


def matmul_gflops(size: int = 512, reps: int = 5) -> float:
    """Measured float64 matmul throughput of this machine now (numpy, one size x size
    product, median of ``reps``), in GFLOP/s."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((size, size))
    B = rng.standard_normal((size, size))
    A @ B
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        A @ B
        ts.append(time.perf_counter() - t)
    return 2.0 * size**3 / float(np.median(ts)) / 1e9


def _summary(res, wall: float) -> dict:
    iters = [r.n_iter for r in res.per_start]
    return {
        "starts": len(res.per_start),
        "wall_s": wall,
        "per_start_s": wall / len(res.per_start),
        "start_iterations": int(sum(iters)),
        "per_start_iteration_us": 1e6 * wall / max(1, sum(iters)),
        "best_loss_shifted": res.loss_shifted,
        "converged_starts": int(sum(r.converged for r in res.per_start)),
        "losses": [r.loss for r in res.per_start],
    }


def kernel_floor_us(C, n: int, tau: float, b: int = 1000, reps: int = 5) -> float:
    """Time of one batched evaluation of L_N and its gradient (lift, kernel, chain rule) per
    start, in microseconds, at batch size ``b`` (numpy backend, cache-blocked as in the
    solver). Every L-BFGS iteration needs at least one evaluation, so
    (sequential time per start-iteration) / (this) bounds the ratio any batched L-BFGS can
    reach at equal iteration counts on this machine."""
    from modgap.verify.batched import _BatchProblem, _make_ops, _start_params

    prob = _BatchProblem(C, n, tau, _make_ops("numpy", None))
    x = np.stack(_start_params(C, n, range(b), None)[1])
    prob(x)
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        prob(x)
        ts.append(time.perf_counter() - t)
    return 1e6 * float(np.median(ts)) / b


def bench_size(
    n: int,
    h: int,
    batches: list[int],
    seq: int,
    tau: float,
    phi: float,
    max_iter,
    backends: tuple[str, ...] = ("numpy",),
):
    C = Subspace.hyperplanes(h, phi)
    out: dict = {"n": n, "h": h, "tau": tau, "phi_deg": math.degrees(phi)}
    out["gflops_before"] = matmul_gflops()
    t = time.perf_counter()
    rs = solve(C, n, tau, seeds=range(seq), max_iter=max_iter)
    wall = time.perf_counter() - t
    out["sequential"] = _summary(rs, wall)
    out["batched"] = {}
    for backend, b in [(be, b) for be in backends for b in batches]:
        t = time.perf_counter()
        rb = solve_batched(C, n, tau, seeds=range(b), max_iter=max_iter, backend=backend)
        wall = time.perf_counter() - t
        s = _summary(rb, wall)
        s["backend"] = backend
        s["ratio_per_start"] = out["sequential"]["per_start_s"] / s["per_start_s"]
        s["ratio_per_start_iteration"] = (
            out["sequential"]["per_start_iteration_us"] / s["per_start_iteration_us"]
        )
        s["sequential_extrapolated_s"] = out["sequential"]["per_start_s"] * b
        k = min(b, seq)
        diffs = np.abs(np.array(s["losses"][:k]) - np.array(out["sequential"]["losses"][:k]))
        s["same_seeds_max_loss_diff"] = float(diffs.max())
        s["same_seeds_other_minimum"] = int(np.sum(diffs > 1e-7))
        out["batched"][f"{backend}:{b}"] = s
        print(
            f"  ({n},{h}) {backend:5s} B={b:5d}: {s['per_start_s'] * 1e3:9.2f} ms/start "
            f"({s['per_start_iteration_us']:.1f} us/start-iter), "
            f"best {s['best_loss_shifted']:.6f}, "
            f"{s['converged_starts']}/{b} converged, ratio x{s['ratio_per_start']:.1f} per start "
            f"(x{s['ratio_per_start_iteration']:.1f} per start-iteration)",
            flush=True,
        )
    out["kernel_floor_us_per_start_eval"] = kernel_floor_us(C, n, tau)
    out["ceiling_ratio"] = (
        out["sequential"]["per_start_iteration_us"] / out["kernel_floor_us_per_start_eval"]
    )
    out["gflops_after"] = matmul_gflops()
    sq = out["sequential"]
    print(
        f"  ({n},{h}) kernel alone (B = 1000, numpy): "
        f"{out['kernel_floor_us_per_start_eval']:.2f} us per start-evaluation; ceiling of any "
        f"batched L-BFGS at equal iterations: x{out['ceiling_ratio']:.1f}",
        flush=True,
    )
    print(
        f"  ({n},{h}) sequential, {seq} starts: {sq['per_start_s'] * 1e3:.1f} ms/start "
        f"({sq['per_start_iteration_us']:.1f} us/start-iter), best {sq['best_loss_shifted']:.6f}; "
        f"matmul {out['gflops_before']:.2f} -> {out['gflops_after']:.2f} GFLOP/s",
        flush=True,
    )
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--sizes", default="40x4,64x4,256x16")
    p.add_argument("--batches", default="1,10,100,1000")
    p.add_argument("--batches-for", action="append", default=[], metavar="NxH=B1,B2")
    p.add_argument("--seq", type=int, default=50, help="sequential starts per size")
    p.add_argument("--seq-for", action="append", default=[], metavar="NxH=S")
    p.add_argument("--tau", type=float, default=0.05)
    p.add_argument("--phi-deg", type=float, default=60.0)
    p.add_argument("--max-iter", type=int, default=5000)
    p.add_argument("--json", help="write all figures to this file")
    p.add_argument(
        "--backends", default="numpy", help="comma-separated batched backends: numpy, torch"
    )
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    batches = [int(b) for b in a.batches.split(",")]
    per_b = {k: [int(b) for b in v.split(",")] for k, v in (s.split("=") for s in a.batches_for)}
    per_s = {k: int(v) for k, v in (s.split("=") for s in a.seq_for)}
    results = {"threads": a.threads, "torch": torch.__version__, "sizes": []}
    for size in a.sizes.split(","):
        n, h = (int(v) for v in size.split("x"))
        res = bench_size(
            n,
            h,
            per_b.get(size, batches),
            per_s.get(size, a.seq),
            a.tau,
            math.radians(a.phi_deg),
            a.max_iter,
            tuple(a.backends.split(",")),
        )
        results["sizes"].append(res)
        if a.json:
            Path(a.json).write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
