"""Figure 2: the modality gap and dimension collapse in real paired embeddings.

As in Yi, Douady & Chen (arXiv 2510.03268), Fig. 2 (CLIP on MSCOCO): (a) densities of
paired, image-image and text-text cosine similarities; (b) a joint 2-D PCA map of both
modalities; (c) the singular-value spectrum of each modality's covariance, with its (near)
zero tail; (d) the principal angles between the two modalities' 99%-variance subspaces.
Drawn from the evidence source ``real_embeddings``
(modgap.theorems.illustrations.real_embeddings: the Liang et al. 2022 CLIP features when
present, else the bundled demo, or --embeddings FILE). This module only draws.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from modgap.figures import _style

NAME = "fig2_real_embeddings"
EVIDENCE: tuple[str, ...] = ("real_embeddings",)

#: Spectrum values below this fraction of the largest are exact zeros (rank limit) and are
#: not drawn on the log axis.
ZERO_FRACTION = 1e-14


def draw(evidence: dict[str, dict], out_dir: str | Path) -> list[Path]:
    """Draw the four panels from ``evidence["real_embeddings"]``."""
    import matplotlib.pyplot as plt

    d = evidence["real_embeddings"]["data"]
    n, dim = d["n"], d["d"]
    fig, axes = plt.subplots(2, 2, figsize=(_style.PAGE_WIDTH, 5.0))
    angle = d["observables"]["centre_angle"]
    gap = "undefined" if angle is None else f"{_style.deg(angle):.1f} deg"
    _style.density_panel(axes[0, 0], d["densities"], f"(a) cosine similarities; centre angle {gap}")

    ax, pca = axes[0, 1], d["pca"]
    ax.scatter(*np.asarray(pca["image"]).T, s=3, alpha=0.5, color=_style.IMAGE_COLOR, label="image")
    ax.scatter(*np.asarray(pca["text"]).T, s=3, alpha=0.5, color=_style.TEXT_COLOR, label="text")
    ax.set_xlabel(f"PC 1 ({100 * pca['explained'][0]:.0f}% of variance)")
    ax.set_ylabel(f"PC 2 ({100 * pca['explained'][1]:.0f}% of variance)")
    shown = "" if pca["rows_drawn"] == n else f" ({pca['rows_drawn']} of {n} rows drawn)"
    ax.set_title(f"(b) joint PCA of both modalities{shown}")
    ax.legend(frameon=False, markerscale=3)

    ax = axes[1, 0]
    for key, color in (("image", _style.IMAGE_COLOR), ("text", _style.TEXT_COLOR)):
        s = np.asarray(d["spectra"][key])
        keep = s > ZERO_FRACTION * s[0]
        ax.semilogy(np.arange(1, s.size + 1)[keep], s[keep], color=color, label=key)
    if n - 1 < dim:
        ax.axvline(n - 1, color="0.5", ls="--", lw=0.8, label="rank limit n - 1")
    ax.set_xlabel("index i")
    ax.set_ylabel("singular value of covariance")
    ax.set_title(f"(c) spectrum (n = {n}, d = {dim})")
    ax.legend(frameon=False)

    ax = axes[1, 1]
    theta = np.degrees(d["principal_angles"])
    ax.plot(np.arange(1, theta.size + 1), theta, ".", ms=2, color="k")
    ax.set_xlabel("index i (ascending)")
    ax.set_ylabel("principal angle (deg)")
    ax.set_ylim(0, 90)
    pct = 100 * d["principal_angles_threshold"]
    ax.set_title(f"(d) principal angles, {pct:.0f}% subspaces; smallest {theta[0]:.1f} deg")
    fig.suptitle(d["label"])
    fig.tight_layout()
    return _style.save(fig, out_dir, NAME)


if __name__ == "__main__":
    _style.script_main(__name__)
