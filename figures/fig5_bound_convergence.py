"""Figure 5: the unconstrained minimum of L_N - 2 log N against N, converging to the
Theorem 1 bound.

Yi, Douady & Chen (arXiv 2510.03268), Theorem 1: lim (L_N - 2 log N) >= B(h, tau) =
-2/tau + 2 log(Gamma(nu+1) (2 tau)^nu I_nu(1/tau)), nu = h/2 - 1, with equality for the
paired uniform distribution. (a) the best-found minimum of L_N - 2 log N over unconstrained
paired unit vectors (verify.solvers.solve, numpy L-BFGS, several seeds) for growing N, with
B (verify.population.theorem1_bound) as a horizontal line and, for comparison, the expected
value B + delta_N for N i.i.d. paired uniform samples
(verify.population.uniform_finite_batch_correction); (b) |L_N - 2 log N - B| on log-log
axes with the power-law and exponential fits of theorems.theorem1.fit_convergence (over the
points above the solver's resolution theorems.theorem1.SOLVER_FLOOR). Open markers: the
solver did not reach its stationarity tolerance.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from modgap.figures import _style
from modgap.figures.fig4_gap_vs_phi import legend_below
from modgap.theorems.theorem1 import SOLVER_FLOOR, fit_convergence
from modgap.verify.constraints import Unconstrained
from modgap.verify.population import theorem1_bound, uniform_finite_batch_correction
from modgap.verify.solvers import solve

NAME = "fig5_bound_convergence"

#: (h, tau) settings drawn, one colour each.
SETTINGS = ((3, 0.05), (4, 0.1))
COLORS = (_style.IMAGE_COLOR, _style.TEXT_COLOR)


def make(out_dir: str | Path, quick: bool = True, tol: float = 1e-7):
    """Draw the convergence for N = 8 ... 128 (quick) or 8 ... 512 (full)."""
    import matplotlib.pyplot as plt

    Ns = [8, 16, 32, 64, 128] if quick else [8, 16, 32, 64, 128, 256, 512]
    seeds = (0, 1)
    fig, axes = plt.subplots(1, 2, figsize=(_style.PAGE_WIDTH, 3.3))
    fits = []
    for (h, tau), color in zip(SETTINGS, COLORS, strict=True):
        B = theorem1_bound(h, tau)
        runs = [solve(Unconstrained(h), N, tau, seeds=seeds, tol=tol, max_iter=3000) for N in Ns]
        values = [r.loss_shifted for r in runs]
        gaps = [r.loss_shifted - B for r in runs]
        fit = fit_convergence(Ns, gaps)
        fits.append((h, tau, fit))
        label = f"h = {h}, tau = {tau}"
        for ax, ys in ((axes[0], values), (axes[1], np.abs(gaps))):
            ax.plot(Ns, ys, "-", color=color, lw=0.9)
            for N, y, r in zip(Ns, ys, runs, strict=True):
                ax.plot(N, y, "o", ms=4, color=color, mfc=color if r.converged else "white")
        axes[0].plot([], [], "o-", color=color, ms=4, label=f"min L_N − 2 log N, {label}")
        axes[0].axhline(B, color=color, ls="--", lw=0.8, label=f"bound B = {B:.3f}")
        axes[0].plot(
            Ns,
            [B + uniform_finite_batch_correction(h, tau, N) for N in Ns],
            ":",
            color=color,
            lw=0.9,
            label="B + delta_N (i.i.d. paired uniform)",
        )
        slope, r2 = fit["slope_loglog"], fit["r2_loglog"]
        rate, r2e = fit["rate_exp"], fit["r2_exp"]
        axes[1].plot(
            [],
            [],
            "o-",
            color=color,
            ms=4,
            label=(
                f"{label}: log-log slope {slope:.1f} (R² {r2:.2f}),\n"
                f"exp. rate {rate:.3f} per pair (R² {r2e:.2f})"
            ),
        )

    ax = axes[0]
    ax.set_xscale("log", base=2)
    ax.set_xticks(Ns, [str(N) for N in Ns])
    ax.set_xlabel("N (pairs)")
    ax.set_ylabel("L_N − 2 log N (nats)")
    ax.set_title("(a) finite-N minimum vs the Theorem 1 bound")
    legend_below(ax, ncol=2)

    ax = axes[1]
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks(Ns, [str(N) for N in Ns])
    ax.axhline(SOLVER_FLOOR, color="0.5", lw=0.8, ls=":", label="solver resolution")
    ax.set_xlabel("N (pairs)")
    ax.set_ylabel("|L_N − 2 log N − B| (nats)")
    ax.set_title("(b) distance to the bound, with fits")
    legend_below(ax)
    fig.suptitle(
        f"Theorem 1, no constraint: best of {len(seeds)} seeds (open marker: stationarity "
        f"> {tol:g} not reached)"
    )
    fig.tight_layout()
    return _style.save(fig, out_dir, NAME)


if __name__ == "__main__":
    _style.script_main(make, __doc__)
