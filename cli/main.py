"""Entry point of the ``modgap`` command line.

Subcommands are discovered from :mod:`modgap.commands`; each module there provides
``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import pkgutil
import sys
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

from modgap import __version__
from modgap.verify._validation import InputError

from . import commands


def _command_modules() -> list:
    mods = []
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        mods.append(importlib.import_module(f"{commands.__name__}.{info.name}"))
    return mods


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser with every discovered subcommand."""
    parser = argparse.ArgumentParser(
        prog="modgap",
        description=(
            "Check the modality-gap theorems of Yi, Douady & Chen (arXiv 2510.03268) and "
            "analyse paired embeddings (gap metrics, dimension collapse, principal angles, "
            "post-hoc alignment, retrieval)."
        ),
    )
    parser.add_argument("--version", action="version", version=f"modgap {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod in _command_modules():
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=mod.HELP)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def _package_dirs() -> list[Path]:
    """The folders of the installed modgap packages (found without importing them)."""
    dirs = []
    for name in ("modgap", "modgap.verify", "modgap.theorems", "modgap.figures"):
        spec = importlib.util.find_spec(name)
        dirs += [Path(d).resolve() for d in (spec.submodule_search_locations or [])] if spec else []
    return dirs


@contextlib.contextmanager
def warnings_as_notes(prog: str) -> Iterator[None]:
    """Inside a command, a warning the package raises about the user's data (duplicated
    rows, ties, degenerate inputs) is printed as one line, ``PROG: warning: ...`` (``prog``:
    e.g. "modgap analyze"), like the command's own notes, instead of Python's file-and-line
    format; warnings from other libraries keep their usual format. ``formatwarning`` is
    replaced, not ``showwarning``, so a caller recording warnings still records them."""
    previous = warnings.formatwarning
    roots = _package_dirs()

    def fmt(message, category, filename, lineno, line=None):
        if any(Path(filename).resolve().is_relative_to(r) for r in roots):
            return f"{prog}: warning: {message}\n"
        return previous(message, category, filename, lineno, line)

    warnings.formatwarning = fmt
    try:
        yield
    finally:
        warnings.formatwarning = previous


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``modgap``; returns the process exit code (0 success, 2 bad input).

    Only the project's input-error type (:class:`modgap.verify._validation.InputError`),
    file-system errors (OSError: a missing, unreadable or unwritable file) and MemoryError
    (a request larger than the machine) are reported as one-line errors with exit 2.
    Anything else is an internal bug and surfaces as a traceback (exit 1), never disguised
    as bad input.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 0
    try:
        with warnings_as_notes(f"modgap {args.command}"):
            return int(args._run(args) or 0)
    except (InputError, OSError) as exc:
        print(f"modgap {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except MemoryError as exc:
        detail = f" ({exc})" if str(exc) else ""
        print(
            f"modgap {args.command}: error: out of memory{detail}; the request needs more "
            "memory than this machine has available: reduce the sizes (e.g. --n, --h, the "
            "number of rows)",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
