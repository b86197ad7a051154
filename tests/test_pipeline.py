"""The resumable step runner: cache hits, recorded errors, no partial files."""

import importlib.util
import io
import json
import os

import pytest

import modgap.pipeline as pl
from modgap.pipeline import Pipeline, Step, code_fingerprint

CALLS = []


def _square(x):
    CALLS.append(x)
    return {"y": x * x}


def _boom():
    raise RuntimeError("broken step")


def test_cache_reuses_finished_steps_and_params_change_the_key(tmp_path):
    CALLS.clear()
    pipe = Pipeline(tmp_path, stream=io.StringIO())
    assert pipe.run(Step("sq", _square, {"x": 3})).result == {"y": 9}
    again = Pipeline(tmp_path, stream=io.StringIO()).run(Step("sq", _square, {"x": 3}))
    assert again.cached and again.result == {"y": 9}
    assert CALLS == [3]
    Pipeline(tmp_path, stream=io.StringIO()).run(Step("sq", _square, {"x": 4}))
    assert CALLS == [3, 4]
    assert Step("sq", _square, {"x": 3}).key() != Step("sq", _square, {"x": 4}).key()
    assert len(code_fingerprint()) == 16


def test_errors_are_recorded_not_cached(tmp_path):
    pipe = Pipeline(tmp_path, stream=io.StringIO())
    out = pipe.run(Step("boom", _boom))
    assert out.error == "RuntimeError: broken step" and pipe.failed == [out]
    assert not list(tmp_path.rglob("boom-*"))


def test_non_json_results_are_errors(tmp_path):
    pipe = Pipeline(tmp_path, stream=io.StringIO())
    out = pipe.run(Step("nan", lambda: {"a": float("nan")}))
    assert out.error is not None and "ValueError" in out.error


# ----------------------------------------------------------------- reliability (issue 11)


def _count_bytes(path):
    CALLS.append(path)
    with open(path, "rb") as fh:
        return {"n": len(fh.read())}


def test_a_changed_input_file_recomputes_under_the_same_name(tmp_path):
    CALLS.clear()
    src = tmp_path / "emb.npy"
    src.write_bytes(b"12345")
    step = lambda: Step("count", _count_bytes, {"path": str(src)})  # noqa: E731
    assert Pipeline(tmp_path / "o", stream=io.StringIO()).run(step()).result == {"n": 5}
    assert Pipeline(tmp_path / "o", stream=io.StringIO()).run(step()).cached
    src.write_bytes(b"1234567")  # same path, new content
    out = Pipeline(tmp_path / "o", stream=io.StringIO()).run(step())
    assert not out.cached and out.result == {"n": 7} and len(CALLS) == 2


@pytest.mark.parametrize(
    "damage,reason",
    [
        (lambda p: p.write_text("{not json"), "unreadable cache file"),
        (lambda p: p.write_bytes(b""), "unreadable cache file"),
        (lambda p: p.write_text(json.dumps({"step": "sq", "seconds": 1.0})), "lacks"),
        (lambda p: p.write_bytes(b"\xff\xfe\x00"), "unreadable cache file"),
        (lambda p: p.write_text("[1, 2]"), "does not hold an object"),
    ],
)
def test_corrupt_cache_entries_are_recomputed(tmp_path, damage, reason):
    CALLS.clear()
    Pipeline(tmp_path, stream=io.StringIO()).run(Step("sq", _square, {"x": 5}))
    (entry,) = (tmp_path / ".cache").glob("sq-*.json")
    damage(entry)
    log = io.StringIO()
    out = Pipeline(tmp_path, stream=log).run(Step("sq", _square, {"x": 5}))
    assert out.result == {"y": 25} and not out.cached and CALLS == [5, 5]
    assert "[stale]" in log.getvalue() and reason in log.getvalue()
    assert Pipeline(tmp_path, stream=io.StringIO()).run(Step("sq", _square, {"x": 5})).cached


def _draw(out_dir):
    CALLS.append(out_dir)
    from modgap.verify.atomic import write_text

    return [str(write_text(f"{out_dir}/fig.png", "png"))]


def test_missing_or_changed_outputs_are_redrawn(tmp_path):
    CALLS.clear()
    step = Step("fig", _draw, {"out_dir": str(tmp_path / "figs")})
    Pipeline(tmp_path, stream=io.StringIO()).run(step)
    assert Pipeline(tmp_path, stream=io.StringIO()).run(step).cached
    (tmp_path / "figs" / "fig.png").unlink()
    log = io.StringIO()
    assert not Pipeline(tmp_path, stream=log).run(step).cached
    assert "missing" in log.getvalue() and (tmp_path / "figs" / "fig.png").is_file()
    (tmp_path / "figs" / "fig.png").write_text("overwritten by hand")
    assert not Pipeline(tmp_path, stream=io.StringIO()).run(step).cached
    assert len(CALLS) == 3


def test_fingerprint_covers_every_package_file_and_library_versions(monkeypatch):
    labels = {label for label, _ in pl._package_files()}
    for must in (
        "modgap/pipeline.py",
        "modgap/main.py",
        "modgap.commands/align.py",
        "modgap.verify/data/demo_embeddings.npz",
        "modgap.theorems/theorem1.py",
        "modgap.figures/_style.py",
    ):
        assert must in labels or must.replace("modgap.commands/", "modgap/commands/") in labels
    before = code_fingerprint()
    code_fingerprint.cache_clear()
    monkeypatch.setattr(pl, "_library_versions", lambda: {"numpy": "0.0-test"})
    try:
        assert code_fingerprint() != before
    finally:
        code_fingerprint.cache_clear()


def test_the_step_function_source_is_in_the_key(tmp_path):
    """paper_repro.py's own steps: editing the file that defines the function recomputes."""
    mod_path = tmp_path / "stepmod.py"

    def load(text):
        mod_path.write_text(text)
        spec = importlib.util.spec_from_file_location("stepmod", mod_path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod

    k1 = Step("s", load("def f():\n    return 1\n").f).key()
    k2 = Step("s", load("def f():\n    return 2  # edited\n").f).key()
    assert k1 != k2


def test_stale_temp_files_are_cleaned_when_a_pipeline_starts(tmp_path):
    import subprocess
    import sys

    pid = int(
        subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    (tmp_path / ".cache").mkdir()
    left = tmp_path / ".cache" / f".sq-abc.json.{pid}-q1w2e3r4.json"
    left.write_text("{")
    log = io.StringIO()
    Pipeline(tmp_path, stream=log)
    assert not left.exists() and "[clean]" in log.getvalue()


def test_out_must_be_a_folder(tmp_path):
    from modgap.verify._validation import InputError

    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="--out .*not a folder"):
        Pipeline(tmp_path / "file", stream=io.StringIO())
    assert (tmp_path / "file").read_text() == "x"


@pytest.mark.skipif(not os.path.exists("/proc/self"), reason="needs Linux /proc")
def test_an_out_folder_that_cannot_be_created_is_refused_before_any_step():
    """Permission bits say /proc is writable for root, yet no folder can be made there: the
    probe turns that into an error naming --out, not an OSError at the first step."""
    from modgap.verify._validation import InputError

    with pytest.raises(InputError, match="--out /proc/modgap-no-such-folder: cannot create"):
        Pipeline("/proc/modgap-no-such-folder", stream=io.StringIO())
    assert not os.path.exists("/proc/modgap-no-such-folder")


# ----------------------------------------------------------------- parallel steps (issue 11)


def _pid_square(x):
    return {"y": x * x, "pid": os.getpid()}


def _die():
    os._exit(3)  # a worker killed mid-step (out of memory, a signal)


@pytest.mark.skipif(not pl._can_fork(), reason="forked workers need the fork start method")
def test_parallel_steps_give_the_serial_results_in_step_order_and_are_cached(tmp_path):
    steps = [Step(f"sq{x}", _pid_square, {"x": x}) for x in range(5)]
    stream = io.StringIO()
    out = Pipeline(tmp_path / "par", stream=stream).run_all(steps, jobs=2)
    serial = Pipeline(tmp_path / "ser", stream=io.StringIO()).run_all(steps, jobs=1)
    assert [o.name for o in out] == [s.name for s in steps]
    assert [o.result["y"] for o in out] == [o.result["y"] for o in serial] == [0, 1, 4, 9, 16]
    assert os.getpid() not in {o.result["pid"] for o in out}  # computed in the workers
    assert {o.result["pid"] for o in serial} == {os.getpid()}
    again = Pipeline(tmp_path / "par", stream=io.StringIO()).run_all(steps, jobs=2)
    assert all(o.cached for o in again) and [o.result for o in again] == [o.result for o in out]


@pytest.mark.skipif(not pl._can_fork(), reason="forked workers need the fork start method")
def test_a_worker_that_dies_is_an_error_of_its_step_not_a_crash(tmp_path):
    pipe = Pipeline(tmp_path, stream=io.StringIO())
    out = pipe.run_all([Step("dies", _die), Step("boom", _boom)], jobs=2)
    assert out[0].error is not None and "worker process failed" in out[0].error
    assert out[1].error is not None and pipe.failed == out
    assert not list(tmp_path.rglob("dies-*.json"))


def test_jobs_below_one_is_refused(tmp_path):
    with pytest.raises(pl.InputError, match="--jobs"):
        Pipeline(tmp_path, stream=io.StringIO()).run_all([Step("sq", _square, {"x": 1})], jobs=0)


@pytest.mark.skipif(not pl._can_fork(), reason="forked workers need the fork start method")
def test_no_worker_processes_means_the_steps_run_here(tmp_path, monkeypatch):
    import concurrent.futures as cf

    def no_pool(*args, **kwargs):
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(cf, "ProcessPoolExecutor", no_pool)
    stream = io.StringIO()
    steps = [Step(f"sq{x}", _pid_square, {"x": x}) for x in range(3)]
    out = Pipeline(tmp_path, stream=stream).run_all(steps, jobs=2)
    assert [o.result["y"] for o in out] == [0, 1, 4]
    assert {o.result["pid"] for o in out} == {os.getpid()}
    assert "worker processes unavailable" in stream.getvalue()
