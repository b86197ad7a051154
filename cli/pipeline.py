"""A small resumable step runner for ``paper_repro.py`` (orchestration only, no maths).

Each step has a name, a dict of parameters and a function returning a JSON-serialisable
result. Results are cached under ``<out>/.cache/<name>-<hash>.json``. The hash covers
everything the step reads, by content:

- its parameters, and for every parameter that names an existing file, that file's
  SHA-256 (a changed embeddings file recomputes, whatever its name);
- a fingerprint of the code: every file of the installed ``modgap`` packages (cli/,
  verify/, theorems/, figures/, their bundled data included), the source file of the
  step's function (``paper_repro.py`` for its steps), and the versions of numpy, scipy,
  sympy, cvxpy, torch, matplotlib, mpmath and Python;
- the shared real-data files the figures and tables read when present
  (``../shared/data/liang2022``), by content.

A cache entry is reused only when it parses, carries every expected key, and every output
file it recorded (files under the output folder named in the result, with their SHA-256)
still exists with the same content; otherwise the step is recomputed and the reason
printed. Temporary files left by a killed run (the atomic writer's ``.NAME.PID-XXXXXXXX``)
are removed when a pipeline starts. Files a step writes must go through
:mod:`modgap.verify.atomic` (fsync, then rename), so no half-written file is ever left.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modgap import __version__
from modgap.verify._validation import InputError
from modgap.verify.atomic import check_output_dir, clean_stale_temps, write_json

__all__ = ["Step", "StepOutcome", "Pipeline", "code_fingerprint", "file_digest"]

#: libraries whose versions enter every cache key
LIBRARIES = ("numpy", "scipy", "sympy", "cvxpy", "torch", "matplotlib", "mpmath")

_CACHE_KEYS = ("step", "key", "seconds", "result", "outputs")


@functools.lru_cache(maxsize=512)
def _digest_cached(path: str, size: int, mtime_ns: int, ino: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def file_digest(path: str | os.PathLike) -> str:
    """SHA-256 of a file's content (memoised per (path, size, mtime, inode) in-process)."""
    st = os.stat(path)
    return _digest_cached(str(Path(path).resolve()), st.st_size, st.st_mtime_ns, st.st_ino)


def _package_files() -> Iterator[tuple[str, Path]]:
    """(label, path) of every file of the installed modgap packages (no caches)."""
    import modgap
    from modgap import commands, figures, theorems, verify

    seen: set[Path] = set()
    for pkg in (modgap, commands, verify, theorems, figures):
        root = Path(pkg.__file__).resolve().parent
        for path in sorted(root.rglob("*")):
            if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            if path in seen:
                continue
            seen.add(path)
            yield f"{pkg.__name__}/{path.relative_to(root)}", path


def _library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def _shared_data_files() -> list[Path]:
    """The real-data files read when present (modgap.verify.datasets.liang2022_root())."""
    from modgap.verify.datasets import liang2022_root

    root = liang2022_root()
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_file())


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """SHA-256 (16 hex digits) over every file of the modgap packages (code and bundled
    data), the library versions (:data:`LIBRARIES`) and the shared real-data files."""
    digest = hashlib.sha256()
    for label, path in _package_files():
        digest.update(label.encode())
        digest.update(file_digest(path).encode())
    digest.update(json.dumps(_library_versions(), sort_keys=True).encode())
    for path in _shared_data_files():
        digest.update(path.name.encode())
        digest.update(file_digest(path).encode())
    return digest.hexdigest()[:16]


def _param_files(value: Any) -> Iterator[str]:
    """Strings among the (nested) parameters that name existing files."""
    if isinstance(value, dict):
        for v in value.values():
            yield from _param_files(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _param_files(v)
    elif isinstance(value, (str, os.PathLike)) and str(value):
        try:
            if Path(value).is_file():
                yield str(value)
        except (OSError, ValueError):  # a name too long, a NUL byte: not a file
            return


def _func_source_digest(func: Callable) -> str:
    try:
        src = inspect.getsourcefile(func)
    except TypeError:  # a builtin
        src = None
    if src and Path(src).is_file():
        return file_digest(src)
    return getattr(func, "__qualname__", repr(func))


@dataclass
class Step:
    """One unit of work: ``func(**params)`` returns a JSON-serialisable result."""

    name: str
    func: Callable[..., Any]
    params: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    def key(self) -> str:
        """Cache key: step name plus a hash of the parameters, the content of every file
        they name, the package version, the code fingerprint (:func:`code_fingerprint`)
        and the source of the step's function."""
        blob = json.dumps(
            {
                "name": self.name,
                "params": self.params,
                "files": {p: file_digest(p) for p in sorted(set(_param_files(self.params)))},
                "version": __version__,
                "code": code_fingerprint(),
                "func": _func_source_digest(self.func),
            },
            sort_keys=True,
            default=str,
        )
        return f"{self.name}-{hashlib.sha256(blob.encode()).hexdigest()[:16]}"


@dataclass
class StepOutcome:
    """What happened to a step: its result (or error), whether it came from the cache, and
    how long it took."""

    name: str
    result: Any = None
    error: str | None = None
    cached: bool = False
    seconds: float = 0.0


def _result_files(value: Any, root: Path) -> Iterator[Path]:
    """Existing files under ``root`` named by strings in a (nested) result."""
    if isinstance(value, dict):
        for v in value.values():
            yield from _result_files(v, root)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _result_files(v, root)
    elif isinstance(value, str) and value:
        try:
            p = Path(value).resolve()
            if p.is_file() and p.is_relative_to(root):
                yield p
        except (OSError, ValueError):
            return


#: The steps a forked worker runs, by index (set by Pipeline._run_forked before the fork).
_PENDING: dict[int, Step] = {}


def _can_fork() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


def _compute(step: Step) -> tuple[Any, str | None, float]:
    """(result, None, seconds) or (None, "Type: message", seconds): the step's function run
    here, its result checked to be JSON-serialisable (fail here, not when a report is
    written)."""
    t0 = time.perf_counter()
    try:
        result = step.func(**step.params)
        json.dumps(result, allow_nan=False)
    except Exception as exc:  # recorded and reported; the run's exit code says so
        return None, f"{type(exc).__name__}: {exc}", time.perf_counter() - t0
    return result, None, time.perf_counter() - t0


def _compute_pending(index: int) -> tuple[Any, str | None, float]:
    """In a forked worker: :func:`_compute` of the inherited step ``index``."""
    return _compute(_PENDING[index])


class Pipeline:
    """Run steps in order with a per-step cache under ``out_dir / '.cache'``."""

    def __init__(self, out_dir: str | Path, *, use_cache: bool = True, stream=None) -> None:
        """``out_dir`` is checked up front (a writable folder, or creatable): an
        InputError naming ``--out`` otherwise, before any step runs."""
        self.out_dir = check_output_dir(out_dir, "--out", create=True)
        self.cache_dir = self.out_dir / ".cache"
        self.use_cache = use_cache
        self.stream = stream if stream is not None else sys.stderr
        self.outcomes: dict[str, StepOutcome] = {}
        for path in clean_stale_temps(self.out_dir):
            self._say(f"[clean]  removed {path} (a temporary file left by a killed run)")

    def _say(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def _load_cached(self, cache_file: Path, key: str) -> tuple[dict | None, str | None]:
        """(entry, None) for a usable cache entry, (None, reason) otherwise."""
        try:
            data = json.loads(cache_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            return None, f"unreadable cache file ({type(exc).__name__}: {exc})"
        if not isinstance(data, dict):
            return None, "cache file does not hold an object"
        missing = [k for k in _CACHE_KEYS if k not in data]
        if missing:
            return None, f"cache entry lacks {', '.join(missing)}"
        if data["key"] != key or not isinstance(data["seconds"], (int, float)):
            return None, "cache entry does not match the step"
        if not isinstance(data["outputs"], dict):
            return None, "cache entry has no output list"
        for path, digest in data["outputs"].items():
            if not Path(path).is_file():
                return None, f"output {path} is missing"
            if file_digest(path) != digest:
                return None, f"output {path} changed since it was written"
        return data, None

    def _cached(self, step: Step, key: str) -> StepOutcome | None:
        """The step's usable cache entry as an outcome, else None (a stale one is removed)."""
        cache_file = self.cache_dir / f"{key}.json"
        if not (self.use_cache and cache_file.exists()):
            return None
        data, reason = self._load_cached(cache_file, key)
        if data is not None:
            self._say(f"[cached] {step.name} ({data['seconds']:.1f} s when computed)")
            return StepOutcome(step.name, data["result"], None, True, data["seconds"])
        self._say(f"[stale]  {step.name}: {reason}; recomputing")
        cache_file.unlink(missing_ok=True)
        return None

    def _record(self, step: Step, key: str, computed: tuple[Any, str | None, float]) -> StepOutcome:
        """Cache a computed step's result (with the digests of the files it wrote) or say
        that it raised."""
        result, error, seconds = computed
        if error is not None:
            self._say(f"[error]  {step.name} after {seconds:.1f} s: {error}")
            return StepOutcome(step.name, None, error, False, seconds)
        root = self.out_dir.resolve()
        outputs = {str(p): file_digest(p) for p in _result_files(result, root)}
        write_json(
            self.cache_dir / f"{key}.json",
            {
                "step": step.name,
                "key": key,
                "params": step.params,
                "seconds": seconds,
                "result": result,
                "outputs": outputs,
            },
            default=str,
        )
        self._say(f"[done]   {step.name} in {seconds:.1f} s")
        return StepOutcome(step.name, result, None, False, seconds)

    def _announce(self, step: Step) -> None:
        self._say(f"[run]    {step.name}: {step.description or ''}".rstrip(": "))

    def run(self, step: Step) -> StepOutcome:
        """Run (or reuse) one step in this process; exceptions are caught and recorded,
        not raised."""
        key = step.key()
        outcome = self._cached(step, key)
        if outcome is None:
            self._announce(step)
            outcome = self._record(step, key, _compute(step))
        self.outcomes[step.name] = outcome
        return outcome

    def run_all(self, steps: list[Step], jobs: int = 1) -> list[StepOutcome]:
        """Run (or reuse) independent steps; their outcomes in the order of ``steps``.

        jobs = 1: one after the other in this process (:meth:`run`). jobs > 1: the steps
        without a usable cache entry run in up to ``jobs`` worker processes, forked from
        this one (each inherits the steps and the thread settings; results come back as
        JSON-able values and are cached here, in this process). The longest first, by the
        seconds an earlier cache entry of the same step recorded (the given order where
        none did): a shorter makespan, and the same results in any order. Where fork is
        not available the steps run in this process. A worker that dies (killed, out of
        memory) is an error of the steps it had not finished, not a crash of the run.
        """
        jobs = int(jobs)
        if jobs < 1:
            raise InputError(f"--jobs must be at least 1, got {jobs}")
        todo: list[tuple[int, Step, str]] = []
        for i, step in enumerate(steps):
            key = step.key()
            outcome = self._cached(step, key)
            if outcome is None:
                todo.append((i, step, key))
            else:
                self.outcomes[step.name] = outcome
        if jobs == 1 or len(todo) <= 1 or not _can_fork():
            for _, step, key in todo:
                self._announce(step)
                self.outcomes[step.name] = self._record(step, key, _compute(step))
        else:
            self._run_forked(todo, min(jobs, len(todo)))
        for s in steps:  # the outcomes in the steps' order, whatever order they finished in
            self.outcomes[s.name] = self.outcomes.pop(s.name)
        return [self.outcomes[s.name] for s in steps]

    def _run_forked(self, todo: list[tuple[int, Step, str]], jobs: int) -> None:
        import concurrent.futures as cf
        import multiprocessing

        global _PENDING
        todo = sorted(todo, key=lambda t: -self._previous_seconds(t[1]))
        _PENDING = {i: step for i, step, _ in todo}
        done: set[str] = set()
        try:
            ctx = multiprocessing.get_context("fork")
            with cf.ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
                futures = {}
                for i, step, key in todo:
                    self._announce(step)
                    futures[pool.submit(_compute_pending, i)] = (step, key)
                for fut in cf.as_completed(futures):
                    step, key = futures[fut]
                    try:
                        computed = fut.result()
                    except Exception as exc:  # the worker died: BrokenProcessPool
                        computed = (None, f"worker process failed: {type(exc).__name__}", 0.0)
                    self.outcomes[step.name] = self._record(step, key, computed)
                    done.add(step.name)
        except OSError as exc:  # no worker could be started (process limit, memory)
            self._say(f"[serial] worker processes unavailable ({exc}); running in this process")
            for _, step, key in todo:
                if step.name not in done:
                    self.outcomes[step.name] = self._record(step, key, _compute(step))
        finally:
            _PENDING = {}

    def _previous_seconds(self, step: Step) -> float:
        """Seconds recorded by any earlier cache entry of this step (any key), else 0."""
        best = 0.0
        for path in self.cache_dir.glob(f"{step.name}-*.json"):
            try:
                seconds = json.loads(path.read_text(encoding="utf-8")).get("seconds", 0.0)
                best = max(best, float(seconds))
            except (OSError, ValueError, TypeError, AttributeError):
                continue
        return best

    @property
    def failed(self) -> list[StepOutcome]:
        """Steps that raised."""
        return [o for o in self.outcomes.values() if o.error is not None]
