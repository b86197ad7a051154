"""The resumable step runner: cache hits, recorded errors, no partial files."""

import io

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
