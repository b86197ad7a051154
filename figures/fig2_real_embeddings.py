"""Figure 2: the modality gap and dimension collapse in real paired embeddings.

As in Yi, Douady & Chen (arXiv 2510.03268), Fig. 2 (CLIP on MSCOCO): (a) densities of
paired, image-image and text-text cosine similarities; (b) a joint 2-D PCA map of both
modalities; (c) the singular-value spectrum of each modality's covariance, with its (near)
zero tail; (d) the principal angles between the two modalities' 99%-variance subspaces.
Numbers come from verify.similarity and verify.metrics.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from modgap.figures import _style
from modgap.figures._data import real_embeddings
from modgap.verify.metrics import centre_angle, modality_principal_angles, singular_value_spectrum
from modgap.verify.similarity import cosine_distributions, joint_pca_map

NAME = "fig2_real_embeddings"


def density_panel(ax, X, Y, title: str) -> None:
    """Histogram densities of the three cosine distributions (shared by the SSP figure)."""
    dist = cosine_distributions(X, Y)
    bins = np.linspace(-1, 1, 81)
    for key, color, label in (
        ("paired", "k", "paired x_i.y_i"),
        ("image_image", _style.IMAGE_COLOR, "image-image"),
        ("text_text", _style.TEXT_COLOR, "text-text"),
    ):
        ax.hist(dist[key], bins=bins, density=True, histtype="step", color=color, label=label)
    ax.set_xlabel("cosine similarity")
    ax.set_ylabel("density")
    ax.set_title(title)
    ax.legend(frameon=False)


def make(out_dir: str | Path, quick: bool = True, embeddings: str | None = None):
    """Draw the four panels for ``embeddings`` (default: see figures._data)."""
    import matplotlib.pyplot as plt

    X, Y, label = real_embeddings(embeddings)
    fig, axes = plt.subplots(2, 2, figsize=(_style.PAGE_WIDTH, 5.0))
    dtheta = centre_angle(X, Y)
    gap = "undefined" if dtheta is None else f"{np.rad2deg(dtheta):.1f} deg"
    density_panel(axes[0, 0], X, Y, f"(a) cosine similarities; centre angle {gap}")

    px, py, explained = joint_pca_map(X, Y)
    ax = axes[0, 1]
    ax.scatter(*px.T, s=3, alpha=0.5, color=_style.IMAGE_COLOR, label="image")
    ax.scatter(*py.T, s=3, alpha=0.5, color=_style.TEXT_COLOR, label="text")
    ax.set_xlabel(f"PC 1 ({100 * explained[0]:.0f}% of variance)")
    ax.set_ylabel(f"PC 2 ({100 * explained[1]:.0f}% of variance)")
    ax.set_title("(b) joint PCA of both modalities")
    ax.legend(frameon=False, markerscale=3)

    ax = axes[1, 0]
    for Z, color, name in ((X, _style.IMAGE_COLOR, "image"), (Y, _style.TEXT_COLOR, "text")):
        s = singular_value_spectrum(Z)
        keep = s > 1e-14 * s[0]  # exact zeros (rank limit) are not drawn on a log axis
        ax.semilogy(np.arange(1, s.size + 1)[keep], s[keep], color=color, label=name)
    if X.shape[0] - 1 < X.shape[1]:
        ax.axvline(X.shape[0] - 1, color="0.5", ls="--", lw=0.8, label="rank limit n - 1")
    ax.set_xlabel("index i")
    ax.set_ylabel("singular value of covariance")
    ax.set_title(f"(c) spectrum (n = {X.shape[0]}, d = {X.shape[1]})")
    ax.legend(frameon=False)

    ax = axes[1, 1]
    theta = np.rad2deg(modality_principal_angles(X, Y, threshold=0.99))
    ax.plot(np.arange(1, theta.size + 1), theta, ".", ms=2, color="k")
    ax.set_xlabel("index i (ascending)")
    ax.set_ylabel("principal angle (deg)")
    ax.set_ylim(0, 90)
    ax.set_title(f"(d) principal angles, 99% subspaces; smallest {theta[0]:.1f} deg")
    fig.suptitle(label)
    fig.tight_layout()
    return _style.save(fig, out_dir, NAME)


if __name__ == "__main__":
    _style.script_main(make, __doc__)
