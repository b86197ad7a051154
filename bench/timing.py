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

Side by side with the commit the issue timed (``--baseline DIR``): the issue measured, on the
slower kind, 308 s for that commit's README test command (``python -m pytest -q``, 591
tests) and 198 s for its ``paper_repro.py --quick`` (commit 8d03bab: its tests/test_theorem2.py
line 143 and tests/test_theorem3.py line 191 are the two CPU-time assertions the issue quotes).
With a checkout of that commit installed for ``--baseline-python``, each of our jobs is run
alternately with the baseline's job of the same kind (suite jobs with its suite, repro jobs
with its quick reproduction), ``--repeat`` times, and the estimate for the slower kind is
``ratio (ours / baseline, measured in the same minutes) x the issue's time``: machine drift
cancels in the ratio, and both sides are the same kind of work (Python-heavy tests, small
numpy kernels) rather than one large matmul.

Usage:  python bench/timing.py [--what suite,suite-n2,repro,repro-j1] [--json OUT]
        [--baseline DIR [--baseline-python PY]] [--repeat K]
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
SLOW_GFLOPS = 36.0  # the issue's slower machine, numpy float32 matmul
#: What the issue measured on the slower kind at BASELINE_COMMIT, by kind of job.
ISSUE_TIMES_S = {"suite": 308.0, "repro": 198.0}
BASELINE_COMMIT = "8d03bab"


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


def _timed(cmd: list[str], cwd: Path = ROOT) -> dict:
    """Wall time, CPU time (user + system of the child and its children: on a machine that
    other jobs share, CPU time is the number that does not depend on their load) and the
    1-minute load average before and after."""
    load0 = os.getloadavg()[0]
    cpu0 = _children_cpu()
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
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


def _command(job: str, py: str, out: str) -> list[str]:
    """Our command for ``job`` (out: a scratch folder for paper_repro's results)."""
    suite = [py, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    repro = [py, "paper_repro.py", "--quick", "--no-cache", "--out", out]
    return {
        "suite": suite,
        "suite-n2": suite + ["-n", "2", "--dist", "loadgroup"],
        "repro": repro,
        "repro-j1": repro + ["--jobs", "1"],
    }[job]


def _baseline_command(kind: str, py: str, out: str) -> list[str]:
    """The baseline commit's README test command or quick reproduction (kind: suite, repro)."""
    if kind == "suite":
        return [py, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"]
    return [py, "paper_repro.py", "--quick", "--no-cache", "--out", out]


def _clean_bytecode(*roots: Path) -> None:
    """Remove the __pycache__ folders under ``roots``: every timed run starts like a fresh
    clone (pytest's rewritten test modules and the package's bytecode compiled anew)."""
    import shutil

    for root in roots:
        for folder in root.rglob("__pycache__"):
            inner = folder.relative_to(root).parts
            # the project's own folders only: not .git, nor a virtual environment kept inside
            if not any(p.startswith(".") or p == "site-packages" for p in inner):
                shutil.rmtree(folder, ignore_errors=True)


def _run(job: str, py: str, cmd_for, cwd: Path, roots: tuple[Path, ...]) -> dict:
    _clean_bytecode(*roots)
    with tempfile.TemporaryDirectory() as out:
        return _timed(cmd_for(job, py, out), cwd=cwd)


def _kind(job: str) -> str:
    return "suite" if job.startswith("suite") else "repro"


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
    parser.add_argument(
        "--baseline",
        metavar="DIR",
        help=f"a checkout of commit {BASELINE_COMMIT} (the one the issue timed), run side by "
        "side with each job",
    )
    parser.add_argument(
        "--baseline-python",
        metavar="PY",
        default=sys.executable,
        help="the interpreter the baseline checkout is installed for (default: this one)",
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs of each job (default 1)")
    args = parser.parse_args(argv)
    jobs = [w.strip() for w in args.what.split(",") if w.strip()]
    known = ("suite", "suite-n2", "repro", "repro-j1")
    bad = [w for w in jobs if w not in known]
    if bad:
        parser.error(f"--what: unknown job(s) {bad}; use {', '.join(known)}")
    if args.repeat < 1:
        parser.error(f"--repeat must be >= 1, got {args.repeat}")
    base = None
    if args.baseline:
        base = Path(args.baseline).resolve()
        if not (base / "paper_repro.py").is_file() or not (base / "tests").is_dir():
            parser.error(f"--baseline: {base} is not a checkout of this project")
        if not (os.path.isfile(args.baseline_python) and os.access(args.baseline_python, os.X_OK)):
            parser.error(f"--baseline-python: {args.baseline_python} is not an executable file")
    roots = (ROOT,) if base is None else (ROOT, base)

    res: dict = {"before": {"f32": matmul_gflops(np.float32), "f64": matmul_gflops(np.float64)}}
    py = sys.executable
    for job in jobs:
        runs, pairs = [], []
        for _ in range(args.repeat):
            runs.append(_run(job, py, _command, ROOT, roots))
            if base is not None:
                pairs.append(_run(_kind(job), args.baseline_python, _baseline_command, base, roots))
        res[job] = {"runs": runs, "baseline_runs": pairs}
    res["after"] = {"f32": matmul_gflops(np.float32), "f64": matmul_gflops(np.float64)}
    f32 = min(res["before"]["f32"], res["after"]["f32"])
    print(
        f"numpy matmul, one thread: float32 {res['before']['f32']:.1f} -> "
        f"{res['after']['f32']:.1f} GFLOP/s, float64 {res['before']['f64']:.1f} -> "
        f"{res['after']['f64']:.1f} GFLOP/s (before -> after)"
    )
    for job in jobs:
        for i, r in enumerate(res[job]["runs"]):
            est = r["wall_s"] * f32 / SLOW_GFLOPS
            r["slow_machine_estimate_s"] = est
            line = (
                f"{job}: {r['wall_s']:.1f} s wall, {r['cpu_s']:.1f} s CPU (load "
                f"{r['load_before']:.1f} -> {r['load_after']:.1f}; rc {r['rc']}; "
                f"{r['last_line']}); at {SLOW_GFLOPS:g} GFLOP/s about {est:.0f} s "
                f"(x {f32 / SLOW_GFLOPS:.2f})"
            )
            if base is not None:
                b = res[job]["baseline_runs"][i]
                ratio = r["wall_s"] / b["wall_s"]
                r["baseline_ratio"] = ratio
                r["baseline_estimate_s"] = ratio * ISSUE_TIMES_S[_kind(job)]
                line += (
                    f"\n  baseline {BASELINE_COMMIT} {_kind(job)}: {b['wall_s']:.1f} s wall, "
                    f"{b['cpu_s']:.1f} s CPU (rc {b['rc']}; {b['last_line']}); ratio "
                    f"{ratio:.3f} x the issue's {ISSUE_TIMES_S[_kind(job)]:g} s = about "
                    f"{r['baseline_estimate_s']:.0f} s on the slower kind"
                )
            print(line)
    if args.json:
        from modgap.verify.atomic import write_json

        write_json(args.json, res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
