"""verify.datasets: the committed demo embeddings and the Liang et al. (2022) loader."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np
import pytest

from modgap.verify.datasets import LIANG2022_NAMES, load_demo, load_liang2022
from modgap.verify.metrics import centre_angle, centroid_distance, retrieval_recall
from modgap.verify.objective import infonce

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo():
    return load_demo("all")


def test_demo_shapes_dtype_unit_rows_and_split(demo):
    X, Y, meta = demo
    assert X.shape == Y.shape == (2000, 32)
    assert X.dtype == Y.dtype == np.float32
    for A in (X, Y):
        assert np.max(np.abs(np.linalg.norm(A.astype(np.float64), axis=1) - 1.0)) < 1e-6
    assert np.array_equal(np.bincount(meta["labels"]), np.full(10, 200))
    assert meta["split"] == "all" and meta["is_train"].sum() == 1600
    Xtr, Ytr, mtr = load_demo("train")
    Xte, Yte, mte = load_demo("test")
    assert Xtr.shape == (1600, 32) and Xte.shape == (400, 32)
    assert mtr["is_train"].all() and not mte["is_train"].any()
    assert np.array_equal(np.bincount(mte["labels"]), np.full(10, 40))  # stratified
    assert np.array_equal(Xte, X[mte["index"]]) and np.array_equal(Ytr, Y[mtr["index"]])
    assert set(mtr["index"]).isdisjoint(mte["index"])
    with pytest.raises(ValueError, match="split"):
        load_demo("validation")


def test_demo_provenance_is_complete_and_matches_the_arrays(demo):
    X, Y, meta = demo
    for key in ("dataset", "dataset_licence", "views", "model", "training", "versions"):
        assert key in meta
    assert "CC BY 4.0" in meta["dataset_licence"]
    assert meta["model"]["temperature"] == "fixed"
    for key in ("seed", "epochs", "tau"):
        assert key in meta["model"]
    # integrity: the stored hashes are those of the arrays we load
    assert hashlib.sha256(X.tobytes()).hexdigest() == meta["arrays"]["sha256_x"]
    assert hashlib.sha256(Y.tobytes()).hexdigest() == meta["arrays"]["sha256_y"]


def test_recorded_final_loss_is_the_loss_of_the_stored_training_embeddings():
    X, Y, meta = load_demo("train")
    tau = meta["model"]["tau"]
    recomputed = infonce(X.astype(np.float64), Y.astype(np.float64), tau, normalize=True)
    assert recomputed == pytest.approx(meta["training"]["final_loss"], rel=1e-4)
    assert recomputed < meta["training"]["initial_loss"]


def test_demo_is_really_aligned_held_out_retrieval_beats_chance():
    X, Y, _ = load_demo("test")
    n = X.shape[0]
    chance = 1.0 / n
    r = retrieval_recall(X, Y, (1,))
    assert r["i2t"][1] > 20 * chance and r["t2i"][1] > 20 * chance
    # negative control: the same embeddings with the pairing destroyed sit at chance
    rng = np.random.default_rng(0)
    hits = []
    for _ in range(5):
        p = rng.permutation(n)
        s = retrieval_recall(X, Y[p], (1,))
        hits += [s["i2t"][1], s["t2i"][1]]
    assert np.mean(hits) < 4 * chance


def test_demo_has_a_small_but_resolved_modality_gap(demo):
    """Both means exceed the sampling floor 3/sqrt(n) of a centre-less set (E|mean|^2 = 1/n
    for n i.i.d. uniform unit vectors), so the centre angle is defined -- but only just for
    the text side (|m_y| = 0.069 vs floor 0.067 at build time): the demo model's gap is
    small. The values are pinned loosely so that a rebuilt artefact is noticed."""
    X, Y, _ = demo
    n = X.shape[0]
    floor = 3.0 / np.sqrt(n)
    assert np.linalg.norm(X.mean(0)) > floor and np.linalg.norm(Y.mean(0)) > floor
    ang = centre_angle(X, Y)  # the sample rule: floor 3/sqrt(n)
    assert ang is not None and 0.35 < ang < 1.0  # 41 degrees at build time
    assert 0.03 < centroid_distance(X, Y) < 0.1  # 0.057 at build time (CLIP: 0.85)


def test_pyproject_ships_the_demo_files_as_package_data():
    if sys.version_info < (3, 11):
        pytest.skip("tomllib needs Python 3.11")
    import tomllib

    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = cfg["tool"]["setuptools"]["package-data"]["modgap.verify"]
    assert "data/*.npz" in patterns and "data/*.json" in patterns
    assert (ROOT / "verify" / "data" / "demo_embeddings.npz").stat().st_size < 600_000


# ------------------------------------------------------------------ Liang et al. 2022


def test_liang2022_clip_matches_independent_reference_values(liang_dir):
    X, Y = load_liang2022("clip", root=liang_dir)
    assert X.shape == Y.shape == (500, 512)
    assert np.allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-12)
    # reference values computed independently (docs/theory.md §6)
    assert centroid_distance(X, Y) == pytest.approx(0.851, abs=2e-3)
    assert np.degrees(centre_angle(X, Y)) == pytest.approx(72.0, abs=0.1)
    r = retrieval_recall(X, Y, (1,))
    assert r["i2t"][1] == pytest.approx(0.552, abs=1e-3)
    assert r["t2i"][1] == pytest.approx(0.506, abs=1e-3)
    # the same file by its file name; explicit normalize=False rejects its 6e-4 norm error
    X2, _ = load_liang2022("features_clip.npy", root=liang_dir)
    assert np.array_equal(X, X2)
    with pytest.raises(ValueError, match="unit vectors"):
        load_liang2022("clip", root=liang_dir, normalize=False)


def test_liang2022_every_file_loads(liang_dir):
    for name in LIANG2022_NAMES:
        X, Y = load_liang2022(name, root=liang_dir)
        assert X.shape == Y.shape and X.shape[0] >= 99


def test_liang2022_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_liang2022("clip", root=tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="not found"):
        load_liang2022("clip", root=tmp_path)
    with pytest.raises(ValueError, match="one of"):
        load_liang2022("dalle", root=tmp_path)
    np.save(tmp_path / "features_clip.npy", np.ones((3, 4, 5), dtype=np.float32))
    with pytest.raises(ValueError, match=r"\(2, n, d\)"):
        load_liang2022("clip", root=tmp_path)
    with pytest.raises(TypeError):
        load_liang2022(3, root=tmp_path)


def test_liang2022_root_from_environment(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 6, 3))
    np.save(tmp_path / "features_clasp.npy", a)
    monkeypatch.setenv("MODGAP_LIANG2022_DIR", str(tmp_path))
    X, Y = load_liang2022("clasp")
    assert np.allclose(X, a[0] / np.linalg.norm(a[0], axis=1, keepdims=True))
    assert np.allclose(Y, a[1] / np.linalg.norm(a[1], axis=1, keepdims=True))
