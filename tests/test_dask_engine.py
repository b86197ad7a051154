"""The Dask path: a dask.distributed LocalCluster with two worker processes gives the same
numbers as the in-process engine (streamed analysis: identical, since both combine the
chunk sums by the same tree; sweep points: identical). Skips cleanly without distributed."""

from __future__ import annotations

import numpy as np
import pytest

from modgap.verify import streaming, sweep
from modgap.verify.engine import SCHEDULER_ENV, resolve_scheduler


@pytest.fixture(scope="module")
def cluster():
    # imported here, not at collection: only the xdist worker that runs these tests pays for
    # importing distributed (0.35 s)
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as c:
        yield c


def test_streamed_analysis_on_the_cluster_equals_in_process(cluster, tmp_path):
    rng = np.random.default_rng(4)
    ni, d = 400, 12
    X = rng.normal(size=(ni, d)) + np.eye(d)[0]
    pairs = np.repeat(np.arange(ni), 2)[rng.permutation(2 * ni)]
    Y = X[pairs] + 0.7 * rng.normal(size=(2 * ni, d))
    np.save(tmp_path / "x.npy", X.astype(np.float32))
    np.save(tmp_path / "y.npy", Y.astype(np.float32))
    src = streaming.open_source(tmp_path / "x.npy", tmp_path / "y.npy")
    kw = dict(chunk_rows=96, max_queries=100)
    here = streaming.stream_analyze(src, pairs, **kw)
    there = streaming.stream_analyze(src, pairs, scheduler=cluster.scheduler_address, **kw)
    assert there["engine"].startswith("dask.distributed tcp://")
    assert here["stream"]["n_chunks"] == there["stream"]["n_chunks"] == 9 + 5
    for k in here:
        if k not in ("stream", "engine"):
            assert here[k] == there[k], k


def test_sweep_on_the_cluster_equals_in_process(cluster, tmp_path, monkeypatch):
    pts = sweep.grid_points("margin", [4], [1.0, 10.0], [0.5, 1.2], [0.02])
    here, _ = sweep.run_sweep("margin", pts, tmp_path / "a")
    monkeypatch.setenv(SCHEDULER_ENV, cluster.scheduler_address)  # the env-var route
    assert resolve_scheduler(None) == cluster.scheduler_address
    there, counts = sweep.run_sweep("margin", pts, tmp_path / "b")
    assert counts["computed"] == 4
    strip = lambda rs: [{k: v for k, v in r.items() if k != "seconds"} for r in rs]
    assert strip(here) == strip(there)
