"""Figure 8: phase diagram of Theorem 3 in this project's population reading, tau*(phi).

Yi, Douady & Chen (arXiv 2510.03268), Theorem 3 claims that under the subspace constraint the
optimum has both centres orthogonal to C = A cap B and Delta_theta = phi. In this project's
population reading (verify.population, verify.phase) the claim fails below a critical
temperature tau*(h, kappa, phi), where both centres at the same point of C do better.
One panel per kappa: tau* against phi, one line per h (log scale; the error bars from the
quadrature are drawn but are far below the marker size, see docs/phase.md). Points where
no tau* exists in the scanned range (the claim beats the in-C competitor at every tau) are
marked on the lower edge; hollow markers: the claimed point is already a saddle just above
tau* (tau* is then a lower bound). Dashed line: CLIP's learned tau ~ 0.01.

Presentation only: draws the evidence source ``theorem3_phase``
(modgap.theorems.illustrations.theorem3_phase: the sweep's result document of
verify.sweep.write_result; the full grid's result is also committed as
docs/data/theorem3_phase.json, written by ``modgap sweep critical --grid phase``), computes
nothing.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from modgap.figures import _style

NAME = "fig8_theorem3_phase"
EVIDENCE = ("theorem3_phase",)


def draw(evidence: dict[str, dict], out_dir: str | Path) -> list[Path]:
    """Draw the phase diagram from the ``theorem3_phase`` evidence document into out_dir."""
    import matplotlib.pyplot as plt

    doc = evidence["theorem3_phase"]["data"]
    pts = doc["points"]
    hs = sorted({p["h"] for p in pts})
    kappas = sorted({p["kappa"] for p in pts})
    ncol = min(3, len(kappas))
    nrow = math.ceil(len(kappas) / ncol)
    fig, axes = plt.subplots(
        nrow,
        ncol,
        figsize=(_style.PAGE_WIDTH, 1.9 * nrow + 0.4),
        sharex=True,
        sharey=True,
        squeeze=False,
    )
    cmap = plt.get_cmap("viridis")
    colors = {h: cmap(i / max(1, len(hs) - 1)) for i, h in enumerate(hs)}
    tau_min = doc["settings"]["tau_min"]
    for ax, kappa in zip(axes.flat, kappas, strict=False):
        for i, h in enumerate(hs):
            rows = sorted(
                (p for p in pts if p["h"] == h and p["kappa"] == kappa), key=lambda p: p["phi"]
            )
            cross = [p for p in rows if p["status"] == "crossing"]
            if cross:
                phi = np.degrees([p["phi"] for p in cross])
                ts = np.array([p["tau_star"] for p in cross])
                err = np.array([p["tau_star_error"] or 0.0 for p in cross])
                ax.errorbar(phi, ts, yerr=err, color=colors[h], lw=0.8, ms=0, label=f"h={h}")
                saddle = np.array([(p["hessian_min_eig"] or 0.0) < 0 for p in cross])
                ax.plot(phi[~saddle], ts[~saddle], "o", ms=2.5, color=colors[h])
                ax.plot(phi[saddle], ts[saddle], "o", ms=3, mfc="white", color=colors[h])
            holds = [p for p in rows if p["status"] == "holds"]
            if holds:
                ax.plot(
                    np.degrees([p["phi"] for p in holds]),
                    [0.85 * tau_min * 0.93**i] * len(holds),
                    "v",
                    ms=2.5,
                    color=colors[h],
                    alpha=0.6,
                )
        ax.axhline(0.01, ls="--", lw=0.6, color="0.4")
        ax.set_yscale("log")
        ax.set_title(f"kappa = {kappa:g}")
        ax.set_xlim(0, 90)
    for ax in axes.flat[len(kappas) :]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("tau* (claim fails below)")
    for ax in axes[-1, :]:
        ax.set_xlabel("phi (deg)")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    if handles:
        fig.legend(
            handles,
            labels,
            loc="upper center",
            ncol=min(7, len(handles)),
            frameon=False,
            fontsize=6,
            bbox_to_anchor=(0.5, 1.02),
        )
    n_cross = sum(p["status"] == "crossing" for p in pts)
    fig.suptitle(
        f"Theorem 3, population reading: tau* at {n_cross} of {len(pts)} (h, kappa, phi) points "
        f"(v: no tau* in [{tau_min:g}, {doc['settings']['tau_max']:g}])",
        y=1.06,
        fontsize=8,
    )
    return _style.save(fig, out_dir, NAME)


if __name__ == "__main__":
    _style.script_main(__name__)
