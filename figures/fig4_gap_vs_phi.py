"""Figure 4: every gap observable against the angle phi between the two hyperplanes.

Yi, Douady & Chen (arXiv 2510.03268), Theorem 3: with images confined to a hyperplane A and
texts to a hyperplane B at angle phi, the optimum has centre angle Delta_theta = phi ("the
gap converges to the smallest angle between the hyperplanes"). For each phi of a grid this
figure draws, side by side (docs/theory.md §5: no observable is assumed to carry the gap), from
the evidence source ``gap_vs_phi`` (modgap.theorems.illustrations.gap_vs_phi):

- finite N, subspace constraint and subspace + cone constraint (caps of half-angle alpha
  inside A and B, variable centres): the best-found minimiser of L_N (several seeds),
  measured under the one centre rule ("configuration"): the centre angle (drawn only where
  defined), the pair-angle mean and maximum, the centroid distance and the mean
  |P_C x_i - P_C y_i|; open markers: the solver did not converge (KKT residual > tol);
- population reading (theorems.theorem3's: vMF(kappa) on the unit spheres of A and B,
  polar coupling): the centre angle of the minimiser of F over the centres' positions;
- the paper's prediction, the line y = phi.

This module only draws.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from modgap.figures import _style

NAME = "fig4_gap_vs_phi"
EVIDENCE: tuple[str, ...] = ("gap_vs_phi",)


def _marker_kw(color: str, converged: bool) -> dict:
    return dict(color=color, mfc=color if converged else "white", mec=color)


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
            value = row["observables"][key]
            if value is None:
                undefined.append(phi)
                continue
            ax.plot(
                phi,
                _style.deg(value),
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
                _style.deg(a),
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
            "centre angle undefined\n(|mean| at noise level) at phi =\n"
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


def draw(evidence: dict[str, dict], out_dir: str | Path) -> list[Path]:
    """Draw the observables against phi from ``evidence["gap_vs_phi"]``."""
    import matplotlib.pyplot as plt

    d = evidence["gap_vs_phi"]["data"]
    st, rows = d["settings"], d["rows"]
    phis_deg = [r["phi_deg"] for r in rows]
    sub_rows = [r["subspace"] for r in rows]
    cone_rows = [r["subspace_cone"] for r in rows]

    fig, axes = plt.subplots(1, 3, figsize=(_style.PAGE_WIDTH, 3.4))
    ax = axes[0]
    _angle_panel(ax, phis_deg, sub_rows, "(a) subspace constraint")
    ax.plot(
        phis_deg,
        [_style.deg(r["population"]["centre_angle_best"]) for r in rows],
        "x",
        color=_style.SHARED_COLOR,
        ms=6,
        zorder=5,
        label=f"population minimiser's\ncentre angle (kappa = {st['kappa']:g})",
    )
    _style.paper_line(ax)
    _style.legend_below(ax)

    ax = axes[1]
    alpha_deg = _style.deg(st["alpha"])
    _angle_panel(ax, phis_deg, cone_rows, f"(b) subspace + cone, alpha = {alpha_deg:.0f}°")
    ax.plot([0, 90], [180, 90], color="0.5", lw=0.8, ls=":", label="180° − phi")
    _style.paper_line(ax)
    _style.legend_below(ax)

    ax = axes[2]
    for some_rows, ls, name, markers in (
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
                [r["observables"][key] for r in some_rows],
                marker=marker,
                ms=3.5,
                ls=ls,
                lw=0.9,
                color=color,
                label=f"{label}, {name}",
            )
    _style.phi_axis(ax)
    ax.set_ylabel("distance on the unit sphere")
    ax.set_yscale("log")
    ax.set_title("(c) distances")
    _style.legend_below(ax)
    fig.suptitle(
        f"Gap observables vs phi (h = {st['h']}, tau = {st['tau']}, N = {st['n']}; best of "
        f"{len(st['seeds'])} starts; open marker: KKT residual > {st['tol']:g})"
    )
    fig.tight_layout(w_pad=1.5)
    return _style.save(fig, out_dir, NAME)


if __name__ == "__main__":
    _style.script_main(__name__)
