"""Loading paired embeddings (verify.embeddings_io): every format, every documented error."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from modgap.verify.embeddings_io import load_array, load_paired_embeddings, load_pairs


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((6, 4)).astype(np.float32), rng.standard_normal((6, 4)).astype(
        np.float32
    )


def test_stacked_npy_round_trip(tmp_path, data):
    X, Y = data
    np.save(tmp_path / "s.npy", np.stack([X, Y]))
    pe = load_paired_embeddings(tmp_path / "s.npy")
    assert pe.images.dtype == np.float32
    assert np.array_equal(pe.images, X) and np.array_equal(pe.texts, Y)
    assert pe.pairs is None and pe.dim == 4
    assert pe.sources == {
        "images": f"{tmp_path / 's.npy'} [0]",
        "texts": f"{tmp_path / 's.npy'} [1]",
    }


def test_two_files_in_every_format(tmp_path, data):
    X, Y = data
    np.save(tmp_path / "x.npy", X)
    np.savez(tmp_path / "y.npz", emb=Y)
    torch.save(torch.from_numpy(Y), tmp_path / "y.pt")
    np.savetxt(tmp_path / "y.csv", Y, delimiter=",", header="a,b,c,d", comments="")
    np.savetxt(tmp_path / "y_nohdr.csv", Y, delimiter=",")
    for name in ("y.npz", "y.pt", "y.csv", "y_nohdr.csv"):
        pe = load_paired_embeddings(tmp_path / "x.npy", tmp_path / name)
        assert np.allclose(pe.texts, Y, atol=1e-6), name
        assert np.array_equal(pe.images, X)


def test_float64_is_kept(tmp_path, data):
    X, Y = data
    np.save(tmp_path / "s.npy", np.stack([X, Y]).astype(np.float64))
    assert load_paired_embeddings(tmp_path / "s.npy").images.dtype == np.float64


def test_npz_and_pt_with_named_modalities_and_embedded_pairs(tmp_path, data):
    X, Y = data
    pairs = np.array([0, 0, 1, 1, 2, 2])
    np.savez(tmp_path / "a.npz", image_embeds=X[:3], text_embeds=Y, pairs=pairs)
    pe = load_paired_embeddings(tmp_path / "a.npz")
    assert pe.images.shape == (3, 4) and np.array_equal(pe.pairs, pairs)
    assert np.array_equal(pe.paired_images(), X[pairs])
    torch.save({"x": torch.from_numpy(X), "y": torch.from_numpy(Y)}, tmp_path / "b.pt")
    assert np.array_equal(load_paired_embeddings(tmp_path / "b.pt").texts, Y)
    torch.save((torch.from_numpy(X), torch.from_numpy(Y)), tmp_path / "c.pt")
    assert np.array_equal(load_paired_embeddings(tmp_path / "c.pt").images, X)
    torch.save(torch.from_numpy(np.stack([X, Y])), tmp_path / "d.pt")
    assert np.array_equal(load_paired_embeddings(tmp_path / "d.pt").texts, Y)


def test_pairs_file_five_captions(tmp_path, data):
    X, Y = data
    np.save(tmp_path / "x.npy", X[:2])
    np.save(tmp_path / "y.npy", np.vstack([Y, Y[:4]]))  # 10 captions
    pairs = np.repeat([0, 1], 5)
    np.save(tmp_path / "p.npy", pairs)
    np.savetxt(tmp_path / "p.txt", pairs, fmt="%d")
    for name in ("p.npy", "p.txt"):
        pe = load_paired_embeddings(
            tmp_path / "x.npy", tmp_path / "y.npy", pairs=tmp_path / name, min_rows=2
        )
        assert np.array_equal(pe.pairs, pairs)
        assert pe.paired_images().shape == (10, 4)
    # an identity index is plain one-to-one pairing
    np.save(tmp_path / "x6.npy", X)
    np.save(tmp_path / "id.npy", np.arange(6))
    pe = load_paired_embeddings(tmp_path / "x6.npy", tmp_path / "x6.npy", pairs=tmp_path / "id.npy")
    assert pe.pairs is None


# --------------------------------------------------------------------------- errors


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"FILE .*nope\.npy: file not found"):
        load_paired_embeddings(tmp_path / "nope.npy")
    np.save(tmp_path / "x.npy", np.ones((4, 3)))
    with pytest.raises(FileNotFoundError, match=r"FILE2 .*nope\.npy: file not found"):
        load_paired_embeddings(tmp_path / "x.npy", tmp_path / "nope.npy")


def test_unparseable_files(tmp_path):
    for name in ("bad.npy", "bad.npz", "bad.pt"):
        (tmp_path / name).write_bytes(b"this is not an array file")
        with pytest.raises(ValueError, match=rf"FILE .*{name}: does not (parse|load)"):
            load_paired_embeddings(tmp_path / name)
    (tmp_path / "bad.csv").write_text("1,2,3\n4,five,6\n")
    with pytest.raises(ValueError, match=r"bad\.csv: does not parse as a numeric CSV"):
        load_paired_embeddings(tmp_path / "bad.csv", tmp_path / "bad.csv")
    (tmp_path / "x.txt").write_text("1\n")
    with pytest.raises(ValueError, match=r"unsupported suffix '\.txt'"):
        load_paired_embeddings(tmp_path / "x.txt")


def test_pickled_object_npy_is_refused(tmp_path):
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match=r"obj\.npy: does not parse as \.npy"):
        load_paired_embeddings(tmp_path / "obj.npy")


def test_pt_that_is_not_a_tensor(tmp_path):
    torch.save(3.5, tmp_path / "f.pt")
    with pytest.raises(TypeError, match=r"f\.pt: holds a float, not a tensor or array"):
        load_paired_embeddings(tmp_path / "f.pt")
    torch.save(
        {"a": torch.ones(3, 2), "b": torch.ones(3, 2), "c": torch.ones(3, 2)}, tmp_path / "g.pt"
    )
    with pytest.raises(ValueError, match=r"keys \['a', 'b', 'c'\]"):
        load_paired_embeddings(tmp_path / "g.pt")


def test_npz_with_several_arrays_lists_its_keys(tmp_path, data):
    X, Y = data
    np.savez(tmp_path / "m.npz", foo=X, bar=Y, baz=Y)
    with pytest.raises(ValueError, match=r"keys \['bar', 'baz', 'foo'\] and no obvious pair"):
        load_paired_embeddings(tmp_path / "m.npz")
    with pytest.raises(ValueError, match=r"holds 3 arrays \(keys: \['bar', 'baz', 'foo'\]\)"):
        load_array(tmp_path / "m.npz")


def test_shape_errors(tmp_path, data):
    X, Y = data
    np.save(tmp_path / "x.npy", X)
    np.save(tmp_path / "y5.npy", Y[:, :3])
    with pytest.raises(ValueError, match="shape mismatch: .* dimension 4, .* dimension 3"):
        load_paired_embeddings(tmp_path / "x.npy", tmp_path / "y5.npy")
    np.save(tmp_path / "yshort.npy", Y[:4])
    with pytest.raises(ValueError, match="shape mismatch: .* 6 rows, .* 4; .*--pairs"):
        load_paired_embeddings(tmp_path / "x.npy", tmp_path / "yshort.npy")
    np.save(tmp_path / "v.npy", X[0])
    with pytest.raises(ValueError, match=r"v\.npy: must be 2-D or 3-D, got shape \(4,\)"):
        load_paired_embeddings(tmp_path / "v.npy")
    with pytest.raises(ValueError, match=r"single file must hold both modalities .* \(6, 4\)"):
        load_paired_embeddings(tmp_path / "x.npy")
    np.save(tmp_path / "s3.npy", np.stack([X, Y, Y]))
    with pytest.raises(ValueError, match=r"\(2, n, d\), got shape \(3, 6, 4\)"):
        load_paired_embeddings(tmp_path / "s3.npy")
    with pytest.raises(ValueError, match="each must hold one 2-D matrix"):
        load_paired_embeddings(tmp_path / "s3.npy", tmp_path / "x.npy")


def test_too_few_and_zero_rows(tmp_path, data):
    X, Y = data
    np.save(tmp_path / "two.npy", np.stack([X[:2], Y[:2]]))
    with pytest.raises(ValueError, match=r"needs at least 3 rows, got 2"):
        load_paired_embeddings(tmp_path / "two.npy")
    np.save(tmp_path / "zero.npy", np.zeros((2, 0, 4), dtype=np.float32))
    with pytest.raises(ValueError, match="has zero rows"):
        load_paired_embeddings(tmp_path / "zero.npy")
    (tmp_path / "empty.csv").write_text("")
    np.save(tmp_path / "x.npy", X)
    with pytest.raises(ValueError, match=r"FILE2 .*empty\.csv: has zero rows"):
        load_paired_embeddings(tmp_path / "x.npy", tmp_path / "empty.csv")


def test_nan_and_inf(tmp_path, data):
    X, Y = data
    S = np.stack([X, Y])
    S[1, 4, 2] = np.inf
    S[1, 5, 0] = np.nan
    np.save(tmp_path / "nan.npy", S)
    with pytest.raises(
        ValueError,
        match=r"nan\.npy: contains 2 NaN or infinite value\(s\) \(first at index \(1, 4, 2\)\)",
    ):
        load_paired_embeddings(tmp_path / "nan.npy")


def test_non_numeric(tmp_path):
    np.save(tmp_path / "s.npy", np.array([["a", "b"], ["c", "d"]]))
    with pytest.raises(TypeError, match=r"s\.npy: must hold real numbers"):
        load_paired_embeddings(tmp_path / "s.npy")
    np.save(tmp_path / "c.npy", np.ones((2, 3, 2), dtype=complex))
    with pytest.raises(TypeError, match="must be real"):
        load_paired_embeddings(tmp_path / "c.npy")


def test_pairs_errors(tmp_path, data):
    X, Y = data
    np.save(tmp_path / "x.npy", X[:3])
    np.save(tmp_path / "y.npy", Y)
    cases = [
        (np.array([0, 1, 2, 0, 1]), r"has length 5, but there are 6 text rows"),
        (np.array([0, 1, 2, 0, 1, 3]), r"1 index\(es\) out of range \[0, 3\) .* pairs\[5\] = 3"),
        (np.array([0, 1, 2, 0, 1, -1]), r"out of range"),
        (np.array([0, 1, 2, 0, 1, 1.5]), r"non-integer values"),
        (np.ones((2, 3), dtype=int), r"must be 1-D"),
    ]
    for i, (p, msg) in enumerate(cases):
        np.save(tmp_path / f"p{i}.npy", p)
        with pytest.raises(ValueError, match=msg):
            load_paired_embeddings(
                tmp_path / "x.npy", tmp_path / "y.npy", pairs=tmp_path / f"p{i}.npy"
            )
    with pytest.raises(FileNotFoundError, match="pairs file .*nope.npy"):
        load_pairs(tmp_path / "nope.npy", 3, 6)
    np.save(tmp_path / "pb.npy", np.array([True] * 6))
    with pytest.raises(TypeError, match="integer row indices"):
        load_pairs(tmp_path / "pb.npy", 3, 6)
