"""Benchmark: the streamed ``modgap analyze`` against the unavoidable work, n = 125k .. 2M.

For each n (d = 768, float32, one (2, n, d) .npy generated on --dir in chunks and deleted
afterwards) this script runs, side by side in the same run, each in a fresh child process
(so that peak resident memory is that child's own VmHWM):

1. ``baseline``: the unavoidable work -- read the file once in chunks (the same positioned
   reads as verify.streaming) and form the two d x d Gram products sum z z^T (BLAS ssyrk,
   float32, the same chunk size), nothing else;
2. ``analyze``: verify.streaming.stream_analyze with its defaults (every measure of
   ``modgap analyze``; retrieval from a seeded sample of queries ranked against all
   candidates -- ``--max-queries``, default 500 here as in the streamed CLI's default);
3. optionally ``analyze`` without retrieval (``--max-queries`` very large is exact, so the
   breakdown uses max_queries = 1: the ranking work is then negligible), to show where the
   time goes.

It prints time, peak RSS, the ratio analyze / baseline per n, the time per million rows (flat
= linear growth) and the log-log slope of time against n, plus the machine's measured
float32 matmul throughput (2048^3 sgemm, GFLOP/s) at the start and the end, and 1024^3 just
before and after every child's work (in the JSON). --rebase runs the baseline again after
the analysis and divides by the mean of the two (the speed of a shared machine drifts
between runs). Threads: one
(OMP/MKL/OpenBLAS = 1) unless --threads. Nothing is asserted: timings are reported.

Usage: python bench/streaming.py [--sizes 125000,250000,...] [--dim 768] [--dir /tmp]
       [--keep] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

SIZES = (125_000, 250_000, 500_000, 1_000_000, 2_000_000)


def _set_threads(n: int) -> None:
    for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[k] = str(n)


def matmul_gflops(reps: int = 3, size: int = 2048) -> float:
    """Best-of-reps GFLOP/s of a size^3 float32 matmul (2 size^3 flops)."""
    import numpy as np

    rng = np.random.default_rng(0)
    A = rng.standard_normal((size, size), dtype=np.float32)
    B = rng.standard_normal((size, size), dtype=np.float32)
    A @ B
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        A @ B
        best = min(best, time.perf_counter() - t)
    return 2 * size**3 / best / 1e9


def generate(path: Path, n: int, d: int, chunk: int = 65_536) -> float:
    """Write a (2, n, d) float32 .npy in chunks (never the whole array in memory); seconds.

    Data: a shared low-rank signal (rank 64) plus per-modality offsets and noise, so that the
    spectra, subspaces and gap measures are not degenerate.
    """
    import numpy as np

    t0 = time.perf_counter()
    rng = np.random.default_rng(12345)
    W = rng.standard_normal((64, d)).astype(np.float32) / 8.0
    off = [rng.standard_normal(d).astype(np.float32) * 0.3 for _ in range(2)]
    with open(path, "wb") as f:
        np.lib.format.write_array_header_2_0(
            f, {"descr": "<f4", "fortran_order": False, "shape": (2, n, d)}
        )
        for m in range(2):
            g = np.random.default_rng(777)  # same latent codes for both modalities: pairs
            for lo in range(0, n, chunk):
                b = min(chunk, n - lo)
                z = g.standard_normal((b, 64), dtype=np.float32)
                x = z @ W + off[m] + 0.05 * rng.standard_normal((b, d), dtype=np.float32)
                f.write(np.ascontiguousarray(x, dtype=np.float32).tobytes())
    return time.perf_counter() - t0


def peak_rss() -> int:
    """Peak resident memory of this process in bytes: VmHWM of /proc/self/status (reset by
    exec, unlike ru_maxrss, which a child inherits from the process that forked it)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:  # pragma: no cover - not Linux
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def child(kind: str, path: str, max_queries: int) -> dict:
    """One measurement in this (fresh) process."""
    import numpy as np
    import scipy.linalg

    from modgap.verify import streaming

    t0 = time.perf_counter()
    src = streaming.open_source(path)
    if kind == "baseline":
        d = src.dim
        for store in (src.images, src.texts):
            U = np.zeros((d, d))
            for lo in range(0, store.n, streaming.CHUNK_ROWS):
                Z = store.read(lo, min(lo + streaming.CHUNK_ROWS, store.n), reuse=store.name)
                U += scipy.linalg.blas.ssyrk(1.0, Z.T, trans=0, lower=0)
        extra = {"trace": float(np.trace(U))}
    else:
        rep = streaming.stream_analyze(src, max_queries=max_queries)
        extra = {
            "centre_angle": rep["gap"]["centre_angle"],
            "effective_dimension_x": rep["effective_dimension_x"],
            "d_overlap": rep["d_overlap"],
            "stream": rep["stream"],
        }
    src.close()
    secs = time.perf_counter() - t0
    return dict(kind=kind, seconds=secs, peak_rss_bytes=peak_rss(), **extra)


def _timed_child(kind: str, path: str, max_queries: int) -> dict:
    """child() with the machine's float32 matmul throughput measured just before and after
    (a shared machine's speed drifts; the ratio of work to throughput is the comparable cost)."""
    before = matmul_gflops(reps=2, size=1024)
    out = child(kind, path, max_queries)
    out["gflops_before"], out["gflops_after"] = before, matmul_gflops(reps=2, size=1024)
    return out


def _run_child(kind: str, path: Path, max_queries: int) -> dict:
    cmd = [sys.executable, __file__, "--child", kind, str(path), "--max-queries", str(max_queries)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (module docstring); prints a table, optionally writes JSON."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    ap.add_argument("--dim", type=int, default=768)
    ap.add_argument("--dir", default="/tmp", help="where the test files go (deleted after)")
    ap.add_argument("--max-queries", type=int, default=500)
    ap.add_argument("--breakdown", action="store_true", help="also analyze without retrieval")
    ap.add_argument(
        "--rebase",
        action="store_true",
        help="run the baseline again after the analysis; ratio to their mean",
    )
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--child", nargs=2, metavar=("KIND", "FILE"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    _set_threads(args.threads)
    if args.child:
        print(json.dumps(_timed_child(args.child[0], args.child[1], args.max_queries)))
        return 0
    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        ap.error(f"--sizes: expected comma-separated integers, got {args.sizes!r}")
    if not sizes or min(sizes) < 1000 or args.dim < 2:
        ap.error("--sizes must be >= 1000 rows and --dim >= 2")
    folder = Path(args.dir)
    if not folder.is_dir():
        ap.error(f"--dir {folder}: not a folder")
    res = dict(dim=args.dim, threads=args.threads, max_queries=args.max_queries, rows=[])
    res["matmul_gflops_start"] = matmul_gflops()
    print(
        f"float32 matmul 2048^3: {res['matmul_gflops_start']:.1f} GFLOP/s ({args.threads} thread)"
    )
    print(
        f"{'n':>9} {'file GB':>8} {'base s':>8} {'analyze s':>10} {'ratio':>6} "
        f"{'base RSS MB':>11} {'analyze RSS MB':>14} {'s / 1M rows':>11}"
    )
    for n in sizes:
        path = folder / f"modgap-bench-{n}x{args.dim}.npy"
        gen = generate(path, n, args.dim)
        try:
            # baseline, analyze, baseline again: the ratio uses the mean of the two
            # baselines around the analysis (the machine's speed drifts between runs)
            base = _run_child("baseline", path, args.max_queries)
            ana = _run_child("analyze", path, args.max_queries)
            base2 = _run_child("baseline", path, args.max_queries) if args.rebase else None
            t_base = (
                base["seconds"] if base2 is None else 0.5 * (base["seconds"] + base2["seconds"])
            )
            row = dict(
                n=n,
                file_bytes=path.stat().st_size,
                generate_seconds=gen,
                baseline=base,
                baseline_after=base2,
                analyze=ana,
                ratio=ana["seconds"] / t_base,
            )
            if args.breakdown:
                row["analyze_no_retrieval"] = _run_child("analyze", path, 1)
        finally:
            if not args.keep:
                path.unlink(missing_ok=True)
        res["rows"].append(row)
        print(
            f"{n:>9} {row['file_bytes'] / 1e9:>8.2f} {ana['seconds'] / row['ratio']:>8.1f} "
            f"{ana['seconds']:>10.1f} {row['ratio']:>6.2f} "
            f"{base['peak_rss_bytes'] / 2**20:>11.0f} {ana['peak_rss_bytes'] / 2**20:>14.0f} "
            f"{ana['seconds'] / n * 1e6:>11.1f}"
            + (
                f"   (no retrieval: {row['analyze_no_retrieval']['seconds']:.1f} s)"
                if args.breakdown
                else ""
            )
        )
        sys.stdout.flush()
        if args.json:
            Path(args.json).write_text(json.dumps(res, indent=2) + "\n")
    res["matmul_gflops_end"] = matmul_gflops()
    if len(sizes) >= 2:
        import numpy as np

        ns = np.array([r["n"] for r in res["rows"]], dtype=float)
        for key in ("baseline", "analyze"):
            ts = np.array([r[key]["seconds"] for r in res["rows"]])
            res[f"loglog_slope_{key}"] = float(np.polyfit(np.log(ns), np.log(ts), 1)[0])
        print(
            f"log-log slope of time vs n: baseline {res['loglog_slope_baseline']:.3f}, "
            f"analyze {res['loglog_slope_analyze']:.3f} (1 = linear)"
        )
    print(f"float32 matmul 2048^3 at the end: {res['matmul_gflops_end']:.1f} GFLOP/s")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
