"""Figure 7: dimension collapse imposed on trained two-tower models, each gap observable
against the imposed angle phi.

Yi, Douady & Chen (arXiv 2510.03268), Theorem 3: "dimension collapse is the origin of the
gap", the centre angle Delta_theta converging to the angle phi between the subspaces. Drawn
from the evidence of the dimension-collapse check itself (``dimension_collapse``: the very
rows its verdicts were decided on): the "shared" rows (towers trained with InfoNCE, outputs
confined to k-dim subspaces A, B of R^h with principal angles (0, ..., 0, phi); k = h - 1
is the paper's pair of hyperplanes) at the check's main sample size, and the unconstrained
control. Panels: (a) the centre angle where the centre is defined
(both means longer than the sampling floor 3 / sqrt(N)), and otherwise the raw angle between
the means, marked as such; (b) pair angles, maximum and mean; (c) centroid distance after
training and at initialisation; (d) mean |P_C x_i - P_C y_i| and mean height out of C.
Lines y = phi: the paper's prediction. The title counts the runs whose training reached a
loss plateau (theorems.dimension_collapse's convergence criterion). This module only draws.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from modgap.figures import _style
from modgap.figures._style import paper_line, phi_axis

NAME = "fig7_dimension_collapse"
EVIDENCE: tuple[str, ...] = ("dimension_collapse",)
PHI_LABEL_K = "imposed phi (deg)"
K_COLORS = ("#9467bd", "#ff7f0e", "#17becf", "#8c564b")


def _finish(ax, title: str, ylabel: str) -> None:
    """phi axis, labels, and a legend to the right of the axes."""
    phi_axis(ax, PHI_LABEL_K)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(
        frameon=False, fontsize=6, loc="center left", bbox_to_anchor=(1.0, 0.5), handlelength=1.8
    )


def _series(ax, rows, key, marker, color, ls="-", label=None, filled=True) -> None:
    """One observable of one k against phi: a line and markers through the defined values."""
    pts = [(r["phi_deg"], r[key]) for r in rows if r[key] is not None]
    if not pts:
        return
    ax.plot(
        [p[0] for p in pts],
        [p[1] for p in pts],
        marker=marker,
        ms=4,
        ls=ls,
        lw=0.8,
        color=color,
        mfc=color if filled else "white",
        label=label,
    )


def shared_rows(data: dict) -> list[dict]:
    """The rows Fig. 7 draws: configuration "shared" at the check's main sample size."""
    n = data["settings"]["n"]
    return [r for r in data["rows"] if r["config"] == "shared" and r["n"] == n]


def draw(evidence: dict[str, dict], out_dir: str | Path) -> list[Path]:
    """Draw the four panels from ``evidence["dimension_collapse"]["data"]``."""
    import matplotlib.pyplot as plt

    data = evidence["dimension_collapse"]["data"]
    s, ctrl = data["settings"], data["control"]
    rows = shared_rows(data)
    by_k = {k: [r for r in rows if r["k"] == k] for k in s["ks"]}
    n_conv = sum(bool(r["converged"]) for r in [*rows, ctrl])

    fig, axes = plt.subplots(2, 2, figsize=(_style.PAGE_WIDTH, 5.0))
    axes = axes.ravel()
    ax = axes[0]
    for (k, rk), color in zip(by_k.items(), K_COLORS, strict=False):
        ax.plot([], [], "-", color=color, label=f"k = {k}")
        _series(ax, rk, "centre_angle_deg", "o", color)
        raw = [dict(r, centre_angle_raw_deg=None) if r["centre_defined"] else r for r in rk]
        _series(ax, raw, "centre_angle_raw_deg", "o", color, ls=":", filled=False)
    ax.plot([], [], "o-", color="0.4", ms=4, label="centre angle")
    ax.plot(
        [],
        [],
        "o:",
        color="0.4",
        mfc="white",
        ms=4,
        label="raw angle of the means\n(centre undefined)",
    )
    paper_line(ax)
    ax.set_ylim(0, 180)
    ax.set_yticks(np.arange(0, 181, 30))
    _finish(ax, "(a) centre angle", "angle (deg)")

    ax = axes[1]
    for (k, rk), color in zip(by_k.items(), K_COLORS, strict=False):
        _series(ax, rk, "pair_angle_max_deg", "^", color, label=f"max, k = {k}")
        _series(ax, rk, "pair_angle_mean_deg", "s", color, ls="--", label=f"mean, k = {k}")
    ax.axhline(ctrl["pair_angle_max_deg"], color="0.4", lw=0.8, ls="-.", label="control: max")
    ax.axhline(ctrl["pair_angle_mean_deg"], color="0.4", lw=0.8, ls=":", label="control: mean")
    paper_line(ax)
    ax.set_ylim(0, 90)
    _finish(ax, "(b) pair angles", "pair angle (deg)")

    ax = axes[2]
    for (k, rk), color in zip(by_k.items(), K_COLORS, strict=False):
        _series(ax, rk, "centroid_distance", "o", color, label=f"trained, k = {k}")
        _series(ax, rk, "init_centroid_distance", "o", color, ls=":", filled=False)
    ax.plot([], [], "o:", color="0.4", mfc="white", ms=4, label="at initialisation")
    ax.axhline(ctrl["centroid_distance"], color="0.4", lw=0.8, ls="-.", label="control (trained)")
    _finish(ax, "(c) centroid distance", "|mean x − mean y|")

    ax = axes[3]
    for (k, rk), color in zip(by_k.items(), K_COLORS, strict=False):
        _series(ax, rk, "shared_disagreement", "D", color, label=f"|P_C x − P_C y|, k = {k}")
        _series(ax, rk, "height_out_of_C", "v", color, ls="--", label=f"|x − P_C x|, k = {k}")
    ax.set_ylim(bottom=0)
    _finish(ax, "(d) shared space C", "mean distance")

    fig.suptitle(
        f"Trained towers confined to k-dim subspaces at angle phi (h = {s['h']}, N = {s['n']}, "
        f"tau = {s['tau']});\ncontrol: the same towers with unconstrained outputs in "
        f"R^{s['h']}; {n_conv} of {len(rows) + 1} trainings reached a loss plateau"
    )
    fig.tight_layout(w_pad=1.0, h_pad=1.5)
    return _style.save(fig, out_dir, NAME)


if __name__ == "__main__":
    _style.script_main(__name__)
