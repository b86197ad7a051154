"""Memory guard: estimate what a request needs before allocating it, refuse it clearly if
the machine does not have that much.

A request that cannot fit should end with one sentence naming the argument and the
estimate, not with gigabytes of swapping, a numpy MemoryError traceback or a native abort
(a BLAS or solver ``malloc`` failing inside C code cannot be caught at all). The estimates
below are models of the dominant allocations, measured on this code base (see each
function); they are meant to be within a small factor, which is what a guard needs.
"""

from __future__ import annotations

import os
from pathlib import Path

from ._validation import InputError

__all__ = [
    "available_memory_bytes",
    "format_bytes",
    "check_memory",
    "solver_bytes",
    "gram_certificate_bytes",
    "embeddings_analysis_bytes",
]


def _cgroup_headroom() -> int | None:
    """Bytes left under the cgroup (v2 or v1) memory limit, if one is set."""
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        (
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
            "/sys/fs/cgroup/memory/memory.usage_in_bytes",
        ),
    ):
        try:
            raw = Path(limit_file).read_text().strip()
            if raw == "max":
                return None
            limit, usage = int(raw), int(Path(usage_file).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit >= 1 << 60:  # cgroup v1 "unlimited"
            return None
        return max(0, limit - usage)
    return None


def available_memory_bytes() -> int | None:
    """Memory a new allocation can use now: ``MemAvailable`` of ``/proc/meminfo`` (Linux),
    else ``os.sysconf('SC_AVPHYS_PAGES') * SC_PAGE_SIZE``, capped by the headroom under a
    cgroup limit when one is set. None when the platform tells nothing.
    """
    avail = None
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        avail = None
    if avail is None:
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            avail = None
    head = _cgroup_headroom()
    if head is not None:
        avail = head if avail is None else min(avail, head)
    return avail


def format_bytes(nbytes: float) -> str:
    """``1.5e9`` -> ``'1.4 GiB'`` (binary units)."""
    value = float(nbytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(value) < 1024 or unit == "PiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} PiB"  # pragma: no cover


def check_memory(
    nbytes: float,
    argument: str,
    what: str,
    *,
    available: int | None = None,
    fraction: float = 0.9,
) -> float:
    """Raise :class:`InputError` when a request needs more than ``fraction`` of the memory
    available now (:func:`available_memory_bytes`, or ``available`` if given).

    The message names ``argument`` (e.g. ``"--n"``), what is allocated and both sizes.
    Returns ``nbytes``. When the available memory is unknown nothing is refused.
    """
    avail = available_memory_bytes() if available is None else available
    if avail is not None and nbytes > fraction * avail:
        raise InputError(
            f"{argument}: {what} needs about {format_bytes(nbytes)} of memory, but this "
            f"machine has {format_bytes(avail)} available; reduce {argument}"
        )
    return nbytes


def solver_bytes(n: int, h: int) -> float:
    """Peak bytes of one start of :func:`verify.solvers.solve` on N pairs in R^h.

    Model ``8 (9 N^2 + 40 N h)``: the N x N logits, their two softmaxes and the gradient
    products in float64 (tracemalloc peaks measured here: 8.2 N^2 float64 entries for
    N = 500 ... 2000, h = 4 ... 64, both L-BFGS and Riemannian gradient descent), plus the
    L-BFGS history of 2 N h vectors. Starts run one after another, so starts do not add up.
    """
    n, h = int(n), int(h)
    return 8.0 * (9.0 * n * n + 40.0 * n * h)


def gram_certificate_bytes(n: int, n_fixed: int = 4) -> float:
    """Peak bytes of :func:`verify.certificates.certify` (cvxpy + CLARABEL) for N pairs.

    The Gram variable is M x M with M = 2N + ``n_fixed`` (normals and centres of the
    constraint; at most 4 for the command line's hyperplane and cap constraints). CLARABEL
    treats the PSD cone of vectorised size T = M (M + 1) / 2 with a dense T x T scaling
    block in float64: ``8 T^2`` bytes (N = 200: 54 GB, the 51 GB allocation the
    reliability issue saw abort natively; N = 40: 0.1 GB).
    """
    m = 2 * int(n) + int(n_fixed)
    t = m * (m + 1) / 2.0
    return 8.0 * t * t


def embeddings_analysis_bytes(n_images: int, n_texts: int, d: int, itemsize: int = 4) -> float:
    """Peak bytes of ``modgap analyze`` (:func:`verify.analysis.analyze_embeddings`).

    Model ``4 (n_x + n_y) d itemsize + 8 (4 d^2) + 256 MiB``: the loaded matrices and about
    three working copies (normalised rows, centred copies for the spectra and the SVDs), the
    d x d covariance / Gram matrices in float64, and two retrieval score blocks of at most
    128 MiB each. Measured: 100k x 1024 float32 pairs peaked at 3.3 GB; the model gives
    3.6 GB.
    """
    rows = int(n_images) + int(n_texts)
    return 4.0 * rows * int(d) * int(itemsize) + 8.0 * 4 * int(d) ** 2 + 256.0 * 2**20
