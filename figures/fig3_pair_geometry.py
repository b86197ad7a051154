"""Figure 3 (left): a non-centre pair under the subspace constraint, hyperplane rotation
and shared-space projection, drawn on S^2.

Yi, Douady & Chen (arXiv 2510.03268), Corollaries 2-4: with A, B two planes of R^3 at angle
phi, C = A ∩ B a line, a pair x = p + s a, y = p + s b (p in C, a in A and b in B orthogonal
to C) is not aligned when s != 0; the direct rotation R maps x onto y; SSP maps both onto
p / |p|. Every point drawn comes from the evidence source ``pair_geometry``
(modgap.theorems.illustrations.pair_geometry, built with verify.geometry and
verify.frames). This module only draws.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from modgap.figures import _style

NAME = "fig3_pair_geometry"
EVIDENCE: tuple[str, ...] = ("pair_geometry",)


def draw(evidence: dict[str, dict], out_dir: str | Path) -> list[Path]:
    """Draw the pair geometry from ``evidence["pair_geometry"]``."""
    import matplotlib.pyplot as plt

    d = evidence["pair_geometry"]["data"]
    fig = plt.figure(figsize=(_style.COLUMN_WIDTH * 1.4, _style.COLUMN_WIDTH))
    ax = fig.add_subplot(projection="3d")
    u, v = np.mgrid[0 : 2 * np.pi : 40j, 0 : np.pi : 20j]
    ax.plot_wireframe(np.cos(u) * np.sin(v), np.sin(u) * np.sin(v), np.cos(v), color="0.85", lw=0.3)
    for points, color, label in zip(
        d["great_circles"],
        (_style.IMAGE_COLOR, _style.TEXT_COLOR),
        ("hyperplane A (image)", "hyperplane B (text)"),
        strict=True,
    ):
        _style.curve(ax, points, color=color, lw=1.2, label=label)
    c = np.asarray(d["shared_axis"])
    _style.curve(ax, [-c, c], color=_style.SHARED_COLOR, lw=1.5, label="shared C")
    pts = [
        (d["x"], _style.IMAGE_COLOR, "o", "x (image)"),
        (d["y"], _style.TEXT_COLOR, "o", "y (text)"),
        (d["Rx"], "k", "x", "R x (rotation)"),
        (d["ssp_x"], _style.SHARED_COLOR, "*", "SSP(x) = SSP(y)"),
    ]
    for point, color, marker, label in pts:
        ax.scatter(*point, color=color, marker=marker, s=30, depthshade=False, label=label)
    ax.set_title(
        f"phi = {_style.deg(d['phi']):.0f} deg, s = {d['s']}: x.y = {d['cos_xy']:.3f}, "
        f"(Rx).y = {d['cos_Rx_y']:.3f}"
    )
    ax.view_init(elev=18, azim=35)
    ax.set_box_aspect((1, 1, 1))
    ax.set_axis_off()
    fig.legend(loc="center right", fontsize=6, frameon=False)
    fig.subplots_adjust(left=-0.1, right=0.72, top=1.0, bottom=0.0)
    return _style.save(fig, out_dir, NAME)


if __name__ == "__main__":
    _style.script_main(__name__)
