"""``modgap verify [NAME ...] [--json OUT] [--full]``: run the theorem checks.

Runs the checks of :mod:`theorems` (Yi, Douady & Chen, arXiv 2510.03268: Theorems 1-4,
Corollaries 2-4, and the dimension-collapse experiment), quick by default, thorough with
``--full``, prints one table row per verdict and optionally writes every verdict to a JSON
file (written to a temporary name, then renamed).

Exit code (this project's decision):

- 0: every check ran and every verdict has an accepted outcome: a claim is CONFIRMED,
  REFUTED with ``contradicts_paper`` (an honest counterexample to the paper is a
  finding, not a failure), or INCONCLUSIVE with its reason (e.g. the observable the
  claim is about does not exist at the optimum: that too is a finding, and the table and
  the summary line count these); every negative control is REFUTED.
- 1: some verdict has an unexpected outcome: a negative control that is not REFUTED
  (the check cannot tell right from wrong), or a claim REFUTED without
  ``contradicts_paper`` (this project's own reading failed: investigate).
- 2: bad input (an unknown check name: the message lists the valid ones).
- 3: some check RAISED an exception (traceback on stderr; the other checks still run and
  the JSON records the error as an entry with verdict "ERROR").

JSON schema: ``{"paper", "mode", "exit_code", "modules": {name: {"seconds", "error"}},
"checks": [entry, ...]}``; each entry is :meth:`theorems.verdict.Verdict.to_dict` (keys id,
reading, claim, verdict, parameters, measured, tolerance, detail, negative_control,
contradicts_paper) plus ``expected`` (bool: the outcome is the expected one).
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from typing import Any

from modgap.verify._validation import InputError

NAME = "verify"
HELP = (
    "run the executable checks of the seed paper's theorems (quick by default; --full for "
    "the thorough settings), print a verdict table, optionally write JSON"
)

EXIT_OK, EXIT_UNEXPECTED, EXIT_BAD_INPUT, EXIT_RAISED = 0, 1, 2, 3
_CLAIM_WIDTH = 56
_CONTROL_PREFIX = "NEGATIVE CONTROL: "


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments: NAME ... (default: all), --json OUT, --full, --list."""
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help="checks to run (theorem1 ... corollary4, dimension_collapse); default: all",
    )
    parser.add_argument("--json", metavar="OUT", help="write every verdict to this JSON file")
    parser.add_argument(
        "--full",
        action="store_true",
        help="thorough settings (< 3 min per check) instead of the quick ones (< 20 s)",
    )
    parser.add_argument("--list", action="store_true", help="list the available checks and exit")


def expected_outcome(verdict: Any) -> bool:
    """True when a verdict has its expected outcome (module docstring, exit code 0).

    Negative control: REFUTED. Claim: CONFIRMED, INCONCLUSIVE (with its reason), or
    REFUTED with contradicts_paper.
    """
    status = verdict.status.value
    if verdict.negative_control:
        return status == "REFUTED"
    if status == "REFUTED":
        return bool(verdict.contradicts_paper)
    return status in ("CONFIRMED", "INCONCLUSIVE")


def _short_claim(verdict: Any) -> str:
    claim = verdict.claim
    if claim.startswith(_CONTROL_PREFIX):
        claim = claim[len(_CONTROL_PREFIX) :]
    if verdict.negative_control:
        claim = "[control] " + claim
    return claim if len(claim) <= _CLAIM_WIDTH else claim[: _CLAIM_WIDTH - 3] + "..."


def _table(rows: list[dict[str, Any]]) -> str:
    headers = ("id", "reading", "claim", "verdict", "ok", "key numbers")
    cells = [
        (
            r["id"],
            r["reading"] or "-",
            r["claim"],
            r["verdict"] + (" (vs paper)" if r.get("contradicts_paper") else ""),
            "ok" if r["expected"] else "!!",
            r["numbers"],
        )
        for r in rows
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers[:-1])]
    lines = [
        "  ".join(h.ljust(w) for h, w in zip(headers[:-1], widths, strict=True))
        + "  "
        + headers[-1]
    ]
    lines.append("-" * (sum(widths) + 2 * len(widths) + len(headers[-1])))
    for c in cells:
        lines.append(
            "  ".join(x.ljust(w) for x, w in zip(c[:-1], widths, strict=True)) + "  " + c[-1]
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Run the selected checks; print the table; write JSON; return the exit code."""
    from modgap.theorems import REGISTRY, run_module
    from modgap.theorems.verdict import PAPER_CITATION, summarize
    from modgap.verify.atomic import check_output_path, write_json

    if args.json is not None:  # before minutes of checks, not after
        check_output_path(args.json, "--json")
    available = list(REGISTRY)
    if args.list:
        print("\n".join(available))
        return EXIT_OK
    names = list(dict.fromkeys(args.names)) if args.names else available
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise InputError(
            f"unknown check name(s): {', '.join(unknown)}; valid names: {', '.join(available)}"
        )
    quick = not args.full
    mode = "quick" if quick else "full"
    print(f"modgap verify ({mode}): {', '.join(names)}", flush=True)

    entries: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    modules: dict[str, dict[str, Any]] = {}
    raised = False
    for name in names:
        t0 = time.perf_counter()
        try:
            verdicts = run_module(name, quick=quick)
        except Exception as exc:  # surface it: traceback, ERROR entry, exit code 3
            raised = True
            tb = traceback.format_exc()
            print(f"modgap verify: check {name!r} raised:\n{tb}", file=sys.stderr, flush=True)
            modules[name] = {"seconds": time.perf_counter() - t0, "error": repr(exc)}
            entries.append(
                {
                    "id": name,
                    "reading": None,
                    "claim": "",
                    "verdict": "ERROR",
                    "parameters": {"quick": quick},
                    "measured": {},
                    "tolerance": "",
                    "detail": tb,
                    "negative_control": False,
                    "contradicts_paper": False,
                    "expected": False,
                }
            )
            rows.append(
                {
                    "id": name,
                    "reading": None,
                    "claim": f"raised {type(exc).__name__}",
                    "verdict": "ERROR",
                    "expected": False,
                    "numbers": str(exc)[:60],
                }
            )
            continue
        modules[name] = {"seconds": time.perf_counter() - t0, "error": None}
        for v in verdicts:
            ok = expected_outcome(v)
            entries.append({**v.to_dict(), "expected": ok})
            rows.append(
                {
                    "id": v.id,
                    "reading": v.reading,
                    "claim": _short_claim(v),
                    "verdict": v.status.value,
                    "contradicts_paper": v.contradicts_paper,
                    "expected": ok,
                    "numbers": summarize(v.to_dict(), limit=2, width=70),
                }
            )

    unexpected = sum(1 for e in entries if not e["expected"] and e["verdict"] != "ERROR")
    if raised:
        code = EXIT_RAISED
    elif unexpected:
        code = EXIT_UNEXPECTED
    else:
        code = EXIT_OK
    print(_table(rows))
    n_ctrl = sum(1 for e in entries if e["negative_control"])
    n_inc = sum(1 for e in entries if e["verdict"] == "INCONCLUSIVE")
    print(
        f"\n{len(entries)} verdicts ({n_ctrl} negative controls, {n_inc} inconclusive) in "
        f"{sum(m['seconds'] for m in modules.values()):.1f} s; "
        f"unexpected outcomes: {unexpected}; checks that raised: "
        f"{sum(1 for m in modules.values() if m['error'])}; exit code {code}"
    )
    if args.json:
        doc = {
            "paper": PAPER_CITATION,
            "mode": mode,
            "exit_code": code,
            "modules": modules,
            "checks": entries,
        }
        path = write_json(args.json, doc)
        print(f"wrote {path}")
    return code
