"""``modgap analyze`` and ``modgap align``: numbers against independent computations,
the verdict's two branches (a planted match and the real CLIP mismatch), errors, files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from modgap.main import main
from modgap.verify import metrics
from modgap.verify.analysis import analyze_embeddings
from modgap.verify.geometry import random_rotation


def unit(Z):
    return Z / np.linalg.norm(Z, axis=1, keepdims=True)


def brute_recall_at_1(X, Y, pairs):
    """Independent R@1 with the full score matrix: i2t hit if the top text is any caption."""
    S = unit(X) @ unit(Y).T
    i2t = np.mean([pairs[np.argmax(S[i])] == i for i in range(len(X)) if np.any(pairs == i)])
    t2i = np.mean(np.argmax(S, axis=0) == pairs)
    return float(i2t), float(t2i)


@pytest.fixture
def captions(tmp_path):
    """40 images, 5 noisy captions each, written as two files and a pairs file."""
    rng = np.random.default_rng(0)
    X = unit(rng.standard_normal((40, 16)) + 0.8)
    pairs = np.repeat(np.arange(40), 5)
    Y = unit(X[pairs] + 0.9 * rng.standard_normal((200, 16)) - 0.8)
    np.save(tmp_path / "img.npy", X.astype(np.float32))
    np.save(tmp_path / "txt.npy", Y.astype(np.float32))
    np.save(tmp_path / "pairs.npy", pairs)
    return tmp_path, X, Y, pairs


# --------------------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def clip_report(liang_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("clip") / "report.json"
    code = main(["analyze", str(liang_dir / "features_clip.npy"), "--json", str(out)])
    assert code == 0
    return json.loads(out.read_text()), out


def test_analyze_clip_matches_reference_values(clip_report, capsys):
    rep, out = clip_report
    # reference values computed independently (docs/theory.md §6)
    assert rep["gap"]["centroid_distance"] == pytest.approx(0.851, abs=5e-4)
    assert np.degrees(rep["gap"]["centre_angle"]) == pytest.approx(72.0, abs=0.05)
    assert rep["gap"]["pair_cosine_mean"] == pytest.approx(0.310, abs=5e-4)
    assert rep["recall"]["i2t"]["1"] == pytest.approx(0.552, abs=1e-9)
    assert rep["recall"]["t2i"]["1"] == pytest.approx(0.506, abs=1e-9)
    assert set(rep["recall"]["i2t"]) == set(rep["recall"]["t2i"]) == {"1", "5", "10"}
    pa = rep["principal_angles_deg"]
    assert pa == sorted(pa) and 0 <= pa[0] and pa[-1] <= 90
    assert rep["smallest_principal_angle_deg"] == pa[0]
    assert rep["predicted_gap_deg"] == pa[rep["d_overlap"]]
    assert isinstance(rep["d_overlap"], int) and rep["d_overlap"] >= 0
    for key in ("gap", "linear_separability", "effective_dimension_x"):
        assert key in rep
    # negative control of the verdict: real CLIP does not sit at the theorem's optimum
    assert rep["verdict"]["prediction_matches"] is False
    assert any("do NOT match" in line for line in rep["verdict"]["text"])
    assert not [p for p in out.parent.iterdir() if p.name != "report.json"]  # no temp left


def test_analyze_agrees_with_gap_report(liang_dir):
    F = np.load(liang_dir / "features_clip.npy")
    rep = analyze_embeddings(F[0], F[1])
    ref = metrics.gap_report(unit(F[0].astype(np.float64)), unit(F[1].astype(np.float64)))
    for key, val in ref.items():
        if key.startswith("recall_"):
            _, dr, _, k = key.split("_")
            assert rep["recall"][dr][k] == val, key
        elif key == "principal_angles_deg":
            assert np.allclose(rep[key], val, atol=1e-6)
        elif key in ("n_pairs",):
            assert rep["n_texts"] == val
        elif key == "gap":
            for k, v in val.items():
                if isinstance(v, float):
                    assert rep["gap"][k] == pytest.approx(v, rel=1e-6, abs=1e-9), k
                else:
                    assert rep["gap"][k] == v, k
        else:
            assert rep[key] == pytest.approx(val, rel=1e-6, abs=1e-9), key


@pytest.mark.parametrize("dtype, tol_deg", [(np.float64, 1e-7), (np.float32, 1e-3)])
def test_large_n_route_equals_metrics_route(liang_dir, dtype, tol_deg):
    # the d x d covariance route (used for large n) against verify.metrics' SVD route.
    # float32: Gram chunks are summed in float32 (rel. error ~1e-6 in cos, i.e. up to
    # ~1e-3 deg near 0); float64: only eigh-vs-SVD rounding.
    F = np.load(liang_dir / "features_clip.npy").astype(dtype)
    a = analyze_embeddings(F[0], F[1])
    b = analyze_embeddings(F[0], F[1], exact_max_entries=0)
    assert a["spectral_route"] != b["spectral_route"]
    for key in ("effective_dimension_x", "effective_dimension_y", "d_overlap"):
        assert a[key] == b[key], key
    for key in ("principal_subspace_dim_x", "principal_subspace_dim_y"):
        assert a[key] == b[key], key
    assert (
        np.max(np.abs(np.subtract(a["principal_angles_deg"], b["principal_angles_deg"]))) < tol_deg
    )
    sa, sb = np.array(a["singular_values_x"]), np.array(b["singular_values_x"])
    assert np.max(np.abs(sa - sb)) < 1e-6 * sa[0]


def test_align_ssp_on_clip_reduces_the_centre_angle(liang_dir, tmp_path, capsys):
    out = tmp_path / "ssp.npy"
    assert main(["align", "ssp", str(liang_dir / "features_clip.npy"), str(out)]) == 0
    text = capsys.readouterr().out
    assert "d_overlap = " in text and "centre angle" in text
    A = np.load(out)
    assert A.shape == (2, 500, 512) and A.dtype == np.float32
    after = np.degrees(metrics.centre_angle(A[0], A[1], normalize=True))
    assert after < 72.0 - 5.0


# --------------------------------------------------------------------------- planted


def test_analyze_prediction_matches_in_the_planted_optimum_geometry():
    # positive control: two hyperplanes at phi, centres orthogonal to C: c_x = a, c_y = b
    # exactly (p and -p both present), so Delta_theta = phi, the angle between the normals
    d, c, n, phi = 8, 6, 400, 0.5
    Q = random_rotation(d, 3)
    C, a = Q[:, :c], Q[:, c]
    b = np.cos(phi) * Q[:, c] + np.sin(phi) * Q[:, c + 1]
    rng = np.random.default_rng(1)
    P = rng.standard_normal((n // 2, c)) @ C.T * 0.4
    P = np.vstack([P, -P])
    s = np.concatenate([np.full(n // 2, 0.8), np.full(n // 2, 0.8)])
    X, Y = unit(P + s[:, None] * a), unit(P + s[:, None] * b)
    rep = analyze_embeddings(X, Y)
    assert rep["d_overlap"] == c
    assert rep["predicted_gap_deg"] == pytest.approx(np.degrees(phi), abs=1e-6)
    assert rep["measured_gap_deg"] == pytest.approx(np.degrees(phi), abs=1e-6)
    assert rep["gap"]["centre_angle"] == pytest.approx(phi, abs=1e-8)
    assert rep["verdict"]["prediction_matches"] is True
    assert rep["smallest_principal_angle_deg"] < 1e-5  # the literal smallest angle is 0


def test_analyze_five_captions_per_image(captions, capsys):
    folder, X, Y, pairs = captions
    out = folder / "rep.json"
    args = ["analyze", str(folder / "img.npy"), str(folder / "txt.npy")]
    assert main(args + ["--pairs", str(folder / "pairs.npy"), "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "image[pairs[j]] with text j" in text
    rep = json.loads(out.read_text())
    assert (rep["n_images"], rep["n_texts"]) == (40, 200)
    # independent: cosine of each text with its own image
    Xf, Yf = (
        unit(X.astype(np.float32).astype(np.float64)),
        unit(Y.astype(np.float32).astype(np.float64)),
    )
    cos = np.einsum("ij,ij->i", Xf[pairs], Yf)
    assert rep["gap"]["pair_cosine_mean"] == pytest.approx(cos.mean(), abs=1e-6)
    i2t, t2i = brute_recall_at_1(Xf, Yf, pairs)
    assert rep["recall"]["i2t"]["1"] == pytest.approx(i2t, abs=1e-12)
    assert rep["recall"]["t2i"]["1"] == pytest.approx(t2i, abs=1e-12)
    assert 0.0 < t2i < 1.0  # a non-trivial task, so the check could fail


# --------------------------------------------------------------------------- errors, files


def test_analyze_errors_exit_2_with_messages(captions, capsys, tmp_path):
    folder, *_ = captions
    img, txt = str(folder / "img.npy"), str(folder / "txt.npy")
    cases = [
        (["analyze", str(folder / "missing.npy")], "missing.npy: file not found"),
        (["analyze", img, txt], "shape mismatch"),
        (["analyze"], "FILE is required"),
        (["analyze", img, "--demo"], "not both"),
        (["analyze", img, txt, "--pairs", img], "pairs file"),
        (["analyze", img, txt, "--plots", str(tmp_path)], "--plots currently needs a single FILE"),
    ]
    for argv, msg in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert msg in err, (argv, err)


def test_analyze_json_not_written_on_error(captions, capsys):
    folder, *_ = captions
    out = folder / "never.json"
    assert (
        main(["analyze", str(folder / "img.npy"), str(folder / "txt.npy"), "--json", str(out)]) == 2
    )
    assert not out.exists()


def test_analyze_demo(capsys):
    datasets = pytest.importorskip("modgap.verify.datasets")
    try:
        datasets.load_demo()
    except (FileNotFoundError, AttributeError) as exc:
        pytest.skip(f"demo dataset not available: {exc}")
    assert main(["analyze", "--demo"]) == 0
    assert "bundled demo" in capsys.readouterr().out


def test_align_held_out_and_npz(captions, tmp_path, capsys):
    folder, X, Y, pairs = captions
    np.savez(
        tmp_path / "in.npz",
        x=X[:20].astype(np.float32),
        y=Y[:100].astype(np.float32),
        pairs=pairs[:100],
    )
    np.savez(tmp_path / "fit.npz", x=X.astype(np.float32), y=Y.astype(np.float32), pairs=pairs)
    out = tmp_path / "out.npz"
    argv = [
        "align",
        "translation",
        str(tmp_path / "in.npz"),
        str(out),
        "--fit",
        str(tmp_path / "fit.npz"),
    ]
    assert main(argv) == 0
    z = np.load(out)
    assert z["x"].shape == (20, 16) and z["y"].shape == (100, 16)
    assert np.array_equal(z["pairs"], pairs[:100])
    # independent: the translation fitted on the FIT set (its means), applied to IN
    Xf, Yf = (
        unit(X.astype(np.float32).astype(np.float64)),
        unit(Y.astype(np.float32).astype(np.float64)),
    )
    g = Xf.mean(0) - Yf.mean(0)
    expect = unit(Xf[:20] - g / 2)
    assert np.allclose(z["x"], expect, atol=1e-5)
    # the .npy output refuses a pair index instead of dropping it
    assert main(["align", "centring", str(tmp_path / "in.npz"), str(tmp_path / "o.npy")]) == 2
    assert "pair index" in capsys.readouterr().err
    assert not (tmp_path / "o.npy").exists()


def test_align_option_errors(captions, tmp_path, capsys):
    folder, X, Y, _ = captions
    np.save(tmp_path / "s.npy", np.stack([X, Y[:40]]))
    cases = [
        (["align", "removal", str(tmp_path / "s.npy"), str(tmp_path / "o.npy")], "needs --k"),
        (
            ["align", "centring", str(tmp_path / "s.npy"), str(tmp_path / "o.npy"), "--k", "2"],
            "--k applies",
        ),
        (["align", "ssp", str(tmp_path / "s.npy"), str(tmp_path / "o.txt")], "unsupported suffix"),
        (["align", "ssp", str(tmp_path / "s.npy"), str(tmp_path / "no" / "o.npy")], "not found"),
    ]
    for argv, msg in cases:
        assert main(argv) == 2, argv
        assert msg in capsys.readouterr().err, argv
    assert not list(tmp_path.glob("o.*"))


def test_dimension_collapse_verdict_both_ways():
    rng = np.random.default_rng(2)
    Q = random_rotation(32, 5)
    low = unit(rng.standard_normal((300, 3)) @ Q[:, :3].T + 0.3 * Q[:, 3])
    low_y = unit(rng.standard_normal((300, 3)) @ Q[:, :3].T - 0.3 * Q[:, 3])
    rep = analyze_embeddings(low, low_y)
    assert rep["effective_dimension_x"] <= 4  # rows span C (3 dims) + the offset direction
    assert rep["verdict"]["dimension_collapse"] is True
    assert rep["verdict"]["text"][0].startswith("Dimension collapse: strong")
    # negative control: isotropic rows in R^32 use (almost) every direction
    iso = analyze_embeddings(
        unit(rng.standard_normal((300, 32))), unit(rng.standard_normal((300, 32)))
    )
    assert iso["verdict"]["dimension_collapse"] is False
    assert iso["verdict"]["text"][0].startswith("Dimension collapse: not present")
