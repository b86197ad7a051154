"""Figure 3 (right): cosine-similarity densities before and after shared-space projection.

As in Yi, Douady & Chen (arXiv 2510.03268), Fig. 3: densities of paired, image-image and
text-text cosines for the original embeddings and after SSP (appendix algorithm: 99%
variance bases, shared directions with cosine > 1 - 1e-3; verify.alignment). The titles
report the shared-space dimension found and the centre angle before/after. Drawn from the
evidence source ``real_embeddings`` (modgap.theorems.illustrations.real_embeddings). This
module only draws.
"""

from __future__ import annotations

from pathlib import Path

from modgap.figures import _style

NAME = "fig3_ssp_before_after"
EVIDENCE: tuple[str, ...] = ("real_embeddings",)


def _angle(obs: dict) -> str:
    angle = obs["centre_angle"]
    return "undefined" if angle is None else f"{_style.deg(angle):.1f} deg"


def draw(evidence: dict[str, dict], out_dir: str | Path) -> list[Path]:
    """Draw before/after SSP densities from ``evidence["real_embeddings"]``."""
    import matplotlib.pyplot as plt

    d = evidence["real_embeddings"]["data"]
    ssp = d["ssp"]
    fig, axes = plt.subplots(1, 2, figsize=(_style.PAGE_WIDTH, 2.4), sharex=True)
    _style.density_panel(
        axes[0], d["densities"], f"original: centre angle {_angle(d['observables'])}"
    )
    if ssp["d_overlap"] == 0:
        axes[1].text(
            0.5,
            0.5,
            "SSP: no shared direction (d_overlap = 0)",
            ha="center",
            transform=axes[1].transAxes,
        )
    else:
        _style.density_panel(
            axes[1],
            ssp["densities"],
            f"after SSP (d_overlap = {ssp['d_overlap']}): centre angle "
            f"{_angle(ssp['observables'])}",
        )
    fig.suptitle(d["label"])
    fig.tight_layout()
    return _style.save(fig, out_dir, NAME)


if __name__ == "__main__":
    _style.script_main(__name__)
