"""``modgap analyze``: every gap measure of a user's paired embeddings, with a verdict in words.

Presentation only: the numbers and the verdict come from :func:`verify.analysis.analyze_embeddings`
(its module docstring gives the definitions, sources, pairing rules and the large-n route).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from modgap.verify._validation import InputError
from modgap.verify.analysis import KS, MAX_QUERIES

from . import _stream

NAME = "analyze"
HELP = (
    "gap measures, dimension collapse, principal angles, SSP shared space and retrieval of "
    "paired embeddings, with the seed paper's prediction and a verdict in words"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments: FILE [FILE2] [--pairs] [--json] [--plots] [--demo] [--variance] [--eps]."""
    parser.add_argument(
        "file",
        nargs="?",
        metavar="FILE",
        help="image embeddings (n, d), or both modalities as one (2, n, d) array; "
        ".npy, .npz, .pt or .csv",
    )
    parser.add_argument(
        "file2", nargs="?", metavar="FILE2", help="text embeddings (m, d), same formats"
    )
    parser.add_argument(
        "--pairs",
        metavar="PAIRS",
        help="integer array, one entry per text row: the image row it is paired with "
        "(e.g. five captions per image); default: row i with row i",
    )
    parser.add_argument("--json", metavar="OUT", help="also write the report as JSON (atomic)")
    parser.add_argument(
        "--plots",
        metavar="DIR",
        help="also draw the Fig. 2 panels (figures.fig2_real_embeddings) into DIR; "
        "needs a single FILE",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="analyse the bundled demo embeddings (verify.datasets.load_demo) instead of FILE",
    )
    parser.add_argument(
        "--max-queries",
        type=int,
        default=MAX_QUERIES,
        metavar="N",
        help=f"retrieval: with more than N queries in a direction, score a seeded sample of N "
        f"of them against all candidates (default {MAX_QUERIES}; 0 = every query, exact)",
    )
    parser.add_argument(
        "--variance",
        type=float,
        default=0.99,
        help="cumulative variance of the principal subspaces (default 0.99, as the paper)",
    )
    parser.add_argument(
        "--eps",
        type=float,
        default=1e-3,
        help="SSP: a direction is shared when its cosine exceeds 1 - eps (default 1e-3)",
    )
    _stream.add_arguments(parser)  # --stream, --scheduler, ...: large inputs (verify.streaming)


# --------------------------------------------------------------------------- output


def _fmt(v: Any, digits: int = 4) -> str:
    if v is None:
        return "undefined"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def format_report(rep: dict[str, Any], pairing: str) -> str:
    """The human-readable report (sections: data, gap, dimension, retrieval, verdict)."""
    from modgap.verify.observables import GapObservables

    pa = rep["principal_angles_deg"]
    head = ", ".join(f"{a:.2f}" for a in pa[:5])
    gap = GapObservables.from_dict(rep["gap"])
    deg = gap.degrees()
    rows = [
        ("centroid distance |mean x - mean y| (Liang et al. 2022)", gap.centroid_distance),
        ("centre angle Delta_theta (seed paper)", gap.centre_text()),
        (
            "pair angle mean / min / max, deg",
            f"{deg['pair_angle_mean_deg']:.2f} / {deg['pair_angle_min_deg']:.2f} / "
            f"{deg['pair_angle_max_deg']:.2f}",
        ),
        ("mean paired cosine", gap.pair_cosine_mean),
        ("mean pair distance L2I (Schrodi et al. 2025)", gap.mean_pair_distance),
        ("alignment, alpha=2 (Wang & Isola 2020)", rep["alignment"]),
        (
            "uniformity images / texts, t=2 (Wang & Isola 2020)",
            f"{rep['uniformity_x']:.4f} / {rep['uniformity_y']:.4f}",
        ),
        ("relative modality gap (Schrodi et al. 2025)", rep["relative_modality_gap"]),
        ("linear separability (Fahim et al. 2024)", rep["linear_separability"]),
    ]
    out = [
        f"data: {rep['n_images']} image rows, {rep['n_texts']} text rows, d = {rep['dim']}; "
        "rows L2-normalised",
        f"pairing: {pairing}",
        "",
        "gap measures",
    ]
    for label, v in rows:
        out.append(f"  {label:<56} {_fmt(v)}")
    pct = f"{100 * rep['variance']:g}%"
    ssp_label = f"shared-space dimension d_overlap (SSP, cos > 1 - {rep['eps']:g})"
    out += [
        "",
        f"dimension ({rep['spectral_route']})",
        f"  {'effective dimension images / texts (' + pct + ', centred)':<56} "
        f"{rep['effective_dimension_x']} / {rep['effective_dimension_y']}",
        f"  {pct + '-variance subspace dims images / texts (uncentred)':<56} "
        f"{rep['principal_subspace_dim_x']} / {rep['principal_subspace_dim_y']}",
        f"  {'principal angles, deg, ascending (first 5 of ' + str(len(pa)) + ')':<56} {head}",
        f"  {'median / largest principal angle, deg':<56} "
        f"{sorted(pa)[len(pa) // 2]:.2f} / {pa[-1]:.2f}",
        f"  {ssp_label:<56} {rep['d_overlap']}",
        f"  {'prediction phi (first angle beyond C) vs Delta_theta':<56} "
        f"{_fmt(rep['predicted_gap_deg'], 2)} vs {_fmt(rep['measured_gap_deg'], 2)}",
        "",
        "retrieval          R@1     R@5     R@10",
    ]
    for dr, name in (("i2t", "image->text"), ("t2i", "text->image")):
        cells = "".join(f"{rep['recall'][dr][str(k)]:<8.3f}" for k in KS)
        out.append(f"  {name:<16}{cells}".rstrip())
    if rep["notes"]:
        out += ["", "notes"] + [f"  - {n}" for n in rep["notes"]]
    out += ["", "verdict"] + [f"  - {t}" for t in rep["verdict"]["text"]]
    return "\n".join(out)


def _pairing_text(n_images: int, n_texts: int, pairs: Any) -> str:
    if pairs is None:
        return "row i of the images <-> row i of the texts"
    return (
        f"text row j <-> image row pairs[j] ({n_texts} texts for {n_images} images, "
        f"{n_texts / n_images:.2f} per image on average). Measures that need paired rows "
        "(pair angles and cosines, mean pair distance, alignment, relative modality gap) use "
        "image[pairs[j]] with text j, so an image counts once per caption; per-modality "
        "measures (centres, spectra, subspaces, SSP, uniformity, separability) use each image "
        "row once; image->text retrieval counts a hit if any of the image's captions ranks in "
        "the top K"
    )


def _normalise_in_place(Z: Any, name: str) -> Any:
    """Rows of the float array Z divided by their norms, in place; a zero row is an error."""
    import numpy as np

    Z = np.asarray(Z)
    if Z.dtype not in (np.float32, np.float64) or not Z.flags.writeable:
        Z = np.array(Z, dtype=np.float64 if Z.dtype != np.float32 else np.float32)
    from modgap.verify._validation import row_norms

    norms = row_norms(Z)  # overflow-safe: finite rows of any magnitude have a direction
    zero = np.flatnonzero(norms < 1e-12)
    if zero.size:
        raise InputError(
            f"{name}: {zero.size} zero row(s) (first at index {int(zero[0])}); a zero vector "
            "has no direction, so it cannot be normalised"
        )
    Z /= norms[:, None]
    return Z


def _check_request(args: argparse.Namespace) -> None:
    """Arguments and output paths checked before any work (errors name the argument)."""
    import math

    from modgap.verify.atomic import JSON_SUFFIXES, check_output_dir, check_output_path

    if args.max_queries < 0:
        raise InputError(f"--max-queries must be >= 0 (0 = every query), got {args.max_queries}")
    if not (math.isfinite(args.variance) and 0.0 < args.variance <= 1.0):
        raise InputError(f"--variance must lie in (0, 1], got {args.variance}")
    if not (math.isfinite(args.eps) and 0.0 < args.eps < 1.0):
        raise InputError(f"--eps must lie in (0, 1), got {args.eps}")
    inputs = (args.file, args.file2, args.pairs)
    if args.json is not None:
        check_output_path(args.json, "--json", inputs=inputs, suffixes=JSON_SUFFIXES)
    if args.plots is not None:
        check_output_dir(args.plots, "--plots")


def _check_loaded(images: Any, texts: Any) -> None:
    """Memory guard (verify.memory) and a warning for degenerate data, before analysis."""
    from modgap.verify.memory import check_memory, embeddings_analysis_bytes

    n_x, d = images.shape
    check_memory(
        embeddings_analysis_bytes(n_x, texts.shape[0], d, images.dtype.itemsize),
        "FILE",
        f"analysing {n_x} + {texts.shape[0]} rows of dimension {d}",
    )
    if d == 1:
        print(
            "modgap analyze: warning: d = 1: every row normalises to +1 or -1, so the "
            "centres, angles and subspaces below are degenerate",
            file=sys.stderr,
        )


def run(args: argparse.Namespace) -> int:
    """Load, analyse, print; optionally write JSON (atomically) and the Fig. 2 panels."""
    streamed = _stream.wanted(args)  # shards, zarr, > 1 GiB, --stream or --scheduler
    _stream.check_options(args, streamed)
    if streamed:
        return _stream.run(args)
    if args.demo and (args.file or args.file2 or args.pairs):
        raise InputError("give FILE [FILE2] [--pairs] or --demo, not both")
    if not args.demo and not args.file:
        raise InputError("FILE is required (or --demo for the bundled demo embeddings)")
    if args.plots and (args.demo or args.file2 or args.pairs):
        raise InputError(
            "--plots currently needs a single FILE holding both modalities "
            "(figures.fig2_real_embeddings reads one file)"
        )
    _check_request(args)

    if args.demo:
        try:
            from modgap.verify.datasets import load_demo
        except ImportError as exc:
            raise InputError(f"--demo: the bundled demo dataset is not available ({exc})") from exc
        images, texts, meta = load_demo()
        pairs = None
        source = f"bundled demo ({meta.get('dataset', 'verify.datasets.load_demo')})"
    else:
        from modgap.verify.embeddings_io import load_paired_embeddings

        pe = load_paired_embeddings(args.file, args.file2, pairs=args.pairs)
        images, texts, pairs = pe.images, pe.texts, pe.pairs
        source = f"images {pe.sources['images']}, texts {pe.sources['texts']}"
        for note in pe.notes:
            print(f"modgap analyze: note: {note}", file=sys.stderr)
    _check_loaded(images, texts)

    # the loaded arrays are ours: normalise them in place (no second n x d copy)
    images = _normalise_in_place(images, "images")
    texts = _normalise_in_place(texts, "texts")
    from modgap.verify.analysis import analyze_embeddings

    rep = analyze_embeddings(
        images,
        texts,
        pairs,
        variance=args.variance,
        eps=args.eps,
        max_queries=args.max_queries,
        normalize=False,
    )
    rep["source"] = source
    rep["pairing"] = "one-to-one" if pairs is None else "pairs index (text j -> image pairs[j])"
    print(f"modgap analyze: {source}")
    print(format_report(rep, _pairing_text(rep["n_images"], rep["n_texts"], pairs)))
    if args.json:
        from modgap.verify.atomic import write_json

        write_json(args.json, rep)
        print(f"\nwrote {args.json}")
    if args.plots:
        from modgap.figures import _style, fig2_real_embeddings

        # quick=False: PNG and PDF (fig2's evidence has no quick settings)
        paths = _style.render(fig2_real_embeddings, args.plots, quick=False, embeddings=args.file)
        print("wrote " + ", ".join(str(p) for p in paths))
    sys.stdout.flush()
    return 0
