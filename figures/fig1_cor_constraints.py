"""Figure 1: the convergent optimal representation (COR) under no, cone and subspace
constraints, drawn from actual solver output on S^2.

As in Yi, Douady & Chen (arXiv 2510.03268), Fig. 1, but every point is a finite-N minimiser
of the symmetric InfoNCE loss L_N (h = 3, N pairs, fixed tau) from the evidence source
``sphere_optima`` (modgap.theorems.illustrations.sphere_optima): (a) a random feasible start
of the cone constraint, its two caps drawn around the centres of the smallest enclosing
caps; (b) the unconstrained optimum (Theorem 1: x_i = y_i, spread over the sphere); (c) the
optimum under the cone constraint with variable centres (Theorem 2 claims centre angle 0;
one solve per seed, the lowest loss is drawn and the other local minima are counted in the
title); (d) the optimum under the subspace constraint, A and B two planes through the
origin at angle phi drawn as great circles, C = A ∩ B the green axis (Theorem 3 claims
centre angle phi). Each title gives the centre angle under the one centre rule
(modgap.verify.observables; "undefined" when a modality mean is at noise level) and whether
the solver converged (KKT residual <= tol). Image points blue, text points red, grey
segments join the pairs. This module only draws.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from modgap.figures import _style

NAME = "fig1_cor_constraints"
EVIDENCE: tuple[str, ...] = ("sphere_optima",)


def _caps(ax, boundaries) -> None:
    for points, color in zip(boundaries, (_style.IMAGE_COLOR, _style.TEXT_COLOR), strict=True):
        _style.curve(ax, points, color=color, lw=1.0)


def draw(evidence: dict[str, dict], out_dir: str | Path) -> list[Path]:
    """Draw the four sphere views from ``evidence["sphere_optima"]``."""
    import matplotlib.pyplot as plt

    d = evidence["sphere_optima"]["data"]
    st = d["settings"]
    alpha_deg, phi_deg = _style.deg(st["alpha"]), _style.deg(st["phi"])

    fig = plt.figure(figsize=(_style.PAGE_WIDTH, 2.9))
    axes = [fig.add_subplot(1, 4, i + 1, projection="3d") for i in range(4)]
    for ax in axes:
        _style.sphere_axes(ax)

    ax, start = axes[0], d["random_start"]
    _caps(ax, start["cap_boundaries"])
    _style.draw_pairs(ax, start["X"], start["Y"])
    ax.set_title(
        f"(a) random start in two cones\nalpha = {alpha_deg:.0f}°\n"
        f"{_style.centre_text(start['observables'])}\n(not optimised)"
    )

    ax, free = axes[1], d["unconstrained"]
    _style.draw_pairs(ax, free["X"], free["Y"])
    ax.set_title(
        f"(b) no constraint\n{_style.centre_text(free['observables'])}\n"
        f"max pair angle {_style.deg(free['observables']['pair_angle_max']):.0e}°\n"
        f"{_style.status_text(free['converged'])}"
    )

    ax, cone = axes[2], d["cone"]
    _caps(ax, cone["cap_boundaries"])
    _style.draw_pairs(ax, cone["X"], cone["Y"])
    n_starts, worst = len(cone["starts"]), cone["worst_other"]
    if worst is None:
        other_txt = f"all {n_starts} starts agree"
    else:
        other_txt = (
            f"{cone['other_minima']} of {n_starts} starts: "
            f"{_style.deg(worst['cap_centre_angle']):.0f}°, "
            f"loss +{worst['loss_above_best']:.3f}"
        )
    ax.set_title(
        f"(c) cone, alpha = {alpha_deg:.0f}°\n{_style.centre_text(cone['observables'])}\n"
        f"{other_txt}\n{_style.status_text(cone['converged'])}"
    )

    ax, sub = axes[3], d["subspace"]
    for points, color, label in zip(
        sub["great_circles"],
        (_style.IMAGE_COLOR, _style.TEXT_COLOR),
        ("plane A", "plane B"),
        strict=True,
    ):
        _style.curve(ax, points, color=color, lw=0.9, alpha=0.7, label=label)
    c = np.asarray(sub["shared_axis"])
    _style.curve(ax, [-c, c], color=_style.SHARED_COLOR, lw=1.5, label="C = A ∩ B")
    _style.draw_pairs(ax, sub["X"], sub["Y"])
    ax.set_title(
        f"(d) subspace, phi = {phi_deg:.0f}°\n{_style.centre_text(sub['observables'])}\n"
        f"max pair angle {_style.deg(sub['observables']['pair_angle_max']):.1f}°\n"
        f"{_style.status_text(sub['converged'])}"
    )

    handles, labels = axes[3].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=5, frameon=False, markerscale=2)
    fig.suptitle(
        f"Finite-N optima of L_N on S^2 (h = {st['h']}, N = {st['n']}, tau = {st['tau']}; "
        f"converged = KKT residual <= {st['tol']:g})",
        y=1.02,
    )
    fig.subplots_adjust(left=0.0, right=1.0, top=0.78, bottom=0.08, wspace=0.02)
    return _style.save(fig, out_dir, NAME)


if __name__ == "__main__":
    _style.script_main(__name__)
