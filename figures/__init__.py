"""One script per figure, drawn only from cached evidence (presentation only).

Each module defines ``NAME``, ``EVIDENCE`` (the evidence sources of
:mod:`modgap.theorems.evidence` it draws) and ``draw(evidence, out_dir) -> list[Path]``;
it never calls a solver, a trainer or a quadrature. Each runs alone as
``python -m modgap.figures.<name> --out DIR [--quick] [--evidence FILE ...]``
(:func:`modgap.figures._style.script_main`). Paper: Yi, Douady & Chen, arXiv 2510.03268.
"""
