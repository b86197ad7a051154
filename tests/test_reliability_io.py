"""Reliability (issue 11), files and the command line: no input is ever destroyed, output
paths are checked before any work, bad files give errors naming them, only the project's
input-error type counts as bad input. Each test plants the answer it checks."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys

import numpy as np
import pytest

from modgap import main as main_mod
from modgap.main import main
from modgap.verify import atomic
from modgap.verify._validation import InputError
from modgap.verify.embeddings_io import load_array, load_paired_embeddings


def _sha(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def _unit(Z):
    return Z / np.linalg.norm(Z, axis=1, keepdims=True)


@pytest.fixture
def pair_file(tmp_path):
    rng = np.random.default_rng(0)
    arr = np.stack([_unit(rng.standard_normal((40, 8))), _unit(rng.standard_normal((40, 8)))])
    path = tmp_path / "in.npy"
    np.save(path, arr.astype(np.float32))
    return path


# ----------------------------------------------------------------------------- item 1


@pytest.mark.parametrize("variant", ["same", "dotdot", "symlink", "hardlink"])
def test_align_refuses_to_overwrite_its_input(pair_file, variant, capsys):
    d = pair_file.parent
    (d / "sub").mkdir()
    out = {
        "same": pair_file,
        "dotdot": d / "sub" / ".." / pair_file.name,
        "symlink": d / "link.npy",
        "hardlink": d / "hard.npy",
    }[variant]
    if variant == "symlink":
        os.symlink(pair_file, out)
    if variant == "hardlink":
        os.link(pair_file, out)
    before = _sha(pair_file)
    for method in ("ssp", "removal"):
        extra = ["--k", "2"] if method == "removal" else []
        assert main(["align", method, str(pair_file), str(out), *extra]) == 2
        err = capsys.readouterr().err
        assert "OUT" in err and "same file as the input" in err
    assert _sha(pair_file) == before


def test_align_checks_fit_dimension_before_fitting(pair_file, tmp_path, capsys):
    np.save(tmp_path / "fit6.npy", np.ones((2, 10, 6), dtype=np.float32))
    out = tmp_path / "out.npy"
    assert main(["align", "ssp", str(pair_file), str(out), "--fit", str(tmp_path / "fit6.npy")])
    err = capsys.readouterr().err
    assert "--fit" in err and "d = 6" in err and "d = 8" in err
    assert not out.exists()


# ----------------------------------------------------------------------------- item 3


def _write_csv(path, rows, header=None, bom=False, index=False):
    lines = [] if header is None else [header]
    for i, r in enumerate(rows):
        cells = [repr(float(v)) for v in r]
        lines.append(",".join(([str(i)] if index else []) + cells))
    text = "\n".join(lines) + "\n"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())


@pytest.mark.parametrize(
    "header,bom,index,skipped",
    [
        (None, False, False, False),
        (None, True, False, False),  # BOM, no header: the first row is data
        ("0,1,2,3,4,5,6,7", False, False, True),  # pandas, index=False
        ("0,1,2,3,4,5,6,7", True, False, True),
        (",0,1,2,3,4,5,6,7", False, True, True),  # pandas default: index column
        ("a,b,c,d,e,f,g,h", True, False, True),
    ],
)
def test_csv_headers_and_bom(tmp_path, header, bom, index, skipped):
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((50, 8)), rng.standard_normal((50, 8))
    _write_csv(tmp_path / "x.csv", X, header, bom, index)
    _write_csv(tmp_path / "y.csv", Y, header, bom, index)
    pe = load_paired_embeddings(tmp_path / "x.csv", tmp_path / "y.csv")
    assert pe.images.shape == (50, 8) and pe.texts.shape == (50, 8)
    np.testing.assert_allclose(pe.images, X, rtol=1e-6)
    np.testing.assert_allclose(pe.texts, Y, rtol=1e-6)
    assert bool(pe.notes) == skipped
    if skipped:
        assert all("skipped the first line" in n for n in pe.notes)


def test_csv_header_is_reported_by_analyze(tmp_path, capsys):
    rng = np.random.default_rng(2)
    _write_csv(tmp_path / "x.csv", rng.standard_normal((30, 4)), "0,1,2,3", bom=True)
    _write_csv(tmp_path / "y.csv", rng.standard_normal((30, 4)), "0,1,2,3", bom=True)
    assert main(["analyze", str(tmp_path / "x.csv"), str(tmp_path / "y.csv")]) == 0
    out = capsys.readouterr()
    assert "skipped the first line" in out.err and "30 image rows, 30 text rows" in out.out


# ----------------------------------------------------------------------------- item 5


def test_empty_files_name_the_argument(tmp_path, pair_file, capsys):
    (tmp_path / "empty.npy").write_bytes(b"")
    cases = [
        (["analyze", str(tmp_path / "empty.npy")], "FILE"),
        (["analyze", str(pair_file), "--pairs", str(tmp_path / "empty.npy")], "pairs file"),
        (["align", "ssp", str(tmp_path / "empty.npy"), str(tmp_path / "o.npy")], "IN"),
    ]
    for argv, name in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert name in err and "empty.npy" in err and "Traceback" not in err


def test_truncated_npy_is_a_named_error(tmp_path):
    np.save(tmp_path / "t.npy", np.ones((2, 50, 8), dtype=np.float32))
    raw = (tmp_path / "t.npy").read_bytes()
    (tmp_path / "t.npy").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(InputError, match="t.npy"):
        load_paired_embeddings(tmp_path / "t.npy")


def test_bfloat16_pt_loads_via_float32(tmp_path):
    torch = pytest.importorskip("torch")
    t = torch.randn(2, 20, 8).to(torch.bfloat16)
    torch.save(t, tmp_path / "b.pt")
    pe = load_paired_embeddings(tmp_path / "b.pt")
    expect = t.float().numpy()  # bfloat16 values are exact in float32
    assert pe.images.dtype == np.float32
    np.testing.assert_array_equal(pe.images, expect[0])
    np.testing.assert_array_equal(pe.texts, expect[1])


def test_npz_reads_only_the_arrays_it_needs(tmp_path):
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((10, 4)), rng.standard_normal((10, 4))
    # "junk" is an object array: reading it with allow_pickle=False would raise, so the
    # load succeeding proves the key was never read
    np.savez(tmp_path / "a.npz", x=x, y=y, junk=np.array([{"a": 1}], dtype=object))
    pe = load_paired_embeddings(tmp_path / "a.npz")
    np.testing.assert_allclose(pe.images, x, rtol=1e-6)
    np.savez(tmp_path / "one.npz", m=x, junk=np.array([{"a": 1}], dtype=object))
    with pytest.raises(InputError, match="holds 2 arrays"):
        load_array(tmp_path / "one.npz")


# ----------------------------------------------------------------------------- item 8


def test_output_paths_checked_before_any_work(pair_file, tmp_path, capsys, monkeypatch):
    import modgap.verify.analysis as analysis

    def never(*a, **k):  # the analysis must not start when an output path is bad
        raise AssertionError("work started before the output path was checked")

    monkeypatch.setattr(analysis, "analyze_embeddings", never)
    (tmp_path / "plain.txt").write_text("x")
    cases = [
        (["--json", str(tmp_path / "nope" / "r.json")], "--json", "not found"),
        (["--json", str(tmp_path)], "--json", "is a directory"),
        (["--json", str(pair_file)], "--json", "same file as the input"),
        (["--plots", str(tmp_path / "plain.txt")], "--plots", "not a folder"),
    ]
    for extra, name, msg in cases:
        assert main(["analyze", str(pair_file), *extra]) == 2
        err = capsys.readouterr().err
        assert name in err and msg in err, err
        assert ".r.json." not in err  # never a temporary name
    assert (tmp_path / "plain.txt").read_text() == "x"


def test_atomic_errors_name_the_target_not_the_temp_file(tmp_path, monkeypatch):
    def refuse(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(atomic.tempfile, "mkstemp", refuse)
    with pytest.raises(PermissionError, match=r"cannot write .*r\.json") as info:
        atomic.write_json(tmp_path / "r.json", {"a": 1})
    assert ".r.json." not in str(info.value)


def test_atomic_fsyncs_before_rename(tmp_path, monkeypatch):
    calls = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(atomic.os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd)))
    monkeypatch.setattr(
        atomic.os, "replace", lambda a, b: (calls.append("replace"), real_replace(a, b))
    )
    atomic.write_text(tmp_path / "f.txt", "data")
    assert calls[:2] == ["fsync", "replace"]
    assert (tmp_path / "f.txt").read_text() == "data"


def test_file_mode_follows_the_umask(tmp_path, monkeypatch):
    """Fresh processes with umask 022 / 027 / 077: the writer gives 0666 & ~umask (0644,
    0640, 0600). solve --json (formerly a private writer making 0600) goes through it too:
    checked in this process with the umask 027 and the writer's import-time reading of it
    set as a fresh process would have them (a fresh process for it would import the whole
    solver stack just to write one file)."""
    code = (
        "import os, sys; os.umask(int(sys.argv[1], 8)); "
        "from modgap.verify.atomic import write_text; write_text(sys.argv[2], 'x')"
    )
    for mask, mode in ((0o022, 0o644), (0o027, 0o640), (0o077, 0o600)):
        a = tmp_path / f"a{mask:o}.txt"
        subprocess.run([sys.executable, "-c", code, oct(mask), str(a)], check=True)
        assert stat.S_IMODE(os.stat(a).st_mode) == mode

    b = tmp_path / "b27.json"
    monkeypatch.setattr(atomic, "_UMASK", 0o027)
    old = os.umask(0o027)
    try:
        argv = ["solve", "--n", "4", "--h", "3", "--tau", "0.5", "--constraint", "none"]
        assert main([*argv, "--starts", "1", "--json", str(b)]) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(b).st_mode) == 0o640


def test_stale_temp_files_of_dead_processes_are_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], **_cap())
    pid = int(dead.stdout)
    stale = tmp_path / "figs" / f".fig.png.{pid}-abcd_123.png"
    stale.parent.mkdir()
    stale.write_bytes(b"half")
    live = tmp_path / f".r.json.{os.getpid()}-zzzzzzzz.json"
    live.write_text("{")
    other = tmp_path / ".hidden"
    other.write_text("keep")
    removed = atomic.clean_stale_temps(tmp_path)
    assert removed == [stale] and not stale.exists()
    assert live.exists() and other.exists()


def _cap():
    return {"capture_output": True, "text": True, "check": True}


# ----------------------------------------------------------------------------- item 10


def test_internal_bugs_are_tracebacks_not_bad_input(monkeypatch, capsys):
    from modgap.commands import solve

    def bug(args):
        raise TypeError("unsupported operand type(s)")  # an internal bug, not bad input

    monkeypatch.setattr(solve, "run", bug)
    argv = ["solve", "--n", "4", "--h", "3", "--tau", "0.5", "--constraint", "none"]
    with pytest.raises(TypeError, match="unsupported operand"):
        main(argv)

    def bad_input(args):
        raise InputError("--n is wrong")

    monkeypatch.setattr(solve, "run", bad_input)
    assert main(argv) == 2 and "--n is wrong" in capsys.readouterr().err

    def oom(args):
        raise MemoryError

    monkeypatch.setattr(solve, "run", oom)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "out of memory" in err and "Traceback" not in err
    assert main_mod.InputError is InputError
    assert issubclass(InputError, ValueError) and issubclass(InputError, TypeError)


def test_truncated_npy_header_promising_terabytes_is_refused_before_allocating(tmp_path):
    import struct

    hdr = b"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1000000000, 1024), }"
    hdr = hdr + b" " * (118 - len(hdr)) + b"\n"
    raw = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr + b"\x00" * 100
    (tmp_path / "huge.npy").write_bytes(raw)
    with pytest.raises(InputError, match=r"huge\.npy: truncated \.npy: .*\(2, 1000000000, 1024\)"):
        load_paired_embeddings(tmp_path / "huge.npy")


def test_a_writer_removes_the_temp_files_a_killed_writer_left_for_its_target(tmp_path):
    code = (
        "import os, sys; from modgap.verify.atomic import atomic_path\n"
        "with atomic_path(sys.argv[1]) as tmp:\n"
        "    tmp.write_text('half'); os._exit(9)  # killed mid-write\n"
    )
    target = tmp_path / "r.json"
    subprocess.run([sys.executable, "-c", code, str(target)])
    (left,) = [p for p in tmp_path.iterdir() if p.name.startswith(".r.json.")]
    dead_pid = left.name.split(".")[3].split("-")[0]
    other = tmp_path / f".o.json.{dead_pid}-abcdefgh.json"
    other.write_text("another target's temp: not this writer's business")
    atomic.write_json(target, {"a": 1})
    assert not left.exists() and other.exists() and target.read_text().strip().endswith("}")
