"""Benchmark: wall time of the test suite and of ``paper_repro.py --quick`` next to this
machine's measured matmul throughput, measured side by side in one run.

Not a test (pytest never runs it; no test asserts on time). The reliability issue (#11)
asks for the suite under 150 s and ``paper_repro.py --quick`` under 90 s with one thread on
a slower 2-core machine whose numpy float32 matmul runs at 36 GFLOP/s. Times scale roughly
with that throughput, so next to each time this script prints the estimate
``t * (measured GFLOP/s / 36)`` for the slower kind: a ratio measured here, not a promise
(memory bandwidth and Python overhead scale differently from matmul).

Throughput: numpy float32 and float64 ``A @ B`` for 2048 x 2048 matrices, best of 5, one
thread, measured before and after the timed jobs (the difference shows drift from other
load on the machine).

Each job reports wall time and CPU time (user + system of the child processes) with the
1-minute load average before and after: the project's machines are shared, and wall time
alone mixes in the other jobs' load. ``suite-n2`` runs the suite as two single-threaded
pytest-xdist workers (``-n 2 --dist loadgroup``; tests/conftest.py keeps the tests that
share session evidence in one worker), for comparison with the serial README command.
``repro`` runs ``paper_repro.py --quick`` as a user would (its default ``--jobs``: one
single-threaded worker process per usable CPU), ``repro-j1`` with ``--jobs 1``.

Usage:  python bench/timing.py [--what suite,suite-n2,repro,repro-j1] [--json OUT]
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_v] = "1"
os.environ.setdefault("MPLBACKEND", "Agg")

import argparse  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SLOW_GFLOPS = 36.0  # the slower machine, numpy float32 matmul


def matmul_gflops(dtype: type, n: int = 2048, reps: int = 5) -> float:
    """Best-of-``reps`` GFLOP/s of an n x n x n product (2 n^3 flops)."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((n, n)).astype(dtype)
    B = rng.standard_normal((n, n)).astype(dtype)
    A @ B  # warm-up
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        A @ B
        best = min(best, time.perf_counter() - t0)
    return 2.0 * n**3 / best / 1e9


def _children_cpu() -> float:
    """User + system CPU seconds of this process's finished children so far."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _timed(cmd: list[str]) -> dict:
    """Wall time, CPU time (user + system of the child and its children: on a machine that
    other jobs share, CPU time is the number that does not depend on their load) and the
    1-minute load average before and after."""
    load0 = os.getloadavg()[0]
    cpu0 = _children_cpu()
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    cpu = _children_cpu() - cpu0
    tail = (proc.stdout + proc.stderr).strip().splitlines()[-1:] or [""]
    return {
        "cmd": " ".join(cmd),
        "rc": proc.returncode,
        "wall_s": wall,
        "cpu_s": cpu,
        "load_before": load0,
        "load_after": os.getloadavg()[0],
        "last_line": tail[0],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument(
        "--what",
        default="suite,repro",
        help="comma list: suite, repro, suite-n2 (the suite as two single-threaded "
        "pytest-xdist workers, --dist loadgroup; needs pytest-xdist), repro-j1 "
        "(paper_repro.py --jobs 1: every step in one process; repro uses its default)",
    )
    parser.add_argument("--json", metavar="OUT", help="also write the numbers as JSON")
    args = parser.parse_args(argv)
    jobs = [w.strip() for w in args.what.split(",") if w.strip()]
    known = ("suite", "suite-n2", "repro", "repro-j1")
    bad = [w for w in jobs if w not in known]
    if bad:
        parser.error(f"--what: unknown job(s) {bad}; use {', '.join(known)}")

    res: dict = {"before": {"f32": matmul_gflops(np.float32), "f64": matmul_gflops(np.float64)}}
    py = sys.executable
    if "suite" in jobs:
        res["suite"] = _timed([py, "-m", "pytest", "-q", "-p", "no:cacheprovider"])
    if "suite-n2" in jobs:
        cmd = [py, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2"]
        res["suite-n2"] = _timed(cmd + ["--dist", "loadgroup"])
    for job, extra in (("repro", []), ("repro-j1", ["--jobs", "1"])):
        if job in jobs:
            with tempfile.TemporaryDirectory() as out:
                cmd = [py, "paper_repro.py", "--quick", "--no-cache", "--out", out, *extra]
                res[job] = _timed(cmd)
    res["after"] = {"f32": matmul_gflops(np.float32), "f64": matmul_gflops(np.float64)}
    f32 = min(res["before"]["f32"], res["after"]["f32"])
    print(
        f"numpy matmul, one thread: float32 {res['before']['f32']:.1f} -> "
        f"{res['after']['f32']:.1f} GFLOP/s, float64 {res['before']['f64']:.1f} -> "
        f"{res['after']['f64']:.1f} GFLOP/s (before -> after)"
    )
    for job in jobs:
        r = res[job]
        est = r["wall_s"] * f32 / SLOW_GFLOPS
        r["slow_machine_estimate_s"] = est
        print(
            f"{job}: {r['wall_s']:.1f} s wall, {r['cpu_s']:.1f} s CPU (load "
            f"{r['load_before']:.1f} -> {r['load_after']:.1f}; rc {r['rc']}; {r['last_line']}); "
            f"at {SLOW_GFLOPS:g} GFLOP/s about {est:.0f} s (x {f32 / SLOW_GFLOPS:.2f})"
        )
    if args.json:
        from modgap.verify.atomic import write_json

        write_json(args.json, res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
