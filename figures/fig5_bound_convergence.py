"""Figure 5: the unconstrained minimum of L_N - 2 log N against N, converging to the
Theorem 1 bound.

Yi, Douady & Chen (arXiv 2510.03268), Theorem 1: lim (L_N - 2 log N) >= B(h, tau) =
-2/tau + 2 log(Gamma(nu+1) (2 tau)^nu I_nu(1/tau)), nu = h/2 - 1, with equality for the
paired uniform distribution. Drawn from the evidence of the Theorem 1 check itself
(``theorem1``, data["finite_n"]: the very solves the verdict was decided on): (a) the
best-found minimum of L_N - 2 log N over unconstrained paired unit vectors for growing N,
with B as a horizontal line and, for comparison, the expected value B + delta_N for N
i.i.d. paired uniform samples; (b) |L_N - 2 log N - B| on log-log axes with the check's
power-law and exponential fits (over the points above the solver's resolution). Open
markers: the solver did not reach its stationarity tolerance. This module only draws.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from modgap.figures import _style

NAME = "fig5_bound_convergence"
EVIDENCE: tuple[str, ...] = ("theorem1",)
COLORS = (_style.IMAGE_COLOR, _style.TEXT_COLOR, _style.SHARED_COLOR, "#9467bd")


def _fit_text(fit: dict) -> str:
    def num(key: str, spec: str) -> str:
        value = fit.get(key)
        return "n/a" if value is None else format(value, spec)

    return (
        f"log-log slope {num('slope_loglog', '.1f')} (R² {num('r2_loglog', '.2f')}),\n"
        f"exp. rate {num('rate_exp', '.3f')} per pair (R² {num('r2_exp', '.2f')})"
    )


def draw(evidence: dict[str, dict], out_dir: str | Path) -> list[Path]:
    """Draw the convergence from ``evidence["theorem1"]["data"]``."""
    import matplotlib.pyplot as plt

    d = evidence["theorem1"]["data"]
    fig, axes = plt.subplots(1, 2, figsize=(_style.PAGE_WIDTH, 3.3))
    all_Ns: set[int] = set()
    for curve, color in zip(d["finite_n"], COLORS, strict=False):
        Ns, B = curve["N"], curve["bound"]
        all_Ns.update(Ns)
        label = f"h = {curve['h']}, tau = {curve['tau']}"
        for ax, ys in ((axes[0], curve["loss_shifted"]), (axes[1], np.abs(curve["gap"]))):
            ax.plot(Ns, ys, "-", color=color, lw=0.9)
            for N, y, ok in zip(Ns, ys, curve["converged"], strict=True):
                ax.plot(N, y, "o", ms=4, color=color, mfc=color if ok else "white")
        axes[0].plot([], [], "o-", color=color, ms=4, label=f"min L_N − 2 log N, {label}")
        axes[0].axhline(B, color=color, ls="--", lw=0.8, label=f"bound B = {B:.3f}")
        axes[0].plot(
            Ns,
            curve["bound_plus_delta_N"],
            ":",
            color=color,
            lw=0.9,
            label="B + delta_N (i.i.d. paired uniform)",
        )
        axes[1].plot([], [], "o-", color=color, ms=4, label=f"{label}: {_fit_text(curve['fit'])}")

    ticks = sorted(all_Ns)
    ax = axes[0]
    ax.set_xscale("log", base=2)
    ax.set_xticks(ticks, [str(N) for N in ticks])
    ax.set_xlabel("N (pairs)")
    ax.set_ylabel("L_N − 2 log N (nats)")
    ax.set_title("(a) finite-N minimum vs the Theorem 1 bound")
    _style.legend_below(ax, ncol=2)

    ax = axes[1]
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks(ticks, [str(N) for N in ticks])
    ax.axhline(d["solver_floor"], color="0.5", lw=0.8, ls=":", label="solver resolution")
    ax.set_xlabel("N (pairs)")
    ax.set_ylabel("|L_N − 2 log N − B| (nats)")
    ax.set_title("(b) distance to the bound, with fits")
    _style.legend_below(ax)
    fig.suptitle(
        f"Theorem 1, no constraint: best of {len(d['seeds'])} seeds (open marker: "
        f"stationarity > {d['solver_tol']:g} not reached)"
    )
    fig.tight_layout()
    return _style.save(fig, out_dir, NAME)


if __name__ == "__main__":
    _style.script_main(__name__)
