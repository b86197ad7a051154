#!/usr/bin/env python
"""Regenerate every check, figure and table of the modality-gap proof checker.

    python paper_repro.py [--quick] [--out DIR] [--embeddings FILE ...] [--no-cache]

Runs every theorem check (theorems.REGISTRY) and every figure-data producer as an evidence
step (modgap.theorems.evidence), prints the verdict table, draws every figure (one script
per figure under figures/) from those evidence documents -- so the numbers drawn are the
ones the verdicts were decided on, and no figure recomputes them -- computes the
Table-1-style comparison of post-hoc alignment operators on real embeddings, and writes
DIR/report.md and DIR/report.json
(default DIR = ./repro_out). Finished steps are cached under DIR/.cache by their
parameters, so an interrupted run loses no finished step and a rerun reuses them; every
file is written to a temporary name and renamed. The exit code is non-zero if any step
raised, or if any negative control was not refuted.

Paper: Yi, Douady & Chen, arXiv 2510.03268 (see README.md). Presentation only: all maths
lives in verify/ and theorems/.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")

FIGURES = (
    "fig1_cor_constraints",
    "fig2_real_embeddings",
    "fig3_pair_geometry",
    "fig3_ssp_before_after",
    "fig4_gap_vs_phi",
    "fig5_bound_convergence",
    "fig6_population_landscape",
    "fig7_dimension_collapse",
)


def _evidence_step(source: str, params: dict) -> dict:
    """One evidence document (modgap.theorems.evidence.compute): a check's verdicts and
    figure data, or a figure-data producer's data."""
    from modgap.theorems.evidence import compute

    return compute(source, **params)


def _figure_step(module: str, out_dir: str, quick: bool, *, documents: dict) -> list[str]:
    """Draw one figure from the evidence documents of this run (filled in by main as the
    evidence steps finish); a document whose step failed is an error, not recomputed."""
    from modgap.figures._style import render

    mod = importlib.import_module(f"modgap.figures.{module}")
    missing = [s for s in mod.EVIDENCE if s not in documents]
    if missing:
        raise RuntimeError(f"no evidence for {', '.join(missing)} (its evidence step failed)")
    return [str(p) for p in render(mod, out_dir, quick=quick, given=documents)]


def _table_step(path: str | None, label: str) -> dict:
    from modgap.verify.alignment_comparison import compare_alignments
    from modgap.verify.datasets import real_embeddings

    X, Y, source = real_embeddings(path)
    return {"label": label, "source": source, "rows": compare_alignments(X, Y)}


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "platform": platform.platform()}
    for name in ("modgap", "numpy", "scipy", "sympy", "cvxpy", "torch", "matplotlib", "hypothesis"):
        try:
            from importlib.metadata import version

            out[name] = version(name)
        except Exception:  # a missing package is reported, not fatal
            out[name] = "not installed"
    return out


def verdict_table(verdicts: list[dict]) -> str:
    """Markdown table: id, reading, claim, verdict, key numbers (negative controls marked)."""
    from modgap.theorems.verdict import summarize

    lines = [
        "| id | reading | claim | verdict | key numbers |",
        "|---|---|---|---|---|",
    ]
    for v in verdicts:
        tag = " (negative control)" if v.get("negative_control") else ""
        flag = " **contradicts paper**" if v.get("contradicts_paper") else ""
        claim = v["claim"].replace("|", "/").replace("\n", " ")
        lines.append(
            f"| {v['id']} | {v['reading']}{tag} | {claim} | {v['verdict']}{flag} | "
            f"{summarize(v).replace('|', '/')} |"
        )
    return "\n".join(lines)


def alignment_table(table: dict) -> str:
    """Markdown table in the style of the paper's Table 1."""
    lines = [
        f"**{table['source']}**",
        "",
        "| embeddings | centre angle (deg) | centroid distance | I->T R@1 | I->T R@5 "
        "| T->I R@1 | T->I R@5 |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in table["rows"]:
        if "error" in row:
            lines.append(f"| {row['method']} | not applicable: {row['error']} | | | | | |")
            continue
        angle = row["centre_angle_deg"]
        angle = "undefined" if angle is None else f"{angle:.2f}"
        method = row["method"]
        if "d_overlap" in row:
            method += f" (d_overlap = {row['d_overlap']})"
        lines.append(
            f"| {method} | {angle} | {row['centroid_distance']:.3f} | "
            f"{100 * row['i2t_r1']:.2f} | {100 * row['i2t_r5']:.2f} | "
            f"{100 * row['t2i_r1']:.2f} | {100 * row['t2i_r5']:.2f} |"
        )
    return "\n".join(lines)


#: Evidence documents of the current run by source name, filled in by main() as the
#: evidence steps finish (computed or cached) and drawn by the figure steps.
DOCUMENTS: dict[str, dict] = {}


def build_steps(args) -> list:
    """Evidence steps (every theorem check, then every figure-data source), figure steps
    drawing those documents, alignment-table steps."""
    from modgap.figures._style import evidence_params
    from modgap.pipeline import Step
    from modgap.theorems import REGISTRY

    fig_dir = str(Path(args.out) / "figures")
    sources = list(REGISTRY)
    for m in FIGURES:
        mod = importlib.import_module(f"modgap.figures.{m}")
        sources += [s for s in mod.EVIDENCE if s not in sources]
    steps = [
        Step(
            f"evidence-{source}",
            _evidence_step,
            {"source": source, "params": evidence_params(source, args.quick)},
            "theorem check" if source in REGISTRY else "figure data",
        )
        for source in sources
    ]
    steps += [
        Step(
            f"figure-{m}",
            functools.partial(_figure_step, documents=DOCUMENTS),
            {"module": m, "out_dir": fig_dir, "quick": args.quick},
        )
        for m in FIGURES
    ]
    from modgap.verify.datasets import liang_clip_available

    if args.embeddings:
        sources = list(args.embeddings)
    else:  # the real CLIP features when present beside the checkout, and the bundled demo
        sources = ([None] if liang_clip_available() else []) + ["demo"]  # None: CLIP features
    for i, path in enumerate(sources):
        label = {None: "liang-clip", "demo": "demo"}.get(path) or Path(path).name
        steps.append(
            Step(
                f"table-{i}-{label}", _table_step, {"path": path, "label": label}, "alignment table"
            )
        )
    return steps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small settings (< 2 min)")
    parser.add_argument("--out", default="repro_out", help="output folder (default repro_out)")
    parser.add_argument(
        "--embeddings",
        nargs="*",
        default=None,
        metavar="FILE",
        help="paired embedding files for the alignment table",
    )
    parser.add_argument("--no-cache", action="store_true", help="recompute every step")
    args = parser.parse_args(argv)

    from modgap.pipeline import Pipeline
    from modgap.verify.atomic import write_json, write_text

    t0 = time.perf_counter()
    pipe = Pipeline(args.out, use_cache=not args.no_cache)
    steps = build_steps(args)
    DOCUMENTS.clear()
    for i, step in enumerate(steps, 1):
        print(f"({i}/{len(steps)})", end=" ", file=sys.stderr, flush=True)
        outcome = pipe.run(step)
        if step.name.startswith("evidence-") and outcome.result:
            DOCUMENTS[outcome.result["name"]] = outcome.result

    verdicts = [
        v
        for o in pipe.outcomes.values()
        if o.result
        for v in (
            o.result
            if o.name.startswith("check-")
            else o.result["verdicts"]
            if o.name.startswith("evidence-")
            else []
        )
    ]
    tables = [o.result for o in pipe.outcomes.values() if o.name.startswith("table-") and o.result]
    figures = [
        p
        for o in pipe.outcomes.values()
        if o.name.startswith("figure-") and o.result
        for p in o.result
    ]
    bad_controls = [v for v in verdicts if v["negative_control"] and v["verdict"] != "REFUTED"]

    report = {
        "paper": "Yi, Douady & Chen, arXiv 2510.03268",
        "quick": args.quick,
        "verdicts": verdicts,
        "tables": tables,
        "figures": figures,
        "steps": {
            o.name: {"seconds": o.seconds, "cached": o.cached, "error": o.error}
            for o in pipe.outcomes.values()
        },
        "versions": _versions(),
        "seeds": "every step is seeded; seeds are recorded in each verdict's parameters",
        "total_seconds": time.perf_counter() - t0,
    }
    write_json(Path(args.out) / "report.json", report, default=str)

    md = [
        "# modgap reproduction report",
        "",
        f"Mode: {'quick' if args.quick else 'full'}; total {report['total_seconds']:.0f} s.",
        "",
        "## Verdicts",
        "",
        verdict_table(verdicts),
        "",
    ]
    if tables:
        md += ["## Post-hoc alignment on real embeddings (Table 1 style)", ""]
        for table in tables:
            md += [alignment_table(table), ""]
    md += ["## Figures", ""] + [f"- `{p}`" for p in figures if p.endswith(".png")] + [""]
    if pipe.failed:
        md += ["## Steps that raised", ""] + [f"- {o.name}: {o.error}" for o in pipe.failed]
    write_text(Path(args.out) / "report.md", "\n".join(md) + "\n")

    print(verdict_table(verdicts))
    print(f"\nreport: {Path(args.out) / 'report.md'}  ({report['total_seconds']:.0f} s)")
    if pipe.failed or bad_controls:
        for o in pipe.failed:
            print(f"step raised: {o.name}: {o.error}", file=sys.stderr)
        for v in bad_controls:
            print(f"negative control not refuted: {v['id']} {v['reading']}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
