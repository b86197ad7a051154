"""Settings shared by Theorem 4 and Corollaries 2-4: they all measure the same finite-N
optimum under the subspace constraint (modgap.verify.frames.subspace_optimum, cached), so
they use the same (h, N, tau, phi) grid. Paper: Yi, Douady & Chen, arXiv 2510.03268.
"""

from __future__ import annotations

__all__ = ["QUICK_SETTINGS", "FULL_SETTINGS"]

#: (h, N, tau, phi) of the finite-N subspace optima measured by Theorem 4 and Corollaries 2-4.
#: (h, N, tau, phi) of the finite-N minimisations; N > h - 1 so that the optimum leaves C.
#: (At large phi or large tau the minimiser can stay inside C even for N > h - 1, e.g.
#: h = 6, N = 30, tau = 0.3, phi = 1.5 or h = 6, N = 48, tau = 0.5, phi = 1; such
#: settings make Theorem 4 trivial and Corollary 2 vacuous, so they are used only in
#: Corollary 2's scope check.)
QUICK_SETTINGS: tuple[tuple[int, int, float, float], ...] = (
    (4, 16, 0.1, 0.6),
    (8, 64, 0.1, 0.7),
)
FULL_SETTINGS: tuple[tuple[int, int, float, float], ...] = (
    (4, 16, 0.1, 0.6),
    (8, 64, 0.1, 0.7),
    (3, 8, 0.1, 0.6),
    (5, 24, 0.2, 0.8),
    (16, 128, 0.1, 0.5),
    (12, 200, 0.2, 0.9),
    (4, 40, 0.1, 1.0),
    (24, 256, 0.1, 0.4),
    (32, 512, 0.07, 0.3),
)
