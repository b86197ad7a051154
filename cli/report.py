"""The one verdict renderer and the one report schema, shared by ``modgap verify`` and
``paper_repro.py`` (presentation only: verdicts come from :mod:`modgap.theorems.evidence`,
the outcome policy from :mod:`modgap.theorems.outcome`).

Report schema ``modgap.report/1`` (``modgap verify --json`` and ``report.json``)::

    {"schema": "modgap.report/1", "paper": str, "mode": "quick" | "full",
     "exit_code": int, "modules": {name: {"seconds": float, "error": str | None,
     "cached": bool}}, "checks": [entry, ...], ...}

Each entry is :meth:`modgap.theorems.verdict.Verdict.to_dict` (keys id, reading, claim,
verdict, parameters, measured, tolerance, detail, negative_control, contradicts_paper) plus
``expected`` (the outcome policy's judgement); a check that raised gives one entry with
verdict "ERROR" and the traceback as its detail. paper_repro adds ``tables``, ``figures``,
``versions`` and ``total_seconds``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "SCHEMA",
    "entries_from_evidence",
    "error_entry",
    "verdict_table",
    "summary_line",
    "report_document",
    "alignment_table",
]

SCHEMA = "modgap.report/1"
_CONTROL_PREFIX = "NEGATIVE CONTROL: "
_CLAIM_WIDTH = 56


def entries_from_evidence(evidence: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The report entries of one check's evidence document: each verdict's dict plus
    ``expected`` (:func:`modgap.theorems.outcome.expected_outcome`)."""
    from modgap.theorems.outcome import expected_outcome

    return [{**v, "expected": expected_outcome(v)} for v in evidence["verdicts"]]


def error_entry(name: str, quick: bool, detail: str) -> dict[str, Any]:
    """The entry recorded for a check that raised (verdict "ERROR", never expected)."""
    return {
        "id": name,
        "reading": None,
        "claim": "",
        "verdict": "ERROR",
        "parameters": {"quick": quick},
        "measured": {},
        "tolerance": "",
        "detail": detail,
        "negative_control": False,
        "contradicts_paper": False,
        "expected": False,
    }


def _short_claim(entry: Mapping[str, Any], width: int | None) -> str:
    if entry["verdict"] == "ERROR":
        return "raised: " + str(entry["detail"]).strip().splitlines()[-1][:60]
    claim = " ".join(str(entry["claim"]).split())
    if claim.startswith(_CONTROL_PREFIX):
        claim = claim[len(_CONTROL_PREFIX) :]
    if entry.get("negative_control"):
        claim = "[control] " + claim
    if width is not None and len(claim) > width:
        claim = claim[: width - 3] + "..."
    return claim


def _rows(entries: Iterable[Mapping[str, Any]], markdown: bool) -> list[tuple[str, ...]]:
    from modgap.theorems.verdict import summarize

    rows = []
    for e in entries:
        verdict = e["verdict"]
        if e.get("contradicts_paper"):
            verdict += " **contradicts paper**" if markdown else " (vs paper)"
        numbers = "" if e["verdict"] == "ERROR" else summarize(e, limit=2, width=70)
        rows.append(
            (
                str(e["id"]),
                str(e.get("reading") or "-"),
                _short_claim(e, None if markdown else _CLAIM_WIDTH),
                verdict,
                "ok" if e["expected"] else "!!",
                numbers,
            )
        )
    return rows


def verdict_table(entries: Iterable[Mapping[str, Any]], *, markdown: bool = False) -> str:
    """One row per verdict: id, reading, claim (negative controls marked), verdict, whether
    the outcome is the expected one, key numbers. Plain text (aligned columns) or Markdown
    (cells never contain a '|')."""
    headers = ("id", "reading", "claim", "verdict", "ok", "key numbers")
    rows = _rows(list(entries), markdown)
    if markdown:
        lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        for r in rows:
            lines.append("| " + " | ".join(c.replace("|", "/") for c in r) + " |")
        return "\n".join(lines)
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers[:-1])]
    out = ["  ".join(h.ljust(w) for h, w in zip(headers[:-1], widths, strict=True)) + "  "]
    out[0] += headers[-1]
    out.append("-" * (sum(widths) + 2 * len(widths) + len(headers[-1])))
    for r in rows:
        out.append(
            "  ".join(x.ljust(w) for x, w in zip(r[:-1], widths, strict=True)) + "  " + r[-1]
        )
    return "\n".join(out)


def summary_line(entries: list[Mapping[str, Any]], modules: Mapping[str, Any], code: int) -> str:
    """'N verdicts (C negative controls, I inconclusive) in S s; unexpected outcomes: U;
    checks that raised: R; exit code E'."""
    n_ctrl = sum(1 for e in entries if e["negative_control"])
    n_inc = sum(1 for e in entries if e["verdict"] == "INCONCLUSIVE")
    unexpected = sum(1 for e in entries if not e["expected"] and e["verdict"] != "ERROR")
    raised = sum(1 for m in modules.values() if m.get("error"))
    seconds = sum(m.get("seconds", 0.0) for m in modules.values())
    return (
        f"{len(entries)} verdicts ({n_ctrl} negative controls, {n_inc} inconclusive) in "
        f"{seconds:.1f} s; unexpected outcomes: {unexpected}; checks that raised: {raised}; "
        f"exit code {code}"
    )


def report_document(
    mode: str,
    entries: list[dict[str, Any]],
    modules: dict[str, dict[str, Any]],
    code: int,
    **extra: Any,
) -> dict[str, Any]:
    """The report in the one schema (module docstring); ``extra`` adds top-level keys."""
    from modgap.theorems.verdict import PAPER_CITATION

    doc = {
        "schema": SCHEMA,
        "paper": PAPER_CITATION,
        "mode": mode,
        "exit_code": code,
        "modules": modules,
        "checks": entries,
    }
    clash = set(extra) & set(doc)
    if clash:
        raise ValueError(f"report keys {sorted(clash)} are fixed by the schema")
    doc.update(extra)
    return doc


def alignment_table(table: Mapping[str, Any]) -> str:
    """Markdown table in the style of the paper's Table 1, from one
    :func:`modgap.verify.alignment_comparison.compare_alignments` result ({"source",
    "rows"}); an operator that could not be applied is shown as not applicable."""
    import math

    lines = [
        f"**{table['source']}**",
        "",
        "| embeddings | centre angle (deg) | centroid distance | I->T R@1 | I->T R@5 "
        "| T->I R@1 | T->I R@5 |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in table["rows"]:
        if "error" in row:
            lines.append(f"| {row['method']} | not applicable: {row['error']} | | | | | |")
            continue
        gap, rec = row["gap"], row["recall"]
        angle = gap["centre_angle"]
        angle = "undefined" if angle is None else f"{math.degrees(angle):.2f}"
        method = row["method"]
        if "d_overlap" in row:
            method += f" (d_overlap = {row['d_overlap']})"
        lines.append(
            f"| {method} | {angle} | {gap['centroid_distance']:.3f} | "
            f"{100 * rec['i2t']['1']:.2f} | {100 * rec['i2t']['5']:.2f} | "
            f"{100 * rec['t2i']['1']:.2f} | {100 * rec['t2i']['5']:.2f} |"
        )
    return "\n".join(lines)
