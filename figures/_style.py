"""Shared figure style and saving (presentation only).

Sizes follow a two-column paper: one column is 3.4 in wide; fonts are 8 pt so that figures
stay readable at column width. Figures are saved as PNG (300 dpi) and PDF (quick runs: one
PNG at 150 dpi), each written to a temporary name and renamed (modgap.verify.atomic), so no
half-written figure is ever left.

Every figure module defines ``NAME``, ``EVIDENCE`` (the evidence sources it draws, see
:mod:`modgap.theorems.evidence`) and ``draw(evidence, out_dir) -> list[Path]``, which only
plots the numbers of the evidence documents. :func:`render` gathers the documents (from
files such as the paper_repro cache, or by computing them) and draws; :func:`script_main`
is the command line every figure script shares. The drawing helpers below are shared by
several figures (presentation only: no maths beyond plotting arithmetic).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

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


#: What :func:`save` writes: (extension, savefig options) per file. FULL_OUTPUT for a full
#: run (PNG at 300 dpi and PDF); QUICK_OUTPUT for quick runs (one PNG at 150 dpi: a quick
#: run checks that every figure draws, and the PDF and the 300-dpi raster are a third of
#: the drawing time; bench/results-speed-b.txt).
FULL_OUTPUT: tuple[tuple[str, dict[str, Any]], ...] = (("png", {"dpi": 300}), ("pdf", {}))
QUICK_OUTPUT: tuple[tuple[str, dict[str, Any]], ...] = (("png", {"dpi": 150}),)
_OUTPUT: list[tuple[tuple[str, dict[str, Any]], ...]] = [FULL_OUTPUT]


@contextlib.contextmanager
def output_formats(formats: tuple[tuple[str, dict[str, Any]], ...]) -> Iterator[None]:
    """Within the block, :func:`save` writes ``formats`` (e.g. QUICK_OUTPUT) instead of
    FULL_OUTPUT."""
    _OUTPUT.append(formats)
    try:
        yield
    finally:
        _OUTPUT.pop()


def save(fig: Any, out_dir: str | Path, name: str) -> list[Path]:
    """Save ``fig`` as ``name.png`` and ``name.pdf`` in ``out_dir`` atomically (the formats
    of :func:`output_formats` when inside one: a PNG only in quick runs); close it."""
    out_dir = Path(out_dir)
    paths = []
    for ext, kwargs in _OUTPUT[-1]:
        target = out_dir / f"{name}.{ext}"
        with atomic_path(target) as tmp:
            fig.savefig(tmp, format=ext, **kwargs)
        paths.append(target)
    plt.close(fig)
    return paths


# ----------------------------------------------------------------------------- evidence


def evidence_params(
    source: str, quick: bool, embeddings: str | Path | None = None
) -> dict[str, Any]:
    """The settings a figure asks of evidence source ``source``: ``path`` (a string, as
    recorded in the document) for the real embeddings, nothing for the fixed pair
    geometry, ``quick`` for everything else."""
    if source == "real_embeddings":
        return {"path": None if embeddings is None else str(embeddings)}
    if source == "pair_geometry":
        return {}
    return {"quick": bool(quick)}


def load_evidence(files: Iterable[str | Path]) -> dict[str, dict]:
    """Evidence documents by source name, read from JSON ``files``.

    Each file holds one evidence document ({"schema": "modgap.evidence/1", "name", ...}),
    a list of them, or an object mapping names to them. A file that is missing, does not
    parse or holds no evidence document is an error naming the file; so is a source given
    twice.
    """
    from modgap.theorems.evidence import SCHEMA

    found: dict[str, dict] = {}
    for file in files:
        path = Path(file)
        try:
            doc = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(
                f"--evidence {path}: cannot read an evidence document ({exc})"
            ) from exc
        docs = doc if isinstance(doc, list) else [doc]
        if isinstance(doc, dict) and doc.get("schema") != SCHEMA:
            docs = list(doc.values())
        if not docs or not all(isinstance(d, dict) and d.get("schema") == SCHEMA for d in docs):
            raise ValueError(
                f"--evidence {path}: not a modgap evidence document (schema {SCHEMA!r}), nor "
                "a list or mapping of them"
            )
        for d in docs:
            if d["name"] in found:
                raise ValueError(f"--evidence {path}: source {d['name']!r} given twice")
            found[d["name"]] = d
    return found


def gather_evidence(
    sources: Sequence[str],
    *,
    quick: bool = True,
    embeddings: str | Path | None = None,
    given: dict[str, dict] | None = None,
) -> dict[str, dict]:
    """The evidence documents of ``sources``: taken from ``given`` where present, else
    computed by :func:`modgap.theorems.evidence.compute` with :func:`evidence_params`."""
    from modgap.theorems.evidence import compute

    given = given or {}
    return {
        s: given[s] if s in given else compute(s, **evidence_params(s, quick, embeddings))
        for s in sources
    }


def render(
    module: ModuleType,
    out_dir: str | Path,
    *,
    quick: bool = True,
    embeddings: str | Path | None = None,
    given: dict[str, dict] | None = None,
) -> list[Path]:
    """Draw figure ``module`` into ``out_dir`` from its evidence (:func:`gather_evidence`);
    quick: the quick evidence settings and one PNG at 150 dpi (QUICK_OUTPUT), else PNG at
    300 dpi and PDF."""
    evidence = gather_evidence(module.EVIDENCE, quick=quick, embeddings=embeddings, given=given)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    with output_formats(QUICK_OUTPUT if quick else FULL_OUTPUT):
        return module.draw(evidence, out_dir)


def script_main(module_name: str, argv: Sequence[str] | None = None) -> None:
    """Command line shared by every figure script (``python -m modgap.figures.<name>``):
    --out DIR (default ./repro_out/figures), --quick, --evidence FILE [FILE ...] (evidence
    JSON documents, e.g. the paper_repro cache; sources not given are computed) and, for
    the real-data figures, --embeddings FILE."""
    module = sys.modules.get(module_name) or importlib.import_module(module_name)
    doc = (module.__doc__ or "").strip().splitlines()
    parser = argparse.ArgumentParser(description=doc[0] if doc else module.NAME)
    parser.add_argument("--out", default="repro_out/figures", help="output folder")
    parser.add_argument("--quick", action="store_true", help="smaller, faster settings")
    parser.add_argument(
        "--evidence", nargs="+", default=[], metavar="FILE", help="evidence JSON documents"
    )
    if "real_embeddings" in module.EVIDENCE:
        parser.add_argument("--embeddings", default=None, help="paired embeddings file")
    args = parser.parse_args(argv)
    try:
        given = load_evidence(args.evidence)
        paths = render(
            module,
            args.out,
            quick=args.quick,
            embeddings=getattr(args, "embeddings", None),
            given=given,
        )
    except (OSError, ValueError, TypeError) as exc:  # bad files or input: named, no traceback
        parser.error(str(exc))
    for path in paths:
        print(path)


# ----------------------------------------------------------------------------- shared panels


def deg(value: float | None) -> float | None:
    """Radians (as stored in evidence) to degrees for drawing; None stays None."""
    return None if value is None else float(np.degrees(value))


def centre_text(obs: dict[str, Any], digits: int = 1) -> str:
    """'centre angle 12.3°' or 'centre angle undefined' from a GapObservables dict."""
    angle = obs["centre_angle"]
    return "centre angle undefined" if angle is None else f"centre angle {deg(angle):.{digits}f}°"


def status_text(converged: bool) -> str:
    """'converged' or 'NOT converged'."""
    return "converged" if converged else "NOT converged"


def sphere_axes(ax: Any) -> None:
    """A light wireframe unit sphere, equal aspect, no axes (every sphere view)."""
    u, v = np.mgrid[0 : 2 * np.pi : 40j, 0 : np.pi : 20j]
    ax.plot_wireframe(np.cos(u) * np.sin(v), np.sin(u) * np.sin(v), np.cos(v), color="0.88", lw=0.3)
    ax.view_init(elev=20, azim=35)
    ax.set_box_aspect((1, 1, 1), zoom=1.35)
    ax.computed_zorder = False  # draw in call order: text points on top of image points
    ax.set_axis_off()


def draw_pairs(ax: Any, X: Any, Y: Any) -> None:
    """Image points (blue), text points (red) and a grey segment per pair, on a 3-D axis."""
    X, Y = np.asarray(X), np.asarray(Y)
    for x, y in zip(X, Y, strict=True):
        ax.plot(*np.vstack([x, y]).T, color="0.55", lw=0.4)
    kw = dict(depthshade=False)
    ax.scatter(*X.T, s=14, color=IMAGE_COLOR, zorder=3, label="image x_i", **kw)
    ax.scatter(*Y.T, s=3, color=TEXT_COLOR, zorder=4, label="text y_i", **kw)


def curve(ax: Any, points: Any, **kwargs: Any) -> None:
    """A 3-D polyline through ``points`` (rows)."""
    ax.plot(*np.asarray(points).T, **kwargs)


def density_panel(ax: Any, densities: dict[str, dict], title: str) -> None:
    """Step densities of the paired, image-image and text-text cosines (Figs. 2 and 3)."""
    for key, color, label in (
        ("paired", "k", "paired x_i.y_i"),
        ("image_image", IMAGE_COLOR, "image-image"),
        ("text_text", TEXT_COLOR, "text-text"),
    ):
        h = densities[key]
        ax.stairs(h["density"], h["edges"], color=color, label=label)
    ax.set_xlabel("cosine similarity")
    ax.set_ylabel("density")
    ax.set_title(title)
    ax.legend(frameon=False)


PHI_LABEL = "phi between the hyperplanes (deg)"


def phi_axis(ax: Any, label: str = PHI_LABEL) -> None:
    """x axis for phi in degrees: [0, 90], ticks every 15 degrees."""
    ax.set_xlim(0, 90)
    ax.set_xticks(np.arange(0, 91, 15))
    ax.set_xlabel(label)


def paper_line(ax: Any, label: str = "paper: gap = phi") -> None:
    """The paper's prediction y = phi (degrees), a thin black line over phi in [0, 90]."""
    ax.plot([0.0, 90.0], [0.0, 90.0], color="k", lw=0.8, label=label)
    phi_axis(ax)


def legend_below(ax: Any, ncol: int = 1) -> None:
    """A compact legend under the axes (keeps the data area free at column width)."""
    ax.legend(
        frameon=False,
        fontsize=6,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.26),
        ncol=ncol,
        handlelength=1.5,
    )
