"""Figure 3 (right): cosine-similarity densities before and after shared-space projection.

As in Yi, Douady & Chen (arXiv 2510.03268), Fig. 3: densities of paired, image-image and
text-text cosines for the original embeddings and after SSP (appendix algorithm: 99%
variance bases, shared directions with cosine > 1 - 1e-3; verify.alignment). The title
reports the shared-space dimension found and the centre angle before/after.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from modgap.figures import _style
from modgap.figures._data import real_embeddings
from modgap.figures.fig2_real_embeddings import density_panel
from modgap.verify.alignment import SharedSpaceProjection
from modgap.verify.metrics import centre_angle

NAME = "fig3_ssp_before_after"


def _angle(X, Y) -> str:
    theta = centre_angle(X, Y)
    return "undefined" if theta is None else f"{np.rad2deg(theta):.1f} deg"


def make(out_dir: str | Path, quick: bool = True, embeddings: str | None = None):
    """Draw before/after SSP densities for ``embeddings`` (default: see figures._data)."""
    import matplotlib.pyplot as plt

    X, Y, label = real_embeddings(embeddings)
    ssp = SharedSpaceProjection().fit(X, Y)
    fig, axes = plt.subplots(1, 2, figsize=(_style.PAGE_WIDTH, 2.4), sharex=True)
    density_panel(axes[0], X, Y, f"original: centre angle {_angle(X, Y)}")
    if ssp.d_overlap_ == 0:
        axes[1].text(
            0.5,
            0.5,
            "SSP: no shared direction (d_overlap = 0)",
            ha="center",
            transform=axes[1].transAxes,
        )
    else:
        Xs, Ys = ssp.transform(X, Y)
        density_panel(
            axes[1],
            Xs,
            Ys,
            f"after SSP (d_overlap = {ssp.d_overlap_}): centre angle {_angle(Xs, Ys)}",
        )
    fig.suptitle(label)
    fig.tight_layout()
    return _style.save(fig, out_dir, NAME)


if __name__ == "__main__":
    _style.script_main(make, __doc__)
