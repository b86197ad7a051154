"""Shared figure style and saving (presentation only).

Sizes follow a two-column paper: one column is 3.4 in wide; fonts are 8 pt so that figures
stay readable at column width. Figures are saved as PNG (300 dpi) and PDF, each written to
a temporary name and renamed (modgap.verify.atomic), so no half-written figure is ever left.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from modgap.verify.atomic import atomic_path  # noqa: E402

COLUMN_WIDTH = 3.4
PAGE_WIDTH = 7.0
IMAGE_COLOR = "#1f77b4"
TEXT_COLOR = "#d62728"
SHARED_COLOR = "#2ca02c"

plt.rcParams.update(
    {
        "font.size": 8,
        "axes.titlesize": 8,
        "axes.labelsize": 8,
        "legend.fontsize": 7,
        "xtick.labelsize": 7,
        "ytick.labelsize": 7,
        "figure.dpi": 100,
        "savefig.bbox": "tight",
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
)


def save(fig, out_dir: str | Path, name: str) -> list[Path]:
    """Save ``fig`` as ``name.png`` and ``name.pdf`` in ``out_dir`` atomically; close it."""
    out_dir = Path(out_dir)
    paths = []
    for ext, kwargs in (("png", {"dpi": 300}), ("pdf", {})):
        target = out_dir / f"{name}.{ext}"
        with atomic_path(target) as tmp:
            fig.savefig(tmp, format=ext, **kwargs)
        paths.append(target)
    plt.close(fig)
    return paths


def script_main(make: Callable[..., list[Path]], doc: str | None) -> None:
    """Command line shared by every figure script: --out DIR (default ./repro_out/figures)
    and --quick."""
    parser = argparse.ArgumentParser(description=(doc or "").strip().splitlines()[0])
    parser.add_argument("--out", default="repro_out/figures", help="output folder")
    parser.add_argument("--quick", action="store_true", help="smaller, faster settings")
    args = parser.parse_args()
    for path in make(args.out, quick=args.quick):
        print(path)
