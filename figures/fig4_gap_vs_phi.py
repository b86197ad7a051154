"""Figure 4: every gap observable against the angle phi between the two hyperplanes.

Yi, Douady & Chen (arXiv 2510.03268), Theorem 3: with images confined to a hyperplane A and
texts to a hyperplane B at angle phi, the optimum has centre angle Delta_theta = phi ("the
gap converges to the smallest angle between the hyperplanes"). For each phi of a grid this
figure draws, side by side (docs/theory.md §5: no observable is assumed to carry the gap):

- finite N, subspace constraint (verify.constraints.Subspace.hyperplanes(h, phi)) and
  subspace + cone constraint (SubspaceCone, caps of half-angle alpha inside A and B,
  variable centres): the best-found minimiser of L_N (verify.solvers.solve, several
  seeds), measured by theorems.theorem1.gap_observables with C from
  verify.geometry.shared_space: the centre angle (drawn only where defined, i.e. both
  means longer than theorems.theorem1.MEAN_TOL), the pair-angle mean and maximum, the
  centroid distance and the mean |P_C x_i - P_C y_i|; open markers: the solver did not
  converge (KKT residual > tol);
- population reading (theorems.theorem3's: vMF(kappa) on the unit spheres of A and B,
  polar coupling): the centre angle of the minimiser of F over the centres' positions,
  verify.population.minimise_subspace;
- the paper's prediction, the line y = phi.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from modgap.figures import _style
from modgap.theorems.theorem1 import MEAN_TOL, gap_observables
from modgap.verify import population
from modgap.verify.constraints import Subspace, SubspaceCone
from modgap.verify.geometry import shared_space
from modgap.verify.solvers import solve

NAME = "fig4_gap_vs_phi"


PHI_LABEL = "phi between the hyperplanes (deg)"


def phi_axis(ax, label: str = PHI_LABEL) -> None:
    """x axis for phi in degrees: [0, 90], ticks every 15 degrees."""
    ax.set_xlim(0, 90)
    ax.set_xticks(np.arange(0, 91, 15))
    ax.set_xlabel(label)


def paper_line(ax, label: str = "paper: gap = phi") -> None:
    """The paper's prediction y = phi (degrees), a thin black line over phi in [0, 90]."""
    ax.plot([0.0, 90.0], [0.0, 90.0], color="k", lw=0.8, label=label)
    phi_axis(ax)


def legend_below(ax, ncol: int = 1) -> None:
    """A compact legend under the axes (keeps the data area free at column width)."""
    ax.legend(
        frameon=False,
        fontsize=6,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.26),
        ncol=ncol,
        handlelength=1.5,
    )


def _marker_kw(color: str, converged: bool) -> dict:
    return dict(color=color, mfc=color if converged else "white", mec=color)


def _finite(constraint, n: int, tau: float, seeds, tol: float) -> dict:
    """One solve per seed; the lowest loss is the best-found minimiser, measured in full; the
    centre angles of the other starts are kept to show the other local minima."""
    runs = [solve(constraint, n, tau, seeds=(s,), tol=tol, max_iter=3000) for s in seeds]
    best = min(runs, key=lambda r: r.loss)
    QC = shared_space(constraint.QA, constraint.QB)
    others = [gap_observables(r.X, r.Y)["centre_angle"] for r in runs if r is not best]
    return dict(
        obs=gap_observables(best.X, best.Y, QC=QC),
        converged=bool(best.converged),
        other_centre_angles=[a for a in others if a is not None],
    )


def _angle_panel(ax, phis_deg, rows, title: str) -> None:
    series = (
        ("centre_angle", "o", "k", 4, 4, "centre angle, best start"),
        ("pair_angle_max", "^", _style.TEXT_COLOR, 6, 2, "max pair angle"),
        ("pair_angle_mean", "s", _style.IMAGE_COLOR, 3, 3, "mean pair angle"),
    )
    undefined = []
    for key, marker, color, size, zorder, label in series:
        first = True
        for phi, row in zip(phis_deg, rows, strict=True):
            value = row["obs"][key]
            if value is None:
                undefined.append(phi)
                continue
            ax.plot(
                phi,
                np.degrees(value),
                marker,
                ms=size,
                ls="none",
                zorder=zorder,
                label=label if first else None,
                **_marker_kw(color, row["converged"]),
            )
            first = False
    first = True
    for phi, row in zip(phis_deg, rows, strict=True):
        for a in row["other_centre_angles"]:
            ax.plot(
                phi + 2.0,
                np.degrees(a),
                ".",
                color="0.55",
                ms=3,
                label="centre angle, other starts" if first else None,
            )
            first = False
    if undefined:
        ax.text(
            0.03,
            0.97,
            f"centre angle undefined\n(|mean| < {MEAN_TOL:g}) at phi =\n"
            + ", ".join(f"{p:.0f}" for p in undefined)
            + "°",
            transform=ax.transAxes,
            ha="left",
            va="top",
            fontsize=6,
        )
    ax.set_ylabel("angle (deg)")
    ax.set_ylim(0, 185)
    ax.set_yticks(np.arange(0, 181, 30))
    ax.set_title(title)


def make(
    out_dir: str | Path,
    quick: bool = True,
    h: int = 4,
    tau: float = 0.2,
    alpha_deg: float = 45.0,
    kappa: float = 5.0,
    tol: float = 1e-6,
):
    """Draw the observables for phi on a grid (quick: 3 values, N = 32, 2 seeds;
    full: 8 values, N = 64, 4 seeds)."""
    import matplotlib.pyplot as plt

    phis_deg = np.array([20.0, 45.0, 70.0] if quick else np.arange(10.0, 81.0, 10.0))
    n = 32 if quick else 64
    seeds = (0, 1) if quick else (0, 1, 2, 3)
    alpha = np.deg2rad(alpha_deg)
    sub_rows, cone_rows, pop_deg = [], [], []
    for phi in np.deg2rad(phis_deg):
        sub_rows.append(_finite(Subspace.hyperplanes(h, phi), n, tau, seeds, tol))
        cone_rows.append(_finite(SubspaceCone.hyperplanes(h, phi, alpha), n, tau, seeds, tol))
        m = population.minimise_subspace(h, tau, kappa, phi, n=16, n_grid=7)
        pop_deg.append(np.degrees(m.centre_angle_best))

    fig, axes = plt.subplots(1, 3, figsize=(_style.PAGE_WIDTH, 3.4))
    ax = axes[0]
    _angle_panel(ax, phis_deg, sub_rows, "(a) subspace constraint")
    ax.plot(
        phis_deg,
        pop_deg,
        "x",
        color=_style.SHARED_COLOR,
        ms=6,
        zorder=5,
        label=f"population minimiser's\ncentre angle (kappa = {kappa:g})",
    )
    paper_line(ax)
    legend_below(ax)

    ax = axes[1]
    _angle_panel(ax, phis_deg, cone_rows, f"(b) subspace + cone, alpha = {alpha_deg:.0f}°")
    ax.plot([0, 90], [180, 90], color="0.5", lw=0.8, ls=":", label="180° − phi")
    paper_line(ax)
    legend_below(ax)

    ax = axes[2]
    for rows, ls, name, markers in (
        (sub_rows, "-", "subspace", "os"),
        (cone_rows, "--", "sub. + cone", "D^"),
    ):
        for (key, color, label), marker in zip(
            (
                ("centroid_distance", "k", "centroid dist."),
                ("shared_space_diff_mean", _style.SHARED_COLOR, "mean |P_C x − P_C y|"),
            ),
            markers,
            strict=True,
        ):
            ax.plot(
                phis_deg,
                [r["obs"][key] for r in rows],
                marker=marker,
                ms=3.5,
                ls=ls,
                lw=0.9,
                color=color,
                label=f"{label}, {name}",
            )
    phi_axis(ax)
    ax.set_ylabel("distance on the unit sphere")
    ax.set_yscale("log")
    ax.set_title("(c) distances")
    legend_below(ax)
    fig.suptitle(
        f"Gap observables vs phi (h = {h}, tau = {tau}, N = {n}; best of {len(seeds)} "
        f"starts; open marker: KKT residual > {tol:g})"
    )
    fig.tight_layout(w_pad=1.5)
    return _style.save(fig, out_dir, NAME)


if __name__ == "__main__":
    _style.script_main(make, __doc__)
