"""The built wheel installs exactly one top-level name, ``modgap``, and works from a fresh
virtual environment, run from the repository root and from elsewhere (the restructure
issue: top-level ``verify``/``figures`` folders used to land in site-packages)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a copy of the working tree's files (tracked and untracked, not
    ignored), so no stale build/ folder of the checkout can leak into it."""
    out = tmp_path_factory.mktemp("wheel")
    src = tmp_path_factory.mktemp("src")
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    for rel in listed.stdout.splitlines():
        if (ROOT / rel).is_file():
            (src / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, src / rel)
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(src)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    if proc.returncode != 0:
        pytest.skip(f"cannot build a wheel here: {proc.stderr[-500:]}")
    (path,) = out.glob("modgap-*.whl")
    return path


def test_wheel_has_one_top_level_name(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
    tops = {n.split("/")[0] for n in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"modgap"}
    for sub in ("verify", "theorems", "figures", "commands"):
        assert f"modgap/{sub}/__init__.py" in names
    assert "modgap/verify/data/demo_embeddings.npz" in names


def test_wheel_runs_from_a_fresh_venv(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps",
         "--no-index", str(wheel)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    env = {**os.environ, "PYTHONNOUSERSITE": "1", "MPLBACKEND": "Agg"}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for cwd in (ROOT, elsewhere):
        where = subprocess.run(
            [str(py), "-c", "import modgap, modgap.verify as v; print(v.__file__)"],
            cwd=cwd, capture_output=True, text=True, env=env, timeout=120,
        )  # fmt: skip
        assert where.returncode == 0, where.stderr
        assert str(env_dir) in where.stdout, f"imported from {where.stdout} (cwd {cwd})"
        version = subprocess.run(
            [str(env_dir / "bin" / "modgap"), "--version"],
            cwd=cwd, capture_output=True, text=True, env=env, timeout=120,
        )  # fmt: skip
        assert version.returncode == 0 and version.stdout.startswith("modgap "), version.stderr
        repro = subprocess.run(
            [str(py), str(ROOT / "paper_repro.py"), "--help"],
            cwd=cwd, capture_output=True, text=True, env=env, timeout=120,
        )  # fmt: skip
        assert repro.returncode == 0 and "--quick" in repro.stdout, repro.stderr
