"""Reliability (issue 11), numbers and requests: retrieval ties, overflow-safe norms, small
angles, the memory guard and degenerate requests, each against a planted or independent
answer."""

from __future__ import annotations

import itertools
import tracemalloc

import mpmath as mp
import numpy as np
import pytest

from modgap.main import main
from modgap.verify import memory, metrics
from modgap.verify._validation import InputError, as_unit_rows
from modgap.verify.analysis import analyze_embeddings

# ----------------------------------------------------------------------------- item 6


def test_identical_candidates_tie_exactly_and_warn():
    rng = np.random.default_rng(0)
    Y = rng.standard_normal((50, 16))
    Y /= np.linalg.norm(Y, axis=1, keepdims=True)
    X = np.tile(Y[:1], (50, 1))  # 50 identical image rows
    with pytest.warns(RuntimeWarning, match="49 duplicated row"):
        r = metrics.retrieval_recall(X, Y, (1,))
    # every text's partner is "the" image: it ties with all others and wins ties
    assert r["t2i"][1] == 1.0
    # one image row for all: only the text scoring highest against it is ranked first
    assert r["i2t"][1] == pytest.approx(1 / 50)


def _brute_ranks(Xi, Yi, pairs):
    """Exact integer scores (no rounding at all) and the rule: rank = # strictly greater."""
    S = Xi @ Yi.T  # int64
    t2i = np.array([np.sum(S[:, j] > S[pairs[j], j]) for j in range(Yi.shape[0])])
    i2t = []
    for i in range(Xi.shape[0]):
        own = np.flatnonzero(pairs == i)
        if own.size:
            i2t.append(np.sum(S[i] > S[i, own].max()))
    return np.array(i2t), t2i


@pytest.mark.parametrize("seed,dtype", itertools.product([0, 1, 2], [np.float64, np.float32]))
def test_ties_against_exact_integer_scores(seed, dtype):
    """Rows (+-1/4)^16 are unit vectors whose cosines are multiples of 1/16, exact in any
    float: rounding cannot break a tie, so the exact integer ranks are the reference."""
    rng = np.random.default_rng(seed)
    d, n_img = 16, 30
    Xi = rng.choice([-1, 1], size=(n_img, d))
    Xi[rng.integers(0, n_img, 8)] = Xi[0]  # duplicated images
    pairs = rng.integers(0, n_img, 45)  # several captions per image
    Yi = np.where(rng.random((45, d)) < 0.8, Xi[pairs], -Xi[pairs])
    Yi[5:12] = Yi[5]  # duplicated captions
    ks = (1, 2, 5)
    with pytest.warns(RuntimeWarning):
        got = metrics.retrieval_recall(
            (Xi / 4).astype(dtype), (Yi / 4).astype(dtype), ks, pairs=pairs, block_size=7
        )
    i2t, t2i = _brute_ranks(Xi, Yi, pairs)
    for k in ks:
        assert got["i2t"][k] == pytest.approx(np.mean(i2t < k), abs=1e-15)
        assert got["t2i"][k] == pytest.approx(np.mean(t2i < k), abs=1e-15)


def test_sampled_queries_use_the_same_rule():
    rng = np.random.default_rng(4)
    Xi = rng.choice([-1, 1], size=(40, 16))
    Yi = np.where(rng.random((40, 16)) < 0.75, Xi, -Xi)
    Yi[3:9] = Yi[3]
    with pytest.warns(RuntimeWarning):
        full = metrics.retrieval_recall(Xi / 4, Yi / 4, (1, 3))
        sampled = metrics.retrieval_recall(Xi / 4, Yi / 4, (1, 3), max_queries=40)
    i2t, t2i = _brute_ranks(Xi, Yi, np.arange(40))
    assert full == sampled
    assert full["t2i"][3] == pytest.approx(np.mean(t2i < 3), abs=1e-15)


# ----------------------------------------------------------------------------- item 7


@pytest.mark.parametrize(
    "scale,dtype", [(1e25, np.float32), (3e37, np.float32), (1e200, np.float64)]
)
def test_row_norms_do_not_overflow(scale, dtype):
    rng = np.random.default_rng(5)
    Z = rng.standard_normal((20, 12))
    U = Z / np.linalg.norm(Z, axis=1, keepdims=True)
    big = (Z * scale).astype(dtype)
    assert np.all(np.isfinite(big))
    got = as_unit_rows(big, "X", normalize=True, dtype=dtype)
    np.testing.assert_allclose(got, U, atol=5 * np.finfo(dtype).eps)
    big[3] = 0.0
    with pytest.raises(InputError, match="1 zero row"):  # a true zero row still is one
        as_unit_rows(big, "X", normalize=True, dtype=dtype)


def test_large_scale_rows_through_the_command_line(tmp_path, capsys):
    rng = np.random.default_rng(6)
    arr = rng.standard_normal((2, 40, 8))
    np.save(tmp_path / "big.npy", (arr * 1e25).astype(np.float32))
    np.save(tmp_path / "ref.npy", arr.astype(np.float32))
    assert main(["analyze", str(tmp_path / "big.npy"), "--json", str(tmp_path / "b.json")]) == 0
    assert main(["analyze", str(tmp_path / "ref.npy"), "--json", str(tmp_path / "r.json")]) == 0
    import json

    b = json.loads((tmp_path / "b.json").read_text())
    r = json.loads((tmp_path / "r.json").read_text())
    assert b["gap"]["centroid_distance"] == pytest.approx(r["gap"]["centroid_distance"], rel=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_small_pair_angles_are_accurate(dtype):
    """Identical rows: exactly 0. Planted angles 1e-6 .. 1e-2 rad: mpmath reference."""
    rng = np.random.default_rng(7)
    X = rng.standard_normal((30, 8))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    Xd = X.astype(dtype)
    assert np.max(metrics.pair_angles(Xd, Xd, normalize=True)) == 0.0
    # rotate each row by a planted small angle in a random plane through it
    T = rng.standard_normal((30, 8))
    T -= np.sum(T * X, axis=1, keepdims=True) * X
    T /= np.linalg.norm(T, axis=1, keepdims=True)
    th = np.logspace(-6, -2, 30)
    Y = np.cos(th)[:, None] * X + np.sin(th)[:, None] * T
    got = metrics.pair_angles(X, Y)
    for g, x, y in zip(got, X, Y, strict=True):
        mp.mp.dps = 40
        xm, ym = [mp.mpf(float(v)) for v in x], [mp.mpf(float(v)) for v in y]
        dot = mp.fsum(a * b for a, b in zip(xm, ym, strict=True))
        nx, ny = mp.sqrt(mp.fsum(a * a for a in xm)), mp.sqrt(mp.fsum(b * b for b in ym))
        ref = mp.acos(dot / (nx * ny))
        assert g == pytest.approx(float(ref), rel=1e-8)


# ----------------------------------------------------------------------------- item 4


def test_memory_guard_names_argument_and_estimate():
    with pytest.raises(InputError, match=r"--n: .* needs about 1\.0 GiB .* 512\.0 MiB"):
        memory.check_memory(2**30, "--n", "something", available=2**29)
    assert memory.check_memory(100, "--n", "x", available=2**29) == 100
    # certificate model: 8 T^2 with T = M (M + 1) / 2, M = 2N + 4 (hand computed for N = 200)
    assert memory.gram_certificate_bytes(200) == 8 * (404 * 405 // 2) ** 2
    assert memory.available_memory_bytes() is None or memory.available_memory_bytes() > 0


def test_solver_memory_model_against_measurement():
    """tracemalloc peak of one short solve within a factor 2 of the model, both ways."""
    from modgap.verify.constraints import Subspace
    from modgap.verify.solvers import solve

    n, h = 400, 6
    tracemalloc.start()
    solve(Subspace.hyperplanes(h, 0.5), n, 0.2, seeds=(0,), max_iter=3)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert 0.5 < memory.solver_bytes(n, h) / peak < 2.0


@pytest.mark.parametrize(
    "argv,name",
    [
        (["--n", "10000000"], "--n"),
        (["--n", "200", "--certify"], "--n"),
    ],
)
def test_solve_refuses_requests_larger_than_the_machine(argv, name, capsys, monkeypatch):
    monkeypatch.setattr(memory, "available_memory_bytes", lambda: 8 * 2**30)
    base = ["solve", "--h", "3", "--tau", "0.5", "--constraint", "none"]
    assert main(base + argv) == 2
    err = capsys.readouterr().err
    assert name in err and "needs about" in err and "GiB" in err


# ----------------------------------------------------------------------------- item 9


@pytest.mark.parametrize(
    "argv,msg",
    [
        (["--tau", "1e-300"], "--tau must lie in"),
        (["--tau", "1e300"], "--tau must lie in"),
        (["--h", "2", "--constraint", "subspace", "--phi-deg", "30"], "--h must be >= 3"),
        (["--max-iter", "0"], "--max-iter"),
        (["--n", "1"], "--n must be >= 2"),
        (["--json", "/"], "--json"),
    ],
)
def test_solve_rejects_absurd_requests(argv, msg, capsys):
    args = {"--n": "8", "--h": "3", "--tau": "0.5", "--constraint": "none"}
    it = iter(argv)
    extra = []
    for a in it:
        if a in args:
            args[a] = next(it)
        else:
            extra.append(a)
            if a != "--certify":
                extra.append(next(it))
    flat = [x for kv in args.items() for x in kv]
    assert main(["solve", *flat, *extra]) == 2
    assert msg in capsys.readouterr().err


def test_analyze_rejects_negative_max_queries(tmp_path, capsys):
    np.save(tmp_path / "a.npy", np.random.default_rng(0).standard_normal((2, 10, 4)))
    assert main(["analyze", str(tmp_path / "a.npy"), "--max-queries", "-1"]) == 2
    assert "--max-queries" in capsys.readouterr().err


def test_prediction_undefined_when_every_direction_is_shared():
    """Both modalities fill the same 3-dim subspace of R^8: all principal angles are 0 and
    shared, so no angle lies outside C and phi is undefined (not a made-up 0)."""
    rng = np.random.default_rng(8)
    X, Y = np.zeros((200, 8)), np.zeros((200, 8))
    X[:, :3] = rng.standard_normal((200, 3)) + 2.0
    Y[:, :3] = rng.standard_normal((200, 3)) + 2.0
    rep = analyze_embeddings(X, Y, normalize=True)
    assert rep["d_overlap"] == len(rep["principal_angles_deg"])
    assert rep["predicted_gap_deg"] is None
    text = " ".join(rep["verdict"]["text"])
    assert "UNDEFINED" in text and "agree" not in text


def test_d1_data_warn(tmp_path, capsys):
    np.save(tmp_path / "d1.npy", np.random.default_rng(9).standard_normal((2, 20, 1)) + 3)
    main(["analyze", str(tmp_path / "d1.npy")])
    assert "d = 1" in capsys.readouterr().err


def test_library_rejects_negative_max_queries():
    rng = np.random.default_rng(10)
    X, Y = rng.standard_normal((10, 4)), rng.standard_normal((10, 4))
    with pytest.raises(InputError, match="max_queries"):
        analyze_embeddings(X, Y, normalize=True, max_queries=-1)
