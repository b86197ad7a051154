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
            _CACHE[key] = compute(name, **params)
        except Exception as exc:  # re-raised below, on every request
            _CACHE[key] = exc
    doc = _CACHE[key]
    if isinstance(doc, Exception):
        raise doc
    return copy.deepcopy(doc)


def quick_verdicts(name: str) -> list[Verdict]:
    """The verdicts of check ``name`` at its quick settings, from the session's evidence."""
    return verdicts(document(name, quick=True))
