"""``modgap zeroshot``: the seed paper's Table 1 (zero-shot classification with post-hoc
alignment) on a user's image embeddings, labels and class-prompt embeddings.

Presentation only: every number comes from :func:`modgap.verify.zeroshot.zeroshot_table`
(definitions, sources and this project's readings in its module docstring). The Markdown
renderers :func:`render_markdown` and :func:`render_per_class` are importable (e.g. by
``paper_repro.py``).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

from modgap.verify._validation import InputError

NAME = "zeroshot"
HELP = (
    "zero-shot classification (the seed paper's Table 1): Delta_theta, top-1/top-5 and gap "
    "observables before and after Translation, Removal, Centring, SSP and hyperplane rotation"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """IMAGES LABELS PROMPTS [--classes] [--json] [--markdown] [--fit-split] [--demo] ..."""
    parser.add_argument("images", nargs="?", metavar="IMAGES", help="image embeddings (n, d)")
    parser.add_argument(
        "labels",
        nargs="?",
        metavar="LABELS",
        help="(n,) integer class ids, or class names with --classes (.npy/.npz/.pt, or "
        ".txt/.csv one label per line)",
    )
    parser.add_argument(
        "prompts",
        nargs="?",
        metavar="PROMPTS",
        help="(C, d) class embeddings, or (C, P, d) embeddings of P prompt templates per class "
        "(averaged and renormalised per class, as CLIP does)",
    )
    parser.add_argument(
        "--classes",
        metavar="FILE",
        help="class names, one per line, in the order of the PROMPTS rows (needed when LABELS "
        "are names; also labels the per-class table)",
    )
    parser.add_argument("--json", metavar="OUT", help="also write the whole table as JSON (atomic)")
    parser.add_argument("--markdown", metavar="OUT", help="also write the Markdown tables (atomic)")
    parser.add_argument(
        "--fit-split",
        choices=("evaluated", "holdout"),
        default="evaluated",
        help="rows the operators are fitted on: the evaluated images (default, transductive) "
        "or a seeded held-out fraction of them (the rest is evaluated)",
    )
    parser.add_argument(
        "--holdout-fraction",
        type=float,
        default=0.5,
        metavar="F",
        help="with --fit-split holdout: fraction of the images used for fitting (default 0.5)",
    )
    parser.add_argument(
        "--fit-images",
        metavar="FILE",
        help="fit the operators on these images (m, d) instead (e.g. training-set embeddings)",
    )
    parser.add_argument(
        "--text-fit",
        choices=("prompts", "classes"),
        default="prompts",
        help="text rows the operators are fitted on: every prompt embedding (default) or the "
        "C class embeddings",
    )
    parser.add_argument(
        "--removal-k", type=int, default=10, help="Removal: coordinates dropped (default 10)"
    )
    parser.add_argument(
        "--ssp-relaxed-eps",
        type=float,
        default=0.05,
        help="also run SSP with this looser shared-direction threshold (this project's "
        "relaxation; default 0.05; a negative value leaves the row out)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the held-out split")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="use the bundled Fashion-MNIST model's test embeddings (no training, no download)",
    )


# --------------------------------------------------------------------------- rendering


def _pct(v: Any) -> str:
    return "-" if v is None else f"{100 * v:.2f}"


def _num(v: Any, digits: int = 2) -> str:
    return "undefined" if v is None else f"{v:.{digits}f}"


def render_markdown(table: dict[str, Any], *, title: str | None = None) -> str:
    """The Table-1-shaped Markdown table of a :func:`verify.zeroshot.zeroshot_table` result:
    one row per method with Delta_theta, top-1, top-5 (chance level and C in the header)
    and the gap observables; a line above states the fitting reading."""
    ch = table["chance_top_k"]
    ks = list(ch)
    C = table["n_classes"]
    head = ["method", "Delta_theta (deg)"]
    head += [f"top-{k} (%) [chance {100 * ch[k]:.1f}, C = {C}]" for k in ks]
    head += [
        "centroid distance",
        "mean cos(image, own class)",
        "eff. dim images / texts",
        "d_overlap",
        "phi (deg)",
    ]
    lines = []
    if title:
        lines += [f"**{title}**", ""]
    lo, hi = min(table["prompts_per_class"]), max(table["prompts_per_class"])
    lines += [
        f"{table['n_eval']} images evaluated, {C} classes, prompts per class "
        f"{lo if lo == hi else f'{lo}-{hi}'}, d = "
        f"{table['dim']}; operators {table['readings']['fit rows']}; "
        f"{table['readings']['text side']}; Removal k = {table['removal_k']}; majority-class "
        f"rate {100 * table['majority_rate']:.1f}%.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for row in table["rows"]:
        name = row["method"]
        if row.get("d_overlap") is not None and name.startswith("+SSP"):
            name = f"{name}, d_overlap = {row['d_overlap']}"
        if "error" in row:
            cells = [name, "not applicable: " + row["error"].split(";")[0]]
            cells += [""] * (len(head) - 2)
        else:
            o, gap = row["observables"], row["gap"]
            angle = None if gap["centre_angle"] is None else math.degrees(gap["centre_angle"])
            cells = [name, _num(angle)]
            cells += [_pct(row["top_k"][k]) for k in ks]
            cells += [
                f"{gap['centroid_distance']:.3f}",
                f"{gap['pair_cosine_mean']:.3f}",
                f"{o['effective_dimension_images']} / {o['effective_dimension_texts']}",
                str(o["d_overlap"]),
                f"{o['predicted_gap_deg']:.2f}",
            ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render_per_class(table: dict[str, Any]) -> str:
    """Per-class top-1 accuracy (%) of every method, one row per class, as Markdown."""
    rows = [r for r in table["rows"] if "error" not in r]
    names = table.get("class_names") or [str(c) for c in range(table["n_classes"])]
    head = ["class", "images"] + [r["method"] for r in rows]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for c, cname in enumerate(names):
        cells = [cname, str(table["class_counts"][c])]
        cells += [_pct(r["per_class_top1"][c]) for r in rows]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# --------------------------------------------------------------------------- loading


def _read_lines(path: Path, what: str) -> list[str]:
    if not path.is_file():
        raise FileNotFoundError(f"{what} {path}: file not found")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{what} {path}: not a UTF-8 text file ({exc})") from exc
    out = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not out:
        raise InputError(f"{what} {path}: is empty")
    return out


def load_labels(path: str | Path) -> Any:
    """Labels from .npy/.npz/.pt (one integer or string array) or .txt/.csv (one per line:
    integers, or names). Returns an int64 array or a list of names; errors name LABELS."""
    import numpy as np

    path = Path(path)
    what = "LABELS"
    suffix = path.suffix.lower()
    if suffix in (".txt", ".csv"):
        tokens = _read_lines(path, what)
        try:
            return np.array([int(t) for t in tokens], dtype=np.int64)
        except ValueError:
            return tokens
    if not path.is_file():
        raise FileNotFoundError(f"{what} {path}: file not found")
    if suffix == ".npy":
        try:
            arr = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise InputError(f"{what} {path}: does not parse as .npy ({exc})") from exc
    elif suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as z:
                if len(z.files) != 1:
                    raise InputError(
                        f"{what} {path}: holds {len(z.files)} arrays ({sorted(z.files)}); "
                        "expected one"
                    )
                arr = z[z.files[0]]
        except (OSError, EOFError) as exc:
            raise InputError(f"{what} {path}: does not parse as .npz ({exc})") from exc
    elif suffix == ".pt":
        import torch

        try:
            obj = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise InputError(f"{what} {path}: does not load with torch.load ({exc})") from exc
        if not hasattr(obj, "numpy"):
            raise InputError(f"{what} {path}: holds a {type(obj).__name__}, not a tensor")
        arr = obj.numpy()
    else:
        raise InputError(
            f"{what} {path}: unsupported suffix {path.suffix!r}; use .npy, .npz, .pt, .txt or .csv"
        )
    return arr


def _check_outputs(args: argparse.Namespace) -> None:
    """--json and --markdown: writable, of their kind, never one of the inputs (the one
    output check, :func:`modgap.verify.atomic.check_output_path`)."""
    from modgap.verify.atomic import JSON_SUFFIXES, MARKDOWN_SUFFIXES, check_output_path

    inputs = {
        p: label
        for p, label in (
            (args.images, "IMAGES"),
            (args.labels, "LABELS"),
            (args.prompts, "PROMPTS"),
            (args.classes, "--classes"),
            (args.fit_images, "--fit-images"),
        )
        if p
    }
    if args.json:
        check_output_path(args.json, "--json", inputs=inputs, suffixes=JSON_SUFFIXES)
    if args.markdown:
        check_output_path(args.markdown, "--markdown", inputs=inputs, suffixes=MARKDOWN_SUFFIXES)
    if args.json and args.markdown and Path(args.json).resolve() == Path(args.markdown).resolve():
        raise InputError("--json and --markdown name the same file")


def run(args: argparse.Namespace) -> int:
    """Load, compute the table, print it as Markdown; optionally write JSON / Markdown."""
    given = [a for a in (args.images, args.labels, args.prompts) if a]
    if args.demo and (given or args.classes or args.fit_images):
        raise InputError("give IMAGES LABELS PROMPTS or --demo, not both")
    if not args.demo and len(given) != 3:
        raise InputError("IMAGES, LABELS and PROMPTS are all required (or --demo)")
    _check_outputs(args)
    kwargs = dict(
        fit_split=args.fit_split,
        holdout=args.holdout_fraction,
        text_fit=args.text_fit,
        removal_k=args.removal_k,
        ssp_relaxed_eps=None if args.ssp_relaxed_eps < 0 else args.ssp_relaxed_eps,
        seed=args.seed,
    )
    if args.demo:
        from modgap.verify.fashion_clip import demo_table

        table = demo_table(**kwargs)
        source = table["source"]
    else:
        from modgap.verify.embeddings_io import load_array
        from modgap.verify.zeroshot import zeroshot_table

        images = load_array(args.images, "IMAGES")
        if images.ndim != 2:
            raise InputError(f"IMAGES {args.images}: must be (n, d), got shape {images.shape}")
        prompts = load_array(args.prompts, "PROMPTS")
        labels = load_labels(args.labels)
        names = None if args.classes is None else _read_lines(Path(args.classes), "--classes")
        fit_images = None
        if args.fit_images:
            fit_images = load_array(args.fit_images, "--fit-images")
            if fit_images.ndim != 2:
                raise InputError(f"--fit-images {args.fit_images}: must be (m, d)")
        table = zeroshot_table(
            images, labels, prompts, class_names=names, fit_images=fit_images, **kwargs
        )
        source = f"images {args.images}, labels {args.labels}, prompts {args.prompts}"
        table["source"] = source
    md = render_markdown(table) + "\n\nper-class top-1 accuracy (%)\n\n" + render_per_class(table)
    print(f"modgap zeroshot: {source}\n")
    print(md)
    if args.json:
        from modgap.verify.atomic import write_json

        write_json(args.json, table)
        print(f"\nwrote {args.json}")
    if args.markdown:
        from modgap.verify.atomic import write_text

        write_text(args.markdown, md + "\n")
        print(f"wrote {args.markdown}")
    sys.stdout.flush()
    return 0
