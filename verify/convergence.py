"""How fast a sequence of finite-N gaps converges: power-law and exponential fits.

Used by Theorem 1's finite-N reading (docs/readings.md): min L_N - 2 log N - B(h, tau) over
N = 8 ... 256 is fitted both as a power law and as an exponential, and the better fit (R^2)
says which kind of convergence the numbers show.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from modgap.verify.settings import SOLVER_FLOOR

__all__ = ["fit_convergence"]


def fit_convergence(Ns: Any, gaps: Any, floor: float = SOLVER_FLOOR) -> dict[str, float]:
    """Least-squares fits of the convergence of |gap_N| over the N with |gap_N| > ``floor``:

    power law  log|gap| = a + slope_loglog * log N   (slope_loglog = -p for gap ~ N^{-p}),
    exponential log|gap| = a + rate_exp * N            (rate_exp = -c for gap ~ e^{-c N}),
    each with its coefficient of determination R^2. NaN when fewer than 3 points qualify.
    """
    N = np.asarray(Ns, dtype=float)
    g = np.abs(np.asarray(gaps, dtype=float))
    keep = g > floor
    out = {"n_points": int(keep.sum())}
    if keep.sum() < 3:
        return out | {
            "slope_loglog": math.nan,
            "r2_loglog": math.nan,
            "rate_exp": math.nan,
            "r2_exp": math.nan,
        }
    y = np.log(g[keep])
    for name, xv in (("loglog", np.log(N[keep])), ("exp", N[keep])):
        A = np.stack([np.ones_like(xv), xv], axis=1)
        coef, *_ = np.linalg.lstsq(A, y, rcond=None)
        resid = y - A @ coef
        r2 = 1.0 - float(resid @ resid) / float(((y - y.mean()) ** 2).sum())
        out["slope_loglog" if name == "loglog" else "rate_exp"] = float(coef[1])
        out[f"r2_{name}"] = r2
    return out
