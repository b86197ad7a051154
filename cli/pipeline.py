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

    def run(self, step: Step) -> StepOutcome:
        """Run (or reuse) one step; exceptions are caught and recorded, not raised."""
        key = step.key()
        cache_file = self.cache_dir / f"{key}.json"
        if self.use_cache and cache_file.exists():
            data, reason = self._load_cached(cache_file, key)
            if data is not None:
                outcome = StepOutcome(step.name, data["result"], None, True, data["seconds"])
                self._say(f"[cached] {step.name} ({data['seconds']:.1f} s when computed)")
                self.outcomes[step.name] = outcome
                return outcome
            self._say(f"[stale]  {step.name}: {reason}; recomputing")
            cache_file.unlink(missing_ok=True)
        self._say(f"[run]    {step.name}: {step.description or ''}".rstrip(": "))
        t0 = time.perf_counter()
        try:
            result = step.func(**step.params)
            json.dumps(result, allow_nan=False)  # fail here, not when the report is written
        except Exception as exc:  # recorded and reported; the run's exit code says so
            seconds = time.perf_counter() - t0
            outcome = StepOutcome(step.name, None, f"{type(exc).__name__}: {exc}", False, seconds)
            self._say(f"[error]  {step.name} after {seconds:.1f} s: {outcome.error}")
            self.outcomes[step.name] = outcome
            return outcome
        seconds = time.perf_counter() - t0
        root = self.out_dir.resolve()
        outputs = {str(p): file_digest(p) for p in _result_files(result, root)}
        write_json(
            cache_file,
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
        outcome = StepOutcome(step.name, result, None, False, seconds)
        self.outcomes[step.name] = outcome
        return outcome

    @property
    def failed(self) -> list[StepOutcome]:
        """Steps that raised."""
        return [o for o in self.outcomes.values() if o.error is not None]
