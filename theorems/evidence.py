"""Evidence, then verdicts, then pictures: the one place where checks are run.

Every check and every figure's data source is an *evidence producer*: a function of its
settings (``quick``, and for real embeddings a file) that returns a JSON-serialisable dict

    {"schema": "modgap.evidence/1", "name": ..., "params": {...},
     "verdicts": [Verdict.to_dict(), ...],   # empty for pure figure data
     "data": {...}}                           # the numbers the figures draw

``paper_repro.py`` caches each producer's output (its pipeline keys the cache on the
parameters and the contents of everything read); :func:`verdicts` rebuilds the verdicts
from cached evidence without recomputing anything, and every figure of
:mod:`modgap.figures` draws only from evidence (it never calls a solver, a trainer or a
quadrature). Paper: Yi, Douady & Chen, arXiv 2510.03268 (docs/theory.md).
"""

from __future__ import annotations

import importlib
import json
import math
from collections.abc import Callable
from typing import Any

from modgap.verify._validation import InputError

from . import KNOWN_NAMES
from .verdict import Verdict, _plain

__all__ = [
    "SCHEMA",
    "CHECKS",
    "SOURCES",
    "producer",
    "compute",
    "verdicts",
    "from_verdicts",
]

SCHEMA = "modgap.evidence/1"

#: The theorem checks (their evidence carries verdicts), in the paper's order: the registry.
CHECKS: tuple[str, ...] = KNOWN_NAMES

#: Figure-data producers that are not checks: name -> "module:function" in modgap.theorems.
_ILLUSTRATIONS: dict[str, str] = {
    "sphere_optima": "illustrations:sphere_optima",
    "pair_geometry": "illustrations:pair_geometry",
    "gap_vs_phi": "illustrations:gap_vs_phi",
    "population_landscape": "illustrations:population_landscape",
    "real_embeddings": "illustrations:real_embeddings",
    "theorem3_phase": "illustrations:theorem3_phase",
}

#: Every evidence source: the checks, then the figure-data producers.
SOURCES: tuple[str, ...] = CHECKS + tuple(_ILLUSTRATIONS)


def _check_producer(name: str) -> Callable[..., dict[str, Any]]:
    mod = importlib.import_module(f"{__package__}.{name}")

    def run(quick: bool = True) -> dict[str, Any]:
        fn = getattr(mod, "evidence", None)
        if fn is not None:
            out = fn(quick=quick)
            return {"verdicts": [v.to_dict() for v in out["verdicts"]], "data": out["data"]}
        check = getattr(mod, "check", None) or mod.run
        found = list(check(quick=quick))
        bad = [type(v).__name__ for v in found if not isinstance(v, Verdict)]
        if bad:
            raise TypeError(f"theorems.{name} returned non-Verdict items: {bad}")
        return {"verdicts": [v.to_dict() for v in found], "data": {}}

    return run


def producer(name: str) -> Callable[..., dict[str, Any]]:
    """The producer of evidence source ``name`` (one of :data:`SOURCES`): a function of its
    keyword settings returning {"verdicts": [...], "data": {...}}."""
    if name in CHECKS:
        return _check_producer(name)
    if name in _ILLUSTRATIONS:
        module, func = _ILLUSTRATIONS[name].split(":")
        fn = getattr(importlib.import_module(f"{__package__}.{module}"), func)

        def run(**params: Any) -> dict[str, Any]:
            return {"verdicts": [], "data": fn(**params)}

        return run
    raise InputError(f"unknown evidence source {name!r}; valid: {', '.join(SOURCES)}")


def _json_safe(value: Any) -> Any:
    """numpy -> lists, non-finite floats -> None (JSON has no NaN)."""
    value = _plain(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def compute(name: str, **params: Any) -> dict[str, Any]:
    """Run evidence source ``name`` with ``params`` (e.g. ``quick=True``; ``path=...`` for
    real embeddings) and return the evidence document (module docstring). The document is
    checked to be JSON-serialisable here, not later when it is cached."""
    out = producer(name)(**params)
    doc = {
        "schema": SCHEMA,
        "name": name,
        "params": _json_safe(params),
        "verdicts": out["verdicts"],
        "data": _json_safe(out["data"]),
    }
    json.dumps(doc, allow_nan=False)
    return doc


def verdicts(evidence: dict[str, Any]) -> list[Verdict]:
    """The verdicts recorded in an evidence document, rebuilt without recomputation."""
    if evidence.get("schema") != SCHEMA:
        raise InputError(
            f"not a modgap evidence document (schema {evidence.get('schema')!r}, "
            f"expected {SCHEMA!r})"
        )
    return [Verdict.from_dict(v) for v in evidence["verdicts"]]


def from_verdicts(found: list[Verdict], data: dict[str, Any]) -> dict[str, Any]:
    """What a theorem module's ``evidence(quick)`` returns: its verdicts and figure data."""
    return {"verdicts": list(found), "data": data}
