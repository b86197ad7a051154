"""Thread count of a bench script, fixed from argv before numpy or torch is imported."""

from __future__ import annotations

import os
import sys


def fix_threads(argv: list[str] | None = None) -> int:
    """Read ``--threads N`` (default 1) from argv and export it as OMP/MKL/OPENBLAS threads."""
    argv = sys.argv if argv is None else argv
    threads = 1
    for i, a in enumerate(argv):
        if a == "--threads" and i + 1 < len(argv):
            threads = int(argv[i + 1])
        elif a.startswith("--threads="):
            threads = int(a.split("=", 1)[1])
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    return threads
