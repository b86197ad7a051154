"""The one outcome policy: what each verdict status means for a run, and its exit code.

Used by ``modgap verify`` and ``paper_repro.py`` alike, so the two agree on the same
results, exit codes included.

- A claim's expected outcomes: CONFIRMED; REFUTED with ``contradicts_paper`` (an honest
  counterexample to the paper is a finding, not a failure); INCONCLUSIVE with its reason
  (e.g. the observable the claim is about does not exist at the optimum, or the search did
  not cover the landscape well enough to decide).
- A negative control's expected outcome: REFUTED (a check that cannot fail proves nothing).
- Exit codes: 0 every verdict has an expected outcome; 1 some verdict has an unexpected
  outcome (a control not refuted, or a claim REFUTED without ``contradicts_paper``: this
  project's own reading failed); 2 bad input; 3 some check raised.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .verdict import Status, Verdict

__all__ = [
    "EXIT_OK",
    "EXIT_UNEXPECTED",
    "EXIT_BAD_INPUT",
    "EXIT_RAISED",
    "decide",
    "expected_outcome",
    "exit_code",
]

EXIT_OK, EXIT_UNEXPECTED, EXIT_BAD_INPUT, EXIT_RAISED = 0, 1, 2, 3


def decide(holds: bool, converged: bool = True) -> Status:
    """CONFIRMED if the stated claim holds, REFUTED if not, INCONCLUSIVE when the
    minimisation it rests on did not converge (no verdict on an unconverged point)."""
    if not converged:
        return Status.INCONCLUSIVE
    return Status.CONFIRMED if holds else Status.REFUTED


def expected_outcome(verdict: Verdict | Mapping[str, Any]) -> bool:
    """True when a verdict (a :class:`Verdict` or its ``to_dict()`` entry) has an expected
    outcome under the policy of the module docstring. An "ERROR" entry never has."""
    if isinstance(verdict, Verdict):
        status, control, contradicts = (
            verdict.status.value,
            verdict.negative_control,
            verdict.contradicts_paper,
        )
    else:
        status = verdict["verdict"]
        control = bool(verdict.get("negative_control"))
        contradicts = bool(verdict.get("contradicts_paper"))
    if control:
        return status == Status.REFUTED.value
    if status == Status.REFUTED.value:
        return contradicts
    return status in (Status.CONFIRMED.value, Status.INCONCLUSIVE.value)


def exit_code(entries: Iterable[Mapping[str, Any]], *, raised: bool = False) -> int:
    """The run's exit code from its verdict entries (module docstring): 3 if a check raised,
    else 1 if an entry has an unexpected outcome, else 0."""
    if raised:
        return EXIT_RAISED
    if any(not expected_outcome(e) for e in entries if e["verdict"] != "ERROR"):
        return EXIT_UNEXPECTED
    return EXIT_OK
