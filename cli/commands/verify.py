"""``modgap verify [NAME ...] [--json OUT] [--full]``: run the theorem checks.

Runs the checks of :mod:`theorems` (Yi, Douady & Chen, arXiv 2510.03268: Theorems 1-4,
Corollaries 2-4, and the dimension-collapse experiment), quick by default, thorough with
``--full``, prints one table row per verdict and optionally writes every verdict to a JSON
file (written to a temporary name, then renamed).

Exit code (this project's decision, :mod:`modgap.theorems.outcome`, shared with
``paper_repro.py``):

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

JSON schema: ``modgap.report/1`` (:mod:`modgap.report`, shared with ``paper_repro.py``):
``{"schema", "paper", "mode", "exit_code", "modules": {name: {"seconds", "error",
"cached"}}, "checks": [entry, ...]}``; each entry is
:meth:`modgap.theorems.verdict.Verdict.to_dict` plus ``expected``.
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


def run_check(name: str, quick: bool) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Run one check through its evidence (modgap.theorems.evidence.compute); returns its
    report entries and module record. A check that raises gives one ERROR entry (the
    traceback goes to stderr), never an exception."""
    from modgap.report import entries_from_evidence, error_entry
    from modgap.theorems.evidence import compute

    t0 = time.perf_counter()
    try:
        doc = compute(name, quick=quick)
    except Exception as exc:  # surfaced: traceback, ERROR entry, exit code 3
        tb = traceback.format_exc()
        print(f"modgap verify: check {name!r} raised:\n{tb}", file=sys.stderr, flush=True)
        record = {"seconds": time.perf_counter() - t0, "error": repr(exc), "cached": False}
        return [error_entry(name, quick, tb)], record
    record = {"seconds": time.perf_counter() - t0, "error": None, "cached": False}
    return entries_from_evidence(doc), record


def run(args: argparse.Namespace) -> int:
    """Run the selected checks; print the table; write JSON; return the exit code."""
    from modgap.report import report_document, summary_line, verdict_table
    from modgap.theorems import REGISTRY
    from modgap.theorems.outcome import EXIT_OK, exit_code
    from modgap.verify.atomic import JSON_SUFFIXES, check_output_path, write_json

    if args.json is not None:  # before minutes of checks, not after
        check_output_path(args.json, "--json", suffixes=JSON_SUFFIXES)
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
    modules: dict[str, dict[str, Any]] = {}
    for name in names:
        found, modules[name] = run_check(name, quick)
        entries.extend(found)
    code = exit_code(entries, raised=any(m["error"] for m in modules.values()))
    print(verdict_table(entries))
    print("\n" + summary_line(entries, modules, code))
    if args.json:
        path = write_json(args.json, report_document(mode, entries, modules, code))
        print(f"wrote {path}")
    return code
