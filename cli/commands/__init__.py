"""Subcommands of ``modgap``.

Each module here defines ``NAME`` (the subcommand), ``HELP`` (one line),
``add_arguments(parser)`` and ``run(args) -> int``. Heavy imports (torch, cvxpy) happen
inside ``run`` so that ``modgap --help`` stays fast.
"""
