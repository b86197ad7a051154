"""Test configuration: one thread (2-core CI), hypothesis profiles, shared-data location."""

from __future__ import annotations

import gc
import os
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

#: A full (oldest-generation) garbage collection is considered after every 100 collections
#: of the middle generation instead of every 10: collecting the test modules imports torch,
#: sympy, scipy, cvxpy and matplotlib, and the tests build long-lived caches (sympy, the
#: session's evidence documents), which every full collection rescans. Cyclic garbage is
#: still collected, later.
_gen0, _gen1, _ = gc.get_threshold()
gc.set_threshold(_gen0, _gen1, 100)

import pytest  # noqa: E402


def _is_xdist_controller(config) -> bool:
    """True in the pytest-xdist process that only hands tests to its workers (``-n N``,
    N > 0): it collects and runs nothing itself."""
    return not hasattr(config, "workerinput") and bool(config.getoption("numprocesses", None))


@pytest.hookimpl(tryfirst=True)  # before hypothesis's plugin reads --hypothesis-profile
def pytest_configure(config) -> None:
    """One torch thread and the hypothesis profiles, in every process that runs tests, before
    any test module is imported. The xdist controller skips both: importing torch and
    hypothesis there (about 1.6 s) would delay the start of the workers and serve no test."""
    if _is_xdist_controller(config):
        return
    try:  # torch is a dependency, but keep the tests' configuration importable without it
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover
        pass
    from hypothesis import HealthCheck, settings

    settings.register_profile(
        "ci",
        max_examples=15,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    settings.register_profile(
        "thorough",
        max_examples=300,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    settings.load_profile(os.environ.get("MODGAP_HYPOTHESIS_PROFILE", "ci"))


SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "liang2022"


@pytest.fixture(scope="session")
def liang_dir() -> Path:
    """Folder of the Liang et al. (2022) paired embeddings; skips the test when absent."""
    if not (SHARED_DATA / "features_clip.npy").is_file():
        pytest.skip(f"real embeddings not present at {SHARED_DATA}")
    return SHARED_DATA


#: Test files that share session evidence documents (tests/_evidence.py) across files:
#: theorem1's with the figures, dimension_collapse's with the figures, the figure-data
#: producers' between the figures and their own tests. Under pytest-xdist with ``--dist
#: loadgroup`` they run in one worker, so that no document is computed twice; every other
#: file whose tests share an expensive module-scoped fixture is kept in one worker of its
#: own: the theorem2 and theorem3 evidence, the dask LocalCluster (two spawned worker
#: processes; split over two xdist workers it was started twice, 3 s more), the built wheel,
#: the CLIP analysis report, the critical-temperature crossing. The marks are inert without
#: xdist.
EVIDENCE_GROUP = frozenset(
    {"test_figures.py", "test_illustrations.py", "test_theorem1.py", "test_dimension_collapse.py"}
)
FILE_GROUPS = frozenset(
    {
        "test_theorem2.py",
        "test_theorem3.py",
        "test_dask_engine.py",
        "test_wheel.py",
        "test_cli_analyze.py",
        "test_phase.py",
    }
)


#: Files of long single tests (building and installing the wheel; loading the MiniLM text
#: encoder and training one epoch) that xdist workers take first: scheduled last, as their
#: names sort, one of them kept one worker busy for about 2 s after the other had finished.
FRONT = ("test_wheel.py", "test_fashion_clip.py")


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the marks
def pytest_collection_modifyitems(config, items) -> None:
    """Mark the tests of EVIDENCE_GROUP with ``xdist_group("evidence")`` and those of each
    file of FILE_GROUPS with a group named after the file; in an xdist worker, move the
    files of FRONT to the front (a stable reordering: every file stays in one piece)."""
    for item in items:
        name = item.path.name
        if name in EVIDENCE_GROUP:
            item.add_marker(pytest.mark.xdist_group("evidence"))
        elif name in FILE_GROUPS:
            item.add_marker(pytest.mark.xdist_group(name.removesuffix(".py")))
    if hasattr(config, "workerinput"):
        items.sort(key=lambda item: item.path.name not in FRONT)


def pytest_collection_finish(session) -> None:
    """Move everything imported and collected so far (torch, sympy, scipy, the test
    modules: millions of objects that live for the whole session) out of the cyclic garbage
    collector's reach (gc.freeze, Python >= 3.7). Without it every full collection during
    the run rescans them: 20 such collections cost 4.7 s of a 78 s serial run (measured
    with gc.callbacks); objects created by the tests are still collected as usual (see
    also the threshold set at import, above)."""
    gc.collect()
    gc.freeze()


def pytest_unconfigure(config) -> None:
    """One full collection now (garbage whose finaliser raises is still reported by
    pytest's unraisable-exception hook, installed until the cleanup), then freeze what
    survives, so that the hook's own five back-to-back gc.collect() calls at exit do not
    rescan the session's heap (2.4 s, measured)."""
    gc.collect()
    gc.freeze()
