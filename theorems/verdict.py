"""The Verdict record every theorem check returns (one schema for CLI, JSON and reports)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

__all__ = ["Status", "Verdict", "PAPER_CITATION", "summarize"]

PAPER_CITATION = (
    "L. Yi, R. Douady, C. Chen, 'Decipher the Modality Gap in Multimodal Contrastive "
    "Learning: From Convergent Representations to Pairwise Alignment', arXiv 2510.03268 "
    "(v2, Oct 2025); ICML 2026 as 'The Convergent Representation of Vision-Language "
    "Contrastive Learning: Geometry, Modality Gap and Shared Space Alignment'."
)


class Status(str, Enum):
    """Outcome of a check: the claim held, failed (with a counterexample), or could not be
    decided (with the reason)."""

    CONFIRMED = "CONFIRMED"
    REFUTED = "REFUTED"
    INCONCLUSIVE = "INCONCLUSIVE"


def _plain(value: Any) -> Any:
    """Convert numpy scalars/arrays and non-finite floats into JSON-safe Python values."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass
class Verdict:
    """One check of one claim in one reading.

    id: the result checked (theorem1 ... corollary4, or another experiment's name);
    reading: 'population' or 'finite_n' (or another named reading);
    claim: the statement checked, in words, as read by this project;
    status: CONFIRMED / REFUTED / INCONCLUSIVE;
    parameters: the inputs (h, tau, kappa, phi, N, seeds, ...);
    measured: the numbers the verdict rests on;
    tolerance: the tolerance the comparison used, and why;
    detail: the counterexample (REFUTED) or the reason (INCONCLUSIVE), or a summary;
    negative_control: True for a deliberately wrong claim that must come out REFUTED;
    contradicts_paper: True when this project's reading disagrees with the paper's statement.
    """

    id: str
    reading: str
    claim: str
    status: Status
    parameters: dict[str, Any] = field(default_factory=dict)
    measured: dict[str, Any] = field(default_factory=dict)
    tolerance: str = ""
    detail: str = ""
    negative_control: bool = False
    contradicts_paper: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (the schema of `modgap verify --json` and report.json)."""
        out = asdict(self)
        out["verdict"] = self.status.value
        del out["status"]
        return _plain(out)

    @classmethod
    def from_dict(cls, entry: dict[str, Any]) -> Verdict:
        """Inverse of :meth:`to_dict` (keys beyond the fields, e.g. ``expected``, are
        ignored); used to rebuild verdicts from cached evidence."""
        names = {f for f in cls.__dataclass_fields__ if f != "status"}
        kwargs = {k: v for k, v in entry.items() if k in names}
        return cls(status=Status(entry["verdict"]), **kwargs)


def _format_value(value: Any) -> str:
    """A scalar or a short numeric list as text; '' for anything else (nested data)."""
    if value is None:
        return "undefined"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        return f"{value:.4g}"
    if (
        isinstance(value, (list, tuple))
        and value
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
    ):
        head = ", ".join(f"{v:.3g}" for v in value[:3])
        return f"[{head}{', ...' if len(value) > 3 else ''}]"
    return ""


def summarize(entry: dict[str, Any], *, limit: int = 3, width: int = 160) -> str:
    """One line of key numbers for a verdict (a :meth:`Verdict.to_dict` entry).

    The first ``limit`` scalar (or short numeric list) entries of ``measured``; when the
    measurements are all nested (per-setting tables), the start of ``detail`` instead,
    cut to ``width`` characters. Used by ``modgap verify`` and ``paper_repro.py``.
    """
    parts = []
    for key, value in entry.get("measured", {}).items():
        text = _format_value(value)
        if text:
            parts.append(f"{key}={text}")
        if len(parts) == limit:
            break
    if parts:
        return "; ".join(parts)
    detail = " ".join(str(entry.get("detail", "")).split())
    return detail if len(detail) <= width else detail[: width - 3] + "..."
