"""Theorem layer: one module per result of the seed paper, each with its claim, readings,
checks and verdicts.

Paper: L. Yi, R. Douady, C. Chen, arXiv 2510.03268 (see :data:`theorems.verdict.PAPER_CITATION`).

Every module ``theorems/<name>.py`` defines ``ID``, ``CLAIM``, ``statement()`` (sympy
derivations) and ``check(quick=True) -> list[Verdict]`` (the extra experiment
``dimension_collapse`` defines ``run(quick)`` instead). :data:`REGISTRY` maps the names,
in the paper's order, to the modules; :func:`run_checks` runs them.

The registry is lazy: a module is imported when it is first looked up (so that
``modgap --help`` does not import torch or cvxpy). Every name is always listed; a module
that fails to import, or whose check raises, propagates its exception: nothing is
swallowed.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, Sequence
from types import ModuleType

from modgap.verify._validation import InputError

from .verdict import Verdict

__all__ = ["REGISTRY", "KNOWN_NAMES", "run_checks", "run_module"]

#: Every result this project checks, in the paper's order (plus the extra experiment).
KNOWN_NAMES: tuple[str, ...] = (
    "theorem1",
    "theorem2",
    "theorem3",
    "theorem4",
    "corollary2",
    "corollary3",
    "corollary4",
    "dimension_collapse",
)


class _LazyRegistry(Mapping[str, ModuleType]):
    """Ordered, read-only mapping name -> module; lookup imports the module (cached by
    Python)."""

    def __init__(self, names: Sequence[str]):
        self._names = tuple(names)

    def __getitem__(self, name: str) -> ModuleType:
        if name not in self._names:
            raise KeyError(name)
        return importlib.import_module(f"{__name__}.{name}")

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._names

    def __repr__(self) -> str:
        return f"REGISTRY({list(self)})"


#: name -> theorem module, in the paper's order, for the modules present.
REGISTRY: Mapping[str, ModuleType] = _LazyRegistry(KNOWN_NAMES)


def _validate(names: Sequence[str] | None) -> list[str]:
    available = list(REGISTRY)
    if names is None:
        return available
    if isinstance(names, str):
        names = [names]
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise InputError(
            f"unknown check name(s): {', '.join(map(repr, unknown))}; "
            f"valid names: {', '.join(available)}"
        )
    return list(dict.fromkeys(names))  # keep order, drop repeats


def run_module(name: str, quick: bool = True) -> list[Verdict]:
    """Run one registered module: ``check(quick)`` (or ``run(quick)`` for experiments).

    Raises ValueError for an unknown name and TypeError when the module returns anything
    but Verdicts; exceptions raised by the check itself propagate unchanged.
    """
    (name,) = _validate([name])
    mod = REGISTRY[name]
    fn = getattr(mod, "check", None) or getattr(mod, "run", None)
    if fn is None:
        raise TypeError(f"theorems.{name} defines neither check(quick) nor run(quick)")
    out = fn(quick=quick)
    if isinstance(out, Verdict):
        out = [out]
    out = list(out)
    bad = [type(v).__name__ for v in out if not isinstance(v, Verdict)]
    if bad:
        raise TypeError(f"theorems.{name} returned non-Verdict items: {bad}")
    return out


def run_checks(names: Sequence[str] | None = None, quick: bool = True) -> list[Verdict]:
    """Run the checks of ``names`` (default: every registered module, in the paper's
    order; otherwise in the order given) and return all their verdicts.

    quick=True: each module's quick setting (< 20 s per module on one thread);
    quick=False: the thorough setting (< 3 min per module). Unknown names raise ValueError
    listing the valid ones; an exception inside a check propagates (nothing is swallowed).
    """
    selected = _validate(names)
    verdicts: list[Verdict] = []
    for name in selected:
        verdicts.extend(run_module(name, quick=quick))
    return verdicts
