"""One script per figure (presentation only: every number comes from verify/ or theorems/).

Each module defines ``make(out_dir, quick=True, **options) -> list[Path]`` and runs alone
as ``python -m figures.<name> --out DIR [--quick]`` (or ``python figures/<name>.py``).
"""
