import json
import os
import stat

import pytest

from modgap.verify.atomic import atomic_path, write_json, write_text


def test_write_and_mode(tmp_path):
    target = write_json(tmp_path / "sub" / "r.json", {"a": 1})
    assert json.loads(target.read_text()) == {"a": 1}
    mode = stat.S_IMODE(os.stat(target).st_mode)
    assert mode & 0o044  # readable by others as with a plain open() (umask permitting)


def test_interrupted_write_leaves_nothing(tmp_path):
    target = tmp_path / "out.txt"
    write_text(target, "old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_nan_is_refused_and_no_file_is_left(tmp_path):
    with pytest.raises(ValueError):
        write_json(tmp_path / "x.json", {"a": float("nan")})
    assert list(tmp_path.iterdir()) == []


def test_an_output_folder_that_refuses_files_is_named_before_any_work(tmp_path, monkeypatch):
    """Permission bits pass for root on /proc, yet no file can be created there: the
    output check creates (and removes) a probe file, so the error names the argument up
    front instead of an OSError after the work (modgap solve --json /proc/x.json)."""
    from modgap.verify import atomic

    assert atomic.check_output_path(tmp_path / "r.json", "--json") == tmp_path / "r.json"
    assert list(tmp_path.iterdir()) == []  # the probe is gone

    def refuse(*args, **kwargs):
        raise OSError(2, "No such file or directory")

    monkeypatch.setattr(atomic.tempfile, "NamedTemporaryFile", refuse)
    with pytest.raises(atomic.InputError, match=r"--json .*r\.json: cannot create a file in"):
        atomic.check_output_path(tmp_path / "r.json", "--json")
    with pytest.raises(atomic.InputError, match="--out .*: cannot create a file in"):
        atomic.check_output_dir(tmp_path / "out", "--out", create=True)
