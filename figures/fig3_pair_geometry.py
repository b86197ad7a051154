"""Figure 3 (left): a non-centre pair under the subspace constraint, hyperplane rotation
and shared-space projection, drawn on S^2.

Yi, Douady & Chen (arXiv 2510.03268), Corollaries 2-4: with A, B two planes of R^3 at angle
phi, C = A ∩ B a line, a pair x = p + s a, y = p + s b (p in C, a in A and b in B orthogonal
to C) is not aligned when s != 0; the direct rotation R (verify.geometry.rotation_onto)
maps x onto y; SSP maps both onto p / |p|. Every point drawn comes from verify.geometry.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from modgap.figures import _style
from modgap.verify.geometry import (
    hyperplanes_with_angle,
    principal_vectors,
    project_onto_subspace,
    rotation_onto,
    shared_space,
)

NAME = "fig3_pair_geometry"


def _great_circle(Q: np.ndarray, n: int = 200) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, n)
    return np.outer(np.cos(t), Q[:, 0]) + np.outer(np.sin(t), Q[:, 1])


def make(out_dir: str | Path, quick: bool = True, phi_deg: float = 50.0, s: float = 0.6):
    """Draw the pair geometry for angle ``phi_deg`` and off-centre weight ``s``."""
    import matplotlib.pyplot as plt

    QA, QB = hyperplanes_with_angle(3, np.deg2rad(phi_deg))
    C = shared_space(QA, QB)
    _, UA, VB = principal_vectors(QA, QB)
    p_dir, a, b = C[:, 0], UA[:, -1], VB[:, -1]
    p = np.sqrt(1 - s**2) * p_dir
    x, y = p + s * a, p + s * b
    R = rotation_onto(QA, QB)
    rx = R @ x
    ssp = project_onto_subspace(np.vstack([x, y]), C)
    ssp /= np.linalg.norm(ssp, axis=1, keepdims=True)

    fig = plt.figure(figsize=(_style.COLUMN_WIDTH * 1.4, _style.COLUMN_WIDTH))
    ax = fig.add_subplot(projection="3d")
    u, v = np.mgrid[0 : 2 * np.pi : 40j, 0 : np.pi : 20j]
    ax.plot_wireframe(np.cos(u) * np.sin(v), np.sin(u) * np.sin(v), np.cos(v), color="0.85", lw=0.3)
    for Q, color, label in (
        (QA, _style.IMAGE_COLOR, "hyperplane A (image)"),
        (QB, _style.TEXT_COLOR, "hyperplane B (text)"),
    ):
        ax.plot(*_great_circle(Q).T, color=color, lw=1.2, label=label)
    ax.plot(*np.vstack([-p_dir, p_dir]).T, color=_style.SHARED_COLOR, lw=1.5, label="shared C")
    pts = [
        (x, _style.IMAGE_COLOR, "o", "x (image)"),
        (y, _style.TEXT_COLOR, "o", "y (text)"),
        (rx, "k", "x", "R x (rotation)"),
        (ssp[0], _style.SHARED_COLOR, "*", "SSP(x) = SSP(y)"),
    ]
    for point, color, marker, label in pts:
        ax.scatter(*point, color=color, marker=marker, s=30, depthshade=False, label=label)
    cos_xy = float(x @ y)
    ax.set_title(
        f"phi = {phi_deg:.0f} deg, s = {s}: x.y = {cos_xy:.3f}, (Rx).y = {float(rx @ y):.3f}"
    )
    ax.view_init(elev=18, azim=35)
    ax.set_box_aspect((1, 1, 1))
    ax.set_axis_off()
    fig.legend(loc="center right", fontsize=6, frameon=False)
    fig.subplots_adjust(left=-0.1, right=0.72, top=1.0, bottom=0.0)
    return _style.save(fig, out_dir, NAME)


if __name__ == "__main__":
    _style.script_main(make, __doc__)
