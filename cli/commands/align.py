"""``modgap align METHOD IN OUT``: apply a post-hoc alignment operator to paired embeddings.

METHOD is one of ssp (the seed paper's shared space projection), rotation (its hyperplane
rotation), translation (Liang et al. 2022), removal (Schrodi et al. 2025) or centring
(Zhang et al. 2023, DrML); the operators and their formulas are in verify.alignment.
IN holds both modalities in one file (a (2, n, d) array, or an .npz/.pt with x/y keys and
optionally a pair index; see verify.embeddings_io). Rows are L2-normalised on input
(explicitly, and said so). The operator is fitted on ``--fit FILE`` if given (held-out
use), else on IN, then applied to IN. OUT is written atomically: ``.npy`` as one (2, n, d)
array, ``.npz`` with keys x, y (and pairs, if IN had a pair index). The command prints
what it fitted and the gap before and after (centroid distance, centre angle, mean paired
cosine; retrieval with ``--recall``).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from modgap.verify._validation import InputError

NAME = "align"
HELP = (
    "apply a post-hoc alignment operator (ssp, rotation, translation, removal, centring) "
    "to paired embeddings and write the result"
)
METHODS = ("ssp", "rotation", "translation", "removal", "centring")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments: METHOD IN OUT [--fit FILE] [--pairs] [operator options] [--recall]."""
    parser.add_argument("method", metavar="METHOD", choices=METHODS, help=" | ".join(METHODS))
    parser.add_argument("input", metavar="IN", help="both modalities in one file (2, n, d)")
    parser.add_argument("output", metavar="OUT", help="output file, .npy (2, n, d) or .npz")
    parser.add_argument(
        "--fit", metavar="FILE", help="fit the operator on FILE instead of IN (same formats)"
    )
    parser.add_argument("--pairs", metavar="PAIRS", help="pair index for IN (text j -> image)")
    parser.add_argument(
        "--variance", type=float, default=0.99, help="ssp, rotation: subspace variance (0.99)"
    )
    parser.add_argument("--eps", type=float, default=1e-3, help="ssp: shared if cos > 1 - eps")
    parser.add_argument(
        "--k", type=int, default=None, help="ssp: keep the top k shared directions; removal: k"
    )
    parser.add_argument(
        "--centred",
        action="store_true",
        help="ssp, rotation: centre each modality before its SVD (default: not centred)",
    )
    parser.add_argument("--dim", type=int, default=None, help="rotation: subspace dimension")
    parser.add_argument(
        "--lam", type=float, default=None, help="translation: step (default: centroid distance)"
    )
    parser.add_argument(
        "--recall", action="store_true", help="also report retrieval R@1/5/10 before and after"
    )


def build_operator(args: argparse.Namespace) -> Any:
    """The verify.alignment operator for ``args.method`` (inputs normalised explicitly)."""
    from modgap.verify import alignment

    m = args.method
    if args.k is not None and m not in ("ssp", "removal"):
        raise InputError(f"--k applies to ssp and removal, not {m}")
    if args.dim is not None and m != "rotation":
        raise InputError(f"--dim applies to rotation, not {m}")
    if args.lam is not None and m != "translation":
        raise InputError(f"--lam applies to translation, not {m}")
    if args.centred and m not in ("ssp", "rotation"):
        raise InputError(f"--centred applies to ssp and rotation, not {m}")
    if m == "ssp":
        return alignment.SharedSpaceProjection(
            args.variance, args.eps, args.k, args.centred, normalize=True
        )
    if m == "rotation":
        return alignment.HyperplaneRotation(args.variance, args.dim, args.centred, normalize=True)
    if m == "translation":
        return alignment.Translation(args.lam, normalize=True)
    if m == "removal":
        if args.k is None:
            raise InputError("removal needs --k (how many coordinates to drop)")
        return alignment.Removal(args.k, normalize=True)
    return alignment.Centring(normalize=True)


def _gap(X: Any, Y: Any, pairs: Any, recall: bool) -> dict[str, Any]:
    """The gap observables (verify.observables, "sample" centre rule) and optionally R@K."""
    from modgap.verify import metrics
    from modgap.verify.observables import gap_observables

    out: dict[str, Any] = {"gap": gap_observables(X, Y, source="sample", pairs=pairs)}
    if recall:
        out["recall"] = metrics.retrieval_recall(X, Y, (1, 5, 10), pairs=pairs)
    return out


def _fitted_summary(op: Any) -> str:
    import numpy as np

    name = type(op).__name__
    if name == "SharedSpaceProjection":
        return (
            f"subspace dims {op.dim_x_} (images) / {op.dim_y_} (texts) at "
            f"{100 * op.variance:g}% variance{' (centred SVD)' if op.centred else ''}; "
            f"d_overlap = {op.d_overlap_} shared directions (cos > 1 - {op.eps:g}, largest "
            f"cos {op.cosines_[0]:.6f}); projecting onto {op.shared_basis_.shape[1]} of them"
        )
    if name == "HyperplaneRotation":
        pa = np.degrees(op.principal_angles_)
        return (
            f"rotating the {op.dim_}-dim image subspace onto the text subspace "
            f"({100 * op.variance:g}% dims "
            f"{op.dim_x_} / {op.dim_y_}); principal angles {pa[0]:.2f} .. {pa[-1]:.2f} deg"
        )
    if name == "Translation":
        return (
            f"lam = {op.lam_:.4f} along the gap direction (fitted centroid distance "
            f"{op.centroid_distance_:.4f})"
        )
    if name == "Removal":
        diffs = np.abs(op.mean_difference_[op.removed_])
        return (
            f"removed coordinates {op.removed_.tolist()} (|mean difference| "
            f"{diffs.max():.4f} .. {diffs.min():.4f})"
        )
    return (
        f"subtracting the fitted means (|m_x| = {np.linalg.norm(op.mean_x_):.4f}, "
        f"|m_y| = {np.linalg.norm(op.mean_y_):.4f})"
    )


def _line(label: str, before: Any, after: Any, digits: int = 4) -> str:
    def f(v: Any) -> str:
        return "undefined" if v is None else f"{v:.{digits}f}"

    return f"  {label:<26} {f(before):>10} -> {f(after)}"


def write_pair(path: str | Path, X: Any, Y: Any, pairs: Any) -> Path:
    """Write (X, Y) atomically: .npy -> one (2, n, d) array; .npz -> keys x, y (, pairs)."""
    import numpy as np

    from modgap.verify.atomic import atomic_path, check_output_path

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        if pairs is not None or X.shape != Y.shape:
            raise InputError(
                f"OUT {path}: .npy holds one (2, n, d) array and needs one-to-one pairs of "
                f"equal shape (got {X.shape} and {Y.shape}"
                + (" and a pair index" if pairs is not None else "")
                + "); use an .npz output"
            )
    check_output_path(path, "OUT", suffixes=(".npy", ".npz"))
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        if suffix == ".npy":
            np.save(fh, np.stack([X, Y]), allow_pickle=False)
        elif pairs is None:
            np.savez(fh, x=X, y=Y)
        else:
            np.savez(fh, x=X, y=Y, pairs=np.asarray(pairs, dtype=np.int64))
    return path


def run(args: argparse.Namespace) -> int:
    """Load IN (and --fit), fit, transform, report before/after, write OUT atomically."""
    from modgap.verify.atomic import check_output_path
    from modgap.verify.embeddings_io import load_paired_embeddings

    # every check before any work: OUT must never be IN (or --fit, or --pairs)
    check_output_path(
        args.output,
        "OUT",
        inputs=(args.input, args.fit, args.pairs),
        suffixes=(".npy", ".npz"),
    )
    op = build_operator(args)
    out_suffix = Path(args.output).suffix.lower()
    data = load_paired_embeddings(args.input, pairs=args.pairs, min_rows=1, names=("IN", None))
    if out_suffix == ".npy" and data.pairs is not None:
        raise InputError(f"OUT {args.output}: IN has a pair index; write an .npz output")
    fit_data = (
        data
        if args.fit is None
        else load_paired_embeddings(args.fit, min_rows=1, names=("--fit", None))
    )
    fit_name = args.input if args.fit is None else args.fit
    if fit_data.dim != data.dim:
        raise InputError(
            f"--fit {args.fit}: has dimension d = {fit_data.dim}, but IN {args.input} has "
            f"d = {data.dim}; the operator must be fitted in the space it is applied to"
        )

    from modgap.verify._validation import as_unit_rows

    def unit(Z: Any, name: str) -> Any:
        return as_unit_rows(Z, name, normalize=True, dtype=Z.dtype)

    X, Y = unit(data.images, "IN images"), unit(data.texts, "IN texts")
    op.fit(unit(fit_data.images, "fit images"), unit(fit_data.texts, "fit texts"))
    Xo, Yo = op.transform(X, Y)
    before = _gap(X, Y, data.pairs, args.recall)
    after = _gap(Xo, Yo, data.pairs, args.recall)
    write_pair(args.output, Xo, Yo, data.pairs)

    print(f"modgap align {args.method}: {op!r}")
    print(
        f"  fitted on {fit_name} ({fit_data.images.shape[0]} image / "
        f"{fit_data.texts.shape[0]} text rows; rows L2-normalised)"
    )
    print(f"  {_fitted_summary(op)}")
    print(
        f"  applied to {args.input}: {X.shape[0]} image / {Y.shape[0]} text rows, d = {X.shape[1]}"
    )
    print("gap before -> after")
    gb, ga = before["gap"], after["gap"]
    print(_line("centroid distance", gb.centroid_distance, ga.centroid_distance))
    print(
        _line(
            "centre angle, deg",
            gb.degrees()["centre_angle_deg"],
            ga.degrees()["centre_angle_deg"],
            2,
        )
    )
    print(_line("mean paired cosine", gb.pair_cosine_mean, ga.pair_cosine_mean))
    for name, g in (("before", gb), ("after", ga)):
        if not g.centre_defined:
            print(f"  centre angle {name}: {g.centre_undefined_reason}")
    if args.recall:
        for dr, name in (("i2t", "image->text"), ("t2i", "text->image")):
            for k in (1, 5, 10):
                print(_line(f"{name} R@{k}", before["recall"][dr][k], after["recall"][dr][k], 3))
    if args.method == "centring":
        print(
            "  note: centring makes both means (near) zero by construction, so the centre "
            "angle after it is ill-conditioned; compare the centroid distances instead"
        )
    print(f"wrote {args.output} ({'(2, n, d) array' if out_suffix == '.npy' else 'keys x, y'})")
    return 0
