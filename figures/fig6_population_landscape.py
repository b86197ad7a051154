"""Figure 6: the population objective as a function of the centres' position relative to
the shared space, under the subspace constraint.

Yi, Douady & Chen (arXiv 2510.03268), Theorem 3: the large-N limit of L_N - 2 log N is
minimised when both centres are orthogonal to C = A ∩ B and Delta_theta = phi. In this
project's population reading (verify.population: x ~ vMF(c_x, kappa) on the unit sphere of
hyperplane A, y ~ vMF(c_y, kappa) on that of B, polar coupling), the centres are
c_x = cos(beta_x) a + sin(beta_x) p and c_y = cos(beta_y) b + sin(beta_y) p' (a, b orthogonal
to C, p = p' in C); beta = 0 is the paper's claimed minimiser, beta = 90° puts both centres
at the same point of C (Delta_theta = 0). Each panel is F(beta_x, beta_y) for one phi, with
the claimed minimiser, the numerical minimiser (grid scan + Nelder-Mead) and the
shared-centre configuration marked, their F values and the minimiser's centre angle in the
title. Drawn from the evidence source ``population_landscape``
(modgap.theorems.illustrations.population_landscape). This module only draws.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from modgap.figures import _style

NAME = "fig6_population_landscape"
EVIDENCE: tuple[str, ...] = ("population_landscape",)


def draw(evidence: dict[str, dict], out_dir: str | Path) -> list[Path]:
    """Draw F over (beta_x, beta_y) for each phi from ``evidence["population_landscape"]``."""
    import matplotlib.pyplot as plt

    d = evidence["population_landscape"]["data"]
    st, panels = d["settings"], d["panels"]
    bx_deg, by_deg = np.degrees(d["beta_x"]), np.degrees(d["beta_y"])
    fig, axes = plt.subplots(
        1, len(panels), figsize=(_style.PAGE_WIDTH, 3.3), sharey=True, squeeze=False
    )
    for ax, p in zip(axes[0], panels, strict=True):
        F = np.asarray(p["F"], dtype=float)
        cs = ax.contourf(by_deg, bx_deg, F, levels=20, cmap="YlGnBu")
        ax.contour(by_deg, bx_deg, F, levels=20, colors="0.4", linewidths=0.2, linestyles="solid")
        fig.colorbar(cs, ax=ax, label="population objective F (nats)", shrink=0.9)
        best_bx, best_by = _style.deg(p["best"][0]), _style.deg(p["best"][1])
        ax.plot(0, 0, "*", ms=11, mfc="none", mec=_style.TEXT_COLOR, mew=1.2,
                label=f"paper's minimiser (beta = 0): F = {p['F_claimed']:.4f}")  # fmt: skip
        ax.plot(best_by, best_bx, "x", ms=7, color="k", mew=1.2,
                label=f"numerical minimiser: F = {p['F_best']:.4f}")  # fmt: skip
        ax.plot(90, 90, "^", ms=6, mfc="none", mec="k", mew=1.0, clip_on=False,
                label=f"both centres in C: F = {p['F_in_c']:.4f}")  # fmt: skip
        ax.set_title(
            f"phi = {p['phi_deg']:.0f}°: minimiser at beta = ({best_bx:.1f}°, {best_by:.1f}°),\n"
            f"centre angle {_style.deg(p['centre_angle_best']):.1f}° "
            f"(quadrature error {p['quad_error']:.0e})"
        )
        ax.set_xlabel("beta_y: text centre's tilt towards C (deg)")
        ax.set_xticks(np.arange(-180, 181, 90))
        ax.set_yticks(np.arange(-90, 91, 45))
        ax.legend(
            frameon=False,
            fontsize=6,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.27),
            handlelength=1.2,
        )
    axes[0, 0].set_ylabel("beta_x: image centre's tilt\ntowards C (deg)")
    fig.suptitle(
        f"Population reading of Theorem 3 (h = {st['h']}, tau = {st['tau']}, "
        f"kappa = {st['kappa']:g}, {st['coupling']} coupling)"
    )
    fig.tight_layout()
    return _style.save(fig, out_dir, NAME)


if __name__ == "__main__":
    _style.script_main(__name__)
