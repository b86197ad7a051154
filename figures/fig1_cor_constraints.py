"""Figure 1: the convergent optimal representation (COR) under no, cone and subspace
constraints, drawn from actual solver output on S^2.

As in Yi, Douady & Chen (arXiv 2510.03268), Fig. 1, but every point is a finite-N minimiser
of the symmetric InfoNCE loss L_N found by verify.solvers.solve (h = 3, N pairs, fixed tau):
(a) a random feasible start of the cone constraint (verify.constraints.Cone, its two caps
drawn around the centres of the smallest enclosing caps); (b) the unconstrained optimum
(Theorem 1: x_i = y_i, spread over the sphere); (c) the optimum under the cone constraint
with variable centres (Theorem 2 claims centre angle 0; one solve per seed, the lowest loss
is drawn and the other local minima are counted in the title); (d) the optimum under the
subspace constraint, A and B two planes through the origin at angle phi drawn as great
circles, C = A ∩ B the green axis (Theorem 3 claims centre angle phi). Each title gives the
solver's centre angle (verify.metrics.centre_angle; "undefined" when a modality mean is
shorter than theorems.theorem1.MEAN_TOL) and whether the solver converged (KKT residual
<= ``tol``). Image points blue, text points red, grey segments join the pairs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from modgap.figures import _style
from modgap.figures.fig3_pair_geometry import _great_circle
from modgap.theorems.theorem1 import MEAN_TOL
from modgap.verify.constraints import Cone, Subspace, Unconstrained
from modgap.verify.geometry import orthogonal_complement, project_onto_cap, shared_space
from modgap.verify.metrics import centre_angle
from modgap.verify.solvers import solve

NAME = "fig1_cor_constraints"


def sphere_axes(ax) -> None:
    """A light wireframe unit sphere, equal aspect, no axes (shared with other sphere views)."""
    u, v = np.mgrid[0 : 2 * np.pi : 40j, 0 : np.pi : 20j]
    ax.plot_wireframe(np.cos(u) * np.sin(v), np.sin(u) * np.sin(v), np.cos(v), color="0.88", lw=0.3)
    ax.view_init(elev=20, azim=35)
    ax.set_box_aspect((1, 1, 1), zoom=1.35)
    ax.computed_zorder = False  # draw in call order: text points on top of image points
    ax.set_axis_off()


def draw_pairs(ax, X: np.ndarray, Y: np.ndarray) -> None:
    """Image points (blue), text points (red) and a grey segment per pair."""
    for x, y in zip(X, Y, strict=True):
        ax.plot(*np.vstack([x, y]).T, color="0.55", lw=0.4)
    kw = dict(depthshade=False)
    ax.scatter(*X.T, s=14, color=_style.IMAGE_COLOR, zorder=3, label="image x_i", **kw)
    ax.scatter(*Y.T, s=3, color=_style.TEXT_COLOR, zorder=4, label="text y_i", **kw)


def cap_boundary(c: np.ndarray, alpha: float) -> np.ndarray:
    """Points of the boundary circle of the cap {x . c >= cos alpha} (alpha < pi/2): the great
    circle orthogonal to c, projected onto the cap (verify.geometry.project_onto_cap)."""
    return project_onto_cap(_great_circle(orthogonal_complement(c[:, None])), c, alpha)


def _angle_text(X: np.ndarray, Y: np.ndarray) -> str:
    theta = centre_angle(X, Y, tol=MEAN_TOL)
    return "centre angle undefined" if theta is None else f"centre angle {np.degrees(theta):.1f}°"


def _status(res) -> str:
    return "converged" if res.converged else "NOT converged"


def make(
    out_dir: str | Path,
    quick: bool = True,
    n: int | None = None,
    tau: float = 0.2,
    alpha_deg: float = 45.0,
    phi_deg: float = 45.0,
    tol: float = 1e-6,
):
    """Draw the four sphere views. quick: N = 32 and 4 seeds for the cone (full: N = 48, 8)."""
    import matplotlib.pyplot as plt

    n = n or (32 if quick else 48)
    seeds = tuple(range(4 if quick else 8))
    alpha, phi = np.deg2rad(alpha_deg), np.deg2rad(phi_deg)
    kw = dict(tol=tol, max_iter=3000)

    cone = Cone(3, alpha)
    X0, Y0 = cone.random_point(n, rng=0)
    c0 = cone.centres_for(X0, Y0)
    free = solve(Unconstrained(3), n, tau, seeds=seeds[:3], **kw)
    runs = [solve(cone, n, tau, seeds=(s,), **kw) for s in seeds]
    best = min(runs, key=lambda r: r.loss)
    best_angle = best.observables()["cap_centre_angle_deg"]
    others = [r for r in runs if abs(r.observables()["cap_centre_angle_deg"] - best_angle) > 1.0]
    sub_c = Subspace.hyperplanes(3, phi)
    sub = solve(sub_c, n, tau, seeds=seeds[:3], **kw)
    C = shared_space(sub_c.QA, sub_c.QB)

    fig = plt.figure(figsize=(_style.PAGE_WIDTH, 2.9))
    axes = [fig.add_subplot(1, 4, i + 1, projection="3d") for i in range(4)]
    for ax in axes:
        sphere_axes(ax)

    ax = axes[0]
    for c, color in zip(c0, (_style.IMAGE_COLOR, _style.TEXT_COLOR), strict=True):
        ax.plot(*cap_boundary(c, alpha).T, color=color, lw=1.0)
    draw_pairs(ax, X0, Y0)
    ax.set_title(
        f"(a) random start in two cones\nalpha = {alpha_deg:.0f}°\n"
        f"{_angle_text(X0, Y0)}\n(not optimised)"
    )

    ax = axes[1]
    draw_pairs(ax, free.X, free.Y)
    ax.set_title(
        f"(b) no constraint\n{_angle_text(free.X, free.Y)}\n"
        f"max pair angle {free.observables()['pair_angle_max_deg']:.0e}°\n{_status(free)}"
    )

    ax = axes[2]
    for c, color in zip(best.centres, (_style.IMAGE_COLOR, _style.TEXT_COLOR), strict=True):
        ax.plot(*cap_boundary(c, alpha).T, color=color, lw=1.0)
    draw_pairs(ax, best.X, best.Y)
    if others:
        worst = max(others, key=lambda r: r.loss)
        other_txt = (
            f"{len(others)} of {len(runs)} starts: "
            f"{worst.observables()['cap_centre_angle_deg']:.0f}°, "
            f"loss +{worst.loss - best.loss:.3f}"
        )
    else:
        other_txt = f"all {len(runs)} starts agree"
    ax.set_title(
        f"(c) cone, alpha = {alpha_deg:.0f}°\n{_angle_text(best.X, best.Y)}\n"
        f"{other_txt}\n{_status(best)}"
    )

    ax = axes[3]
    for Q, color, label in (
        (sub_c.QA, _style.IMAGE_COLOR, "plane A"),
        (sub_c.QB, _style.TEXT_COLOR, "plane B"),
    ):
        ax.plot(*_great_circle(Q).T, color=color, lw=0.9, alpha=0.7, label=label)
    ax.plot(*np.vstack([-C[:, 0], C[:, 0]]).T, color=_style.SHARED_COLOR, lw=1.5, label="C = A ∩ B")
    draw_pairs(ax, sub.X, sub.Y)
    ax.set_title(
        f"(d) subspace, phi = {phi_deg:.0f}°\n{_angle_text(sub.X, sub.Y)}\n"
        f"max pair angle {sub.observables()['pair_angle_max_deg']:.1f}°\n{_status(sub)}"
    )

    handles, labels = axes[3].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=5, frameon=False, markerscale=2)
    fig.suptitle(
        f"Finite-N optima of L_N on S^2 (h = 3, N = {n}, tau = {tau}; converged = KKT residual "
        f"<= {tol:g})",
        y=1.02,
    )
    fig.subplots_adjust(left=0.0, right=1.0, top=0.78, bottom=0.08, wspace=0.02)
    return _style.save(fig, out_dir, NAME)


if __name__ == "__main__":
    _style.script_main(make, __doc__)
