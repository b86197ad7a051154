"""Evidence documents computed once per test session (quick settings), shared by the tests
of the theorem checks, of the figures and of the figure-data producers.

``document(name, **params)`` returns a deep copy of ``modgap.theorems.evidence.compute(name,
**params)``, computed on first use only (the producers are the slow part of these tests);
``quick_verdicts(name)`` the verdicts of a check's quick evidence, rebuilt with
``Verdict.from_dict`` exactly as ``paper_repro.py`` rebuilds them from its cache.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from modgap.theorems.evidence import compute, verdicts
from modgap.theorems.verdict import Verdict

_CACHE: dict[tuple[str, str], dict[str, Any] | Exception] = {}


def document(name: str, **params: Any) -> dict[str, Any]:
    """The evidence document of source ``name`` with ``params`` (cached for the session,
    failures included, so a broken producer costs its time once)."""
    key = (name, json.dumps(params, sort_keys=True))
    if key not in _CACHE:
        try:
            _CACHE[key] = _tiny_phase() if name == "theorem3_phase" else compute(name, **params)
        except Exception as exc:  # re-raised below, on every request
            _CACHE[key] = exc
    doc = _CACHE[key]
    if isinstance(doc, Exception):
        raise doc
    return copy.deepcopy(doc)


def quick_verdicts(name: str) -> list[Verdict]:
    """The verdicts of check ``name`` at its quick settings, from the session's evidence."""
    return verdicts(document(name, quick=True))


def _tiny_phase() -> dict[str, Any]:
    """A theorem3_phase evidence document on a 4-point grid (h = 4, kappa = 10, four phi),
    computed by the same sweep code as the quick grid (12 points, still slow for every test
    session); the figure draws whatever grid the document holds."""
    import tempfile

    from modgap.theorems.evidence import SCHEMA
    from modgap.verify import sweep

    grid = {"h": (4,), "kappa": (10.0,), "phi": (0.4, 0.8, 1.2, 1.5)}
    with tempfile.TemporaryDirectory() as tmp:
        pts = sweep.grid_points("critical", grid["h"], grid["kappa"], grid["phi"])
        results, counts = sweep.run_sweep("critical", pts, f"{tmp}/cache")
        path = sweep.write_result(f"{tmp}/r.json", "critical", grid, results, counts=counts)
        data = sweep.load_result(path)
    return {"schema": SCHEMA, "name": "theorem3_phase", "params": {}, "verdicts": [], "data": data}
