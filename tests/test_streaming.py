"""verify.streaming against the in-memory analysis and brute force, on data that fits.

Agreement tolerance (stated): float64 inputs, 1e-10 relative on every float of the report
(the two routes differ only in summation order), integers (dimensions, d_overlap) and
retrieval recalls equal; float32 inputs, 1e-5 (the in-memory route normalises in float32,
the streamed one in float64). Uniformity and retrieval exact modes are checked against brute
force written here (all pairs, argsort ranks).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from modgap.main import main
from modgap.verify import analysis, streaming
from modgap.verify.engine import tree_reduce

SKIP = {"stream", "engine", "notes", "verdict", "spectral_route"}


def _planted(n: int, d: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Paired rows with a planted gap (different offsets) and 3 near-null image directions."""
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n, d))
    X = Z + 0.8 * np.eye(d)[0] + 0.3 * rng.normal(size=(n, d))
    Y = Z + 0.8 * np.eye(d)[1] + 0.3 * rng.normal(size=(n, d))
    X[:, -3:] *= 0.01
    return X, Y


def _unit(A: np.ndarray) -> np.ndarray:
    return A / np.linalg.norm(A, axis=1, keepdims=True)


def _compare(mem: dict, st: dict, rtol: float) -> None:
    for k, a in mem.items():
        if k in SKIP:
            continue
        b = st[k]
        if isinstance(a, dict) and k == "gap":  # the GapObservables record, key by key
            _compare(a, b, rtol)
            continue
        if isinstance(a, float):
            assert b == pytest.approx(a, rel=rtol, abs=rtol), k
        elif isinstance(a, list):
            np.testing.assert_allclose(b, a, rtol=rtol, atol=rtol, err_msg=k)
        else:
            assert a == b, k


def _same_report(a: dict, b: dict) -> None:
    """Two streamed reports of the same rows from different layouts: identical numbers."""
    assert {k: v for k, v in a.items() if k != "stream"} == {
        k: v for k, v in b.items() if k != "stream"
    }


@pytest.fixture(scope="module")
def stacked(tmp_path_factory):
    X, Y = _planted(2400, 20)
    path = tmp_path_factory.mktemp("stream") / "emb.npy"
    np.save(path, np.stack([X, Y]))
    return path, X, Y


@pytest.mark.parametrize("max_queries", [300, None])
def test_streamed_report_equals_in_memory_float64(stacked, max_queries):
    path, X, Y = stacked
    src = streaming.open_source(path)
    st = streaming.stream_analyze(src, chunk_rows=500, max_queries=max_queries)
    mem = analysis.analyze_embeddings(
        _unit(X), _unit(Y), max_queries=max_queries or 0, exact_max_entries=0, normalize=False
    )
    _compare(mem, st, 1e-10)
    assert st["recall"] == mem["recall"]
    assert st["stream"]["retrieval"]["mode"] == ("exact" if max_queries is None else "sampled")
    assert st["stream"]["n_chunks"] == 5
    # and the SVD route of the in-memory analysis (spectra agree to rounding)
    svd = analysis.analyze_embeddings(_unit(X), _unit(Y), max_queries=300, normalize=False)
    np.testing.assert_allclose(st["singular_values_x"], svd["singular_values_x"], atol=1e-12)
    assert st["effective_dimension_x"] == svd["effective_dimension_x"] == 17


def test_streamed_report_float32_and_sampled_measures(tmp_path):
    X, Y = _planted(6000, 12, seed=3)
    A = np.stack([X, Y]).astype(np.float32)
    np.save(tmp_path / "e.npy", A)
    st = streaming.stream_analyze(
        streaming.open_source(tmp_path / "e.npy"), chunk_rows=1000, separability_rows=2000
    )
    Xn = A[0] / np.linalg.norm(A[0], axis=1, keepdims=True)
    Yn = A[1] / np.linalg.norm(A[1], axis=1, keepdims=True)
    mem = analysis.analyze_embeddings(Xn, Yn, max_queries=500, exact_max_entries=0)
    for k in ("centroid_distance", "centre_angle", "pair_cosine_mean", "mean_pair_distance"):
        assert st["gap"][k] == pytest.approx(mem["gap"][k], rel=1e-5), k
    for k in (
        "alignment",
        "relative_modality_gap",
        "uniformity_x",
        "uniformity_y",
    ):
        assert st[k] == pytest.approx(mem[k], rel=1e-5), k
    assert st["stream"]["uniformity_x"] == {"mode": "sampled", "rows": 5000}
    assert st["stream"]["linear_separability"]["rows_per_modality"] == [2000, 2000]
    assert any("seeded random subset of 5000" in n for n in st["notes"])
    assert st["recall"]["t2i"]["10"] == pytest.approx(mem["recall"]["t2i"]["10"], abs=0.01)


def test_pairs_index_shards_and_exact_modes_against_brute_force(tmp_path):
    rng = np.random.default_rng(2)
    ni, d = 300, 10
    X = rng.normal(size=(ni, d)) + np.eye(d)[0]
    pairs = np.repeat(np.arange(ni), 2)[rng.permutation(2 * ni)]
    Y = X[pairs] + 0.8 * rng.normal(size=(2 * ni, d)) + 0.5 * np.eye(d)[1]
    np.save(tmp_path / "x.npy", X)
    np.save(tmp_path / "y.npy", Y)
    src = streaming.open_source(tmp_path / "x.npy", tmp_path / "y.npy")
    st = streaming.stream_analyze(
        src, pairs, chunk_rows=128, max_queries=None, uniformity_rows=None
    )
    mem = analysis.analyze_embeddings(_unit(X), _unit(Y), pairs, max_queries=0, exact_max_entries=0)
    _compare(mem, st, 1e-10)
    # brute force: uniformity over all pairs, t2i ranks by argsort of the full score matrix
    Yn, Xn = _unit(Y), _unit(X)
    iu = np.triu_indices(2 * ni, 1)
    d2 = ((Yn[:, None, :] - Yn[None, :, :]) ** 2).sum(-1)[iu]
    assert st["uniformity_y"] == pytest.approx(math.log(np.mean(np.exp(-2 * d2))), rel=1e-10)
    S = Yn @ Xn.T
    rank = (S > S[np.arange(2 * ni), pairs][:, None]).sum(1)
    assert st["recall"]["t2i"]["1"] == pytest.approx(np.mean(rank < 1))
    # clip-retrieval shards (uneven shard sizes) give the same report as one (2, n, d) file
    Yp = Y[:ni]
    (tmp_path / "sh" / "img_emb").mkdir(parents=True)
    (tmp_path / "sh" / "text_emb").mkdir()
    for i, (a, b) in enumerate([(0, 40), (40, 200), (200, ni)]):
        np.save(tmp_path / "sh" / "img_emb" / f"img_emb_{i}.npy", X[a:b])
    for i, (a, b) in enumerate([(0, 150), (150, ni)]):
        np.save(tmp_path / "sh" / "text_emb" / f"text_emb_{i}.npy", Yp[a:b])
    np.save(tmp_path / "both.npy", np.stack([X, Yp]))
    kw = dict(chunk_rows=64, max_queries=50)
    a = streaming.stream_analyze(streaming.open_source(tmp_path / "sh"), **kw)
    b = streaming.stream_analyze(streaming.open_source(tmp_path / "both.npy"), **kw)
    _same_report(a, b)


def test_zarr_equals_npy(tmp_path):
    zarr = pytest.importorskip("zarr")
    X, Y = _planted(500, 8)
    A = np.stack([X, Y]).astype(np.float32)
    z = zarr.open_array(
        tmp_path / "e.zarr", mode="w", shape=A.shape, chunks=(1, 64, 8), dtype="float32"
    )
    z[:] = A
    np.save(tmp_path / "e.npy", A)
    kw = dict(chunk_rows=100, max_queries=40)
    a = streaming.stream_analyze(streaming.open_source(tmp_path / "e.zarr"), **kw)
    b = streaming.stream_analyze(streaming.open_source(tmp_path / "e.npy"), **kw)
    _same_report(a, b)


def test_bad_inputs_give_named_errors(tmp_path):
    X, Y = _planted(50, 4)
    bad = np.stack([X, Y])
    bad[1, 17, 2] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    with pytest.raises(ValueError, match="texts: NaN or inf in row 17"):
        streaming.stream_analyze(streaming.open_source(tmp_path / "nan.npy"), chunk_rows=16)
    zero = np.stack([X, Y])
    zero[0, 33] = 0.0
    np.save(tmp_path / "zero.npy", zero)
    with pytest.raises(ValueError, match="images: zero row at index 33"):
        streaming.stream_analyze(streaming.open_source(tmp_path / "zero.npy"), chunk_rows=16)
    np.save(tmp_path / "flat.npy", X)
    with pytest.raises(ValueError, match=r"shape \(2, n, d\)"):
        streaming.open_source(tmp_path / "flat.npy")
    raw = (tmp_path / "zero.npy").read_bytes()
    (tmp_path / "cut.npy").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match="truncated"):
        streaming.open_source(tmp_path / "cut.npy")
    np.save(tmp_path / "y5.npy", np.ones((50, 5)))
    with pytest.raises(ValueError, match="dimension 4, texts 5"):
        streaming.open_source(tmp_path / "flat.npy", tmp_path / "y5.npy")
    with pytest.raises(ValueError, match="same file"):
        streaming.open_source(tmp_path / "flat.npy", tmp_path / "flat.npy")
    (tmp_path / "junk.npy").write_bytes(b"not numpy")
    with pytest.raises(ValueError, match="not a readable .npy"):
        streaming.open_source(tmp_path / "junk.npy")
    with pytest.raises(FileNotFoundError):
        streaming.open_source(tmp_path / "absent.npy")


def test_tree_reduce_order_is_fixed_by_count():
    # a non-commutative combine shows the tree; it must keep the items in order
    for n in range(1, 12):
        out = tree_reduce((str(i) for i in range(n)), lambda a, b: f"({a}{b})")
        assert out.replace("(", "").replace(")", "") == "".join(str(i) for i in range(n))
    assert tree_reduce(["0", "1", "2", "3"], lambda a, b: f"({a}{b})") == "((01)(23))"
    with pytest.raises(ValueError):
        tree_reduce([], lambda a, b: a)


def test_cli_streams_shards_and_refuses_output_over_input(tmp_path, capsys):
    X, Y = _planted(600, 6)
    (tmp_path / "img_emb").mkdir()
    (tmp_path / "text_emb").mkdir()
    np.save(tmp_path / "img_emb" / "img_emb_0.npy", X.astype(np.float32))
    np.save(tmp_path / "text_emb" / "text_emb_0.npy", Y.astype(np.float32))
    out = tmp_path / "rep.json"
    assert main(["analyze", str(tmp_path), "--json", str(out), "--no-progress"]) == 0
    rep = json.loads(out.read_text())
    assert rep["engine"] == "in-process"
    # streamed default: 500 queries per direction; a value given by the user is kept
    assert rep["stream"]["retrieval"] == {"mode": "sampled", "queries": [500, 500]}
    assert "streaming:" in capsys.readouterr().out
    np.save(tmp_path / "e.npy", np.stack([X, Y]))
    assert (
        main(
            [
                "analyze",
                str(tmp_path / "e.npy"),
                "--stream",
                "--max-queries",
                "5000",
                "--json",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    assert json.loads(out.read_text())["stream"]["retrieval"]["mode"] == "exact"
    assert (
        main(["analyze", str(tmp_path / "e.npy"), "--stream", "--json", str(tmp_path / "e.npy")])
        == 2
    )
    assert "output path is one of the inputs" in capsys.readouterr().err
