#!/usr/bin/env python
"""Regenerate every check, figure and table of the modality-gap proof checker.

    python paper_repro.py [--quick] [--out DIR] [--embeddings FILE ...] [--no-cache] [--jobs N]

Evidence, then verdicts, then pictures: every theorem check and every figure-data source of
modgap.theorems.evidence runs once as a cached step (DIR/.cache); the verdicts are read
from the checks' evidence, every figure (one script per figure under figures/) is drawn
from the cached evidence it names and computes nothing, and the Table-1-style comparison of
post-hoc alignment operators runs on real embeddings. Writes DIR/report.md and
DIR/report.json (default DIR = ./repro_out) in the report schema of modgap verify
(modgap.report). Finished steps are reused on a rerun; every file is written to a temporary
name and renamed. Steps without a cache entry run in ``--jobs`` forked worker processes
(default: one per usable CPU, each with an equal share of the BLAS threads; ``--jobs 1``
runs everything in this process); the results are the same in any order. Exit code: the
outcome policy of modgap verify (modgap.theorems.outcome): 0 every verdict has an expected
outcome, 1 some verdict does not (e.g. a negative control not refuted), 3 some step raised.

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
    "fig8_theorem3_phase",
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


def _zeroshot_step(retrain: bool) -> dict:
    """The paper's Table 1 protocol (zero-shot classification with post-hoc alignment) on
    this project's Fashion-MNIST model: the bundled test embeddings, or retrained."""
    from modgap.verify.fashion_clip import demo_table

    return demo_table(retrain=retrain)


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version(), "platform": platform.platform()}
    for name in ("modgap", "numpy", "scipy", "sympy", "cvxpy", "torch", "matplotlib", "hypothesis"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:  # a missing package is reported, not fatal
            out[name] = "not installed"
    return out


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
    steps.append(
        Step(
            "zeroshot-fashion",
            _zeroshot_step,
            {"retrain": bool(getattr(args, "retrain_zeroshot", False))},
            "Table 1 protocol (zero-shot) on the Fashion-MNIST model",
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
    parser.add_argument(
        "--retrain-zeroshot",
        action="store_true",
        help="retrain the Fashion-MNIST model for the Table-1 step instead of using the "
        "bundled embeddings (needs modgap[train] and the dataset-fashion-mnist files)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help="worker processes for the steps that are not cached (default: the CPUs this "
        "process may use; 1 = everything in this process). Each worker gets an equal share "
        "of the CPUs for its threads (OMP_NUM_THREADS etc., where not set already)",
    )
    args = parser.parse_args(argv)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    jobs = args.jobs if args.jobs is not None else max(1, cpus or 1)
    if jobs < 1:
        parser.error(f"--jobs must be at least 1, got {jobs}")
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, str(max(1, (cpus or 1) // jobs)))  # before numpy loads

    from modgap.main import warnings_as_notes
    from modgap.pipeline import Pipeline
    from modgap.verify._validation import InputError
    from modgap.verify.alignment_comparison import MIN_ROWS
    from modgap.verify.embeddings_io import load_paired_embeddings

    t0 = time.perf_counter()
    try:
        pipe = Pipeline(args.out, use_cache=not args.no_cache)
        for path in args.embeddings or ():  # inputs the table step refuses: said up front
            if path != "demo":  # "demo": the bundled demo embeddings
                load_paired_embeddings(path, names=("--embeddings", None), min_rows=MIN_ROWS)
    except (InputError, OSError) as exc:  # e.g. --out not writable, a file not found
        print(f"paper_repro: error: {exc}", file=sys.stderr)
        return 2
    with warnings_as_notes("paper_repro"):
        return _run(args, pipe, jobs, t0)


def _run(args, pipe, jobs: int, t0: float) -> int:
    """Run the steps and write the report (main, after the inputs were checked)."""
    from modgap.report import (
        alignment_table,
        entries_from_evidence,
        error_entry,
        report_document,
        summary_line,
        verdict_table,
    )
    from modgap.theorems.evidence import CHECKS
    from modgap.theorems.outcome import exit_code
    from modgap.verify.atomic import write_json, write_text

    steps = build_steps(args)
    DOCUMENTS.clear()
    # evidence and tables first (independent, in parallel), then the figures, which draw
    # the documents of this run (the forked workers inherit them)
    first = [s for s in steps if not s.name.startswith("figure-")]
    for outcome in pipe.run_all(first, jobs=jobs):
        if outcome.name.startswith("evidence-") and outcome.result is not None:
            DOCUMENTS[outcome.result["name"]] = outcome.result
    pipe.run_all([s for s in steps if s.name.startswith("figure-")], jobs=jobs)
    pipe.outcomes = {s.name: pipe.outcomes[s.name] for s in steps}  # the steps' order

    entries: list[dict] = []
    modules: dict[str, dict] = {}
    for name in CHECKS:
        o = pipe.outcomes.get(f"evidence-{name}")
        if o is None:
            continue
        modules[name] = {"seconds": o.seconds, "error": o.error, "cached": o.cached}
        if o.error is not None:
            entries.append(error_entry(name, args.quick, o.error))
        else:
            entries.extend(entries_from_evidence(o.result))
    steps_record = {
        o.name: {"seconds": o.seconds, "cached": o.cached, "error": o.error}
        for o in pipe.outcomes.values()
    }
    tables = [o.result for o in pipe.outcomes.values() if o.name.startswith("table-") and o.result]
    zs = pipe.outcomes.get("zeroshot-fashion")
    zeroshot = zs.result if zs is not None else None
    figures = [
        p
        for o in pipe.outcomes.values()
        if o.name.startswith("figure-") and o.result
        for p in o.result
    ]
    code = exit_code(entries, raised=bool(pipe.failed))
    mode = "quick" if args.quick else "full"
    total = time.perf_counter() - t0
    report = report_document(
        mode,
        entries,
        modules,
        code,
        tables=tables,
        zeroshot=zeroshot,
        figures=figures,
        steps=steps_record,
        versions=_versions(),
        seeds="every step is seeded; seeds are recorded in each verdict's parameters",
        total_seconds=total,
    )
    write_json(Path(args.out) / "report.json", report, default=str)

    md = [
        "# modgap reproduction report",
        "",
        f"Mode: {mode}; total {total:.0f} s; exit code {code}.",
        "",
        "## Verdicts",
        "",
        verdict_table(entries, markdown=True),
        "",
        summary_line(entries, modules, code),
        "",
    ]
    if zeroshot:
        from modgap.commands.zeroshot import render_markdown, render_per_class

        md += [
            "## Table 1 protocol: zero-shot classification with post-hoc alignment",
            "",
            render_markdown(zeroshot, title=zeroshot.get("source")),
            "",
            render_per_class(zeroshot),
            "",
        ]
    if tables:
        md += ["## Post-hoc alignment on real embeddings (paired retrieval)", ""]
        for table in tables:
            md += [alignment_table(table), ""]
    md += ["## Figures", ""] + [f"- `{p}`" for p in figures if p.endswith(".png")] + [""]
    if pipe.failed:
        md += ["## Steps that raised", ""] + [f"- {o.name}: {o.error}" for o in pipe.failed]
    write_text(Path(args.out) / "report.md", "\n".join(md) + "\n")

    print(verdict_table(entries))
    print("\n" + summary_line(entries, modules, code))
    print(f"report: {Path(args.out) / 'report.md'}  ({total:.0f} s)")
    for o in pipe.failed:
        print(f"step raised: {o.name}: {o.error}", file=sys.stderr)
    for e in entries:
        if not e["expected"] and e["verdict"] != "ERROR":
            kind = "negative control not refuted" if e["negative_control"] else "unexpected"
            print(f"{kind}: {e['id']} {e['reading']}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
