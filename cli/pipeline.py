"""A small resumable step runner for ``paper_repro.py`` (orchestration only, no maths).

Each step has a name, a dict of parameters and a function returning a JSON-serialisable
result. Results are cached under ``<out>/.cache/<name>-<hash>.json`` where the hash covers
the parameters, the package version and a fingerprint of the source code of verify/,
theorems/ and figures/, so a rerun with the same parameters and code reuses them, any code
change recomputes, and an interrupted run loses no finished step. Files a step writes
must go through :mod:`modgap.verify.atomic`, so no half-written file is ever left behind.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modgap import __version__
from modgap.verify.atomic import write_json

__all__ = ["Step", "StepOutcome", "Pipeline"]


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """SHA-256 over the Python sources of the verify, theorems and figures packages."""
    from modgap import figures, theorems, verify

    digest = hashlib.sha256()
    for pkg in (verify, theorems, figures):
        root = Path(pkg.__file__).parent
        for path in sorted(root.rglob("*.py")):
            digest.update(str(path.relative_to(root.parent)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@dataclass
class Step:
    """One unit of work: ``func(**params)`` returns a JSON-serialisable result."""

    name: str
    func: Callable[..., Any]
    params: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    def key(self) -> str:
        """Cache key: step name plus a hash of the parameters, the package version and the
        source-code fingerprint (:func:`code_fingerprint`)."""
        blob = json.dumps(
            {
                "name": self.name,
                "params": self.params,
                "version": __version__,
                "code": code_fingerprint(),
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


class Pipeline:
    """Run steps in order with a per-step cache under ``out_dir / '.cache'``."""

    def __init__(self, out_dir: str | Path, *, use_cache: bool = True, stream=None) -> None:
        self.out_dir = Path(out_dir)
        self.cache_dir = self.out_dir / ".cache"
        self.use_cache = use_cache
        self.stream = stream if stream is not None else sys.stderr
        self.outcomes: dict[str, StepOutcome] = {}

    def _say(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def run(self, step: Step) -> StepOutcome:
        """Run (or reuse) one step; exceptions are caught and recorded, not raised."""
        cache_file = self.cache_dir / f"{step.key()}.json"
        if self.use_cache and cache_file.is_file():
            data = json.loads(cache_file.read_text(encoding="utf-8"))
            outcome = StepOutcome(step.name, data["result"], None, True, data["seconds"])
            self._say(f"[cached] {step.name} ({data['seconds']:.1f} s when computed)")
            self.outcomes[step.name] = outcome
            return outcome
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
        write_json(
            cache_file,
            {"step": step.name, "params": step.params, "seconds": seconds, "result": result},
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
