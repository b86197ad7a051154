"""Figure 6: the population objective as a function of the centres' position relative to
the shared space, under the subspace constraint.

Yi, Douady & Chen (arXiv 2510.03268), Theorem 3: the large-N limit of L_N - 2 log N is
minimised when both centres are orthogonal to C = A ∩ B and Delta_theta = phi. In this
project's population reading (verify.population: x ~ vMF(c_x, kappa) on the unit sphere of
hyperplane A, y ~ vMF(c_y, kappa) on that of B, polar coupling), the centres are
c_x = cos(beta_x) a + sin(beta_x) p and c_y = cos(beta_y) b + sin(beta_y) p' (a, b orthogonal
to C, p = p' in C); beta = 0 is the paper's claimed minimiser, beta = 90° puts both centres
at the same point of C (Delta_theta = 0). Each panel is F(beta_x, beta_y)
(verify.population.subspace_objective_grid) for one phi, with the claimed minimiser, the
numerical minimiser (verify.population.minimise_subspace: grid scan + Nelder-Mead) and the
shared-centre configuration marked, their F values and the minimiser's centre angle in the
title.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from modgap.figures import _style
from modgap.verify.population import minimise_subspace, subspace_objective, subspace_objective_grid

NAME = "fig6_population_landscape"


def make(
    out_dir: str | Path,
    quick: bool = True,
    h: int = 4,
    tau: float = 0.2,
    kappa: float = 5.0,
    phis_deg: tuple[float, ...] = (30.0, 60.0),
):
    """Draw F over (beta_x, beta_y) for each phi (quick: 13 x 25 grid, 16 quadrature nodes per
    panel; full: 37 x 73, 32 nodes)."""
    import matplotlib.pyplot as plt

    nx, ny, nodes = (13, 25, 16) if quick else (37, 73, 32)
    bx_deg = np.linspace(-90.0, 90.0, nx)
    by_deg = np.linspace(-180.0, 180.0, ny)
    fig, axes = plt.subplots(
        1, len(phis_deg), figsize=(_style.PAGE_WIDTH, 3.3), sharey=True, squeeze=False
    )
    for ax, phi_deg in zip(axes[0], phis_deg, strict=True):
        phi = np.deg2rad(phi_deg)
        F = subspace_objective_grid(
            h, tau, kappa, phi, np.deg2rad(bx_deg), np.deg2rad(by_deg), n=nodes
        )
        m = minimise_subspace(h, tau, kappa, phi, n=nodes, n_grid=7)
        F_shared = subspace_objective(
            h, tau, kappa, kappa, phi, np.pi / 2, np.pi / 2, n=nodes
        ).objective
        cs = ax.contourf(by_deg, bx_deg, F, levels=20, cmap="YlGnBu")
        ax.contour(by_deg, bx_deg, F, levels=20, colors="0.4", linewidths=0.2, linestyles="solid")
        fig.colorbar(cs, ax=ax, label="population objective F (nats)", shrink=0.9)
        best_bx, best_by = np.degrees(m.best[0]), np.degrees(m.best[1])
        ax.plot(0, 0, "*", ms=11, mfc="none", mec=_style.TEXT_COLOR, mew=1.2,
                label=f"paper's minimiser (beta = 0): F = {m.F_claimed:.4f}")  # fmt: skip
        ax.plot(best_by, best_bx, "x", ms=7, color="k", mew=1.2,
                label=f"numerical minimiser: F = {m.F_best:.4f}")  # fmt: skip
        ax.plot(90, 90, "^", ms=6, mfc="none", mec="k", mew=1.0, clip_on=False,
                label=f"both centres in C: F = {F_shared:.4f}")  # fmt: skip
        ax.set_title(
            f"phi = {phi_deg:.0f}°: minimiser at beta = ({best_bx:.1f}°, {best_by:.1f}°),\n"
            f"centre angle {np.degrees(m.centre_angle_best):.1f}° "
            f"(quadrature error {m.quad_error:.0e})"
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
        f"Population reading of Theorem 3 (h = {h}, tau = {tau}, kappa = {kappa:g}, polar coupling)"
    )
    fig.tight_layout()
    return _style.save(fig, out_dir, NAME)


if __name__ == "__main__":
    _style.script_main(make, __doc__)
