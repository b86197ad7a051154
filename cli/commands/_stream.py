"""The streaming route of ``modgap analyze`` (verify.streaming; docs/streaming.md).

Not a subcommand (the leading underscore keeps it out of discovery): analyze.py calls
:func:`add_arguments` and, when :func:`wanted` says so, hands the whole run to :func:`run`.
Routed here: ``--stream``, ``--scheduler ADDRESS`` (or $MODGAP_DASK_SCHEDULER with
``--stream``), a folder of clip-retrieval shards, a zarr array, or a .npy input larger than
:data:`AUTO_STREAM_BYTES` (the in-memory analysis needs about 4x the file in memory).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from modgap.verify._validation import InputError

#: .npy inputs above this size (bytes, both files together) are streamed automatically.
AUTO_STREAM_BYTES = 1 << 30


class _DefaultQueries(int):
    """analyze's default --max-queries (an int for the in-memory route), marked so that the
    streaming route can tell it from a value the user gave and use its own default."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--stream, --scheduler, --chunk-rows, --exact-uniformity, --separability-rows."""
    default = parser.get_default("max_queries")
    if isinstance(default, int):
        parser.set_defaults(max_queries=_DefaultQueries(default))
    g = parser.add_argument_group(
        "streaming (larger than memory; verify.streaming, docs/streaming.md)"
    )
    g.add_argument(
        "--stream",
        action="store_true",
        help="chunked passes over the files on disk, memory independent of n (automatic for "
        "shard folders, zarr, and .npy inputs over 1 GiB); retrieval then ranks 500 seeded "
        "queries per direction against all candidates unless --max-queries is given",
    )
    g.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run the chunks on this dask.distributed scheduler (implies --stream; default "
        "with --stream: $MODGAP_DASK_SCHEDULER, else this process)",
    )
    g.add_argument(
        "--chunk-rows", type=int, default=None, metavar="N", help="rows per chunk (16384)"
    )
    g.add_argument(
        "--exact-uniformity",
        action="store_true",
        help="uniformity over all n(n-1)/2 pairs, block against block (O(n^2 d)); default: "
        "a seeded subset of 5000 rows",
    )
    g.add_argument(
        "--separability-rows",
        type=int,
        default=None,
        metavar="N",
        help="rows per modality for the linear-separability fit (seeded subset; 10000)",
    )
    g.add_argument("--no-progress", action="store_true", help="no progress bar")


def wanted(args: argparse.Namespace) -> bool:
    """True when this run goes to the streaming engine (module docstring)."""
    if args.stream or args.scheduler:
        return True
    if getattr(args, "demo", False) or not args.file:
        return False
    from modgap.verify.streaming import is_streamable

    paths = [p for p in (args.file, args.file2) if p]
    if not all(Path(p).exists() for p in paths):
        return False  # the in-memory loader gives the not-found error
    if is_streamable(*paths):
        return True
    files = [Path(p) for p in paths]
    return (
        all(p.suffix == ".npy" for p in files)
        and sum(p.stat().st_size for p in files) > AUTO_STREAM_BYTES
    )


def check_options(args: argparse.Namespace, streamed: bool) -> None:
    """The streaming options' bounds (--chunk-rows >= 16, --separability-rows >= 4), and
    that they are not given to an in-memory analysis, where nothing would read them."""
    given = [
        f"--{name.replace('_', '-')}"
        for name in ("chunk_rows", "separability_rows")
        if getattr(args, name) is not None
    ]
    if args.exact_uniformity:
        given.append("--exact-uniformity")
    if given and not streamed:
        raise InputError(
            f"{', '.join(given)} only {'applies' if len(given) == 1 else 'apply'} to the "
            "streamed analysis (--stream, --scheduler, or inputs over 1 GiB); add --stream "
            "or drop them"
        )
    for name in ("chunk_rows", "separability_rows"):
        v = getattr(args, name)
        if v is not None and v < (16 if name == "chunk_rows" else 4):
            raise InputError(f"--{name.replace('_', '-')} is too small: {v}")


def run(args: argparse.Namespace) -> int:
    """Open the source, stream the analysis, print the report; optionally write JSON."""
    from modgap.verify import streaming

    from .analyze import _pairing_text, format_report

    if args.demo:
        raise InputError("--stream/--scheduler analyse files on disk, not --demo")
    if not args.file:
        raise InputError("FILE is required")
    if args.plots:
        raise InputError("--plots needs the in-memory analysis (drop --stream/--scheduler)")
    inputs = [Path(p).resolve() for p in (args.file, args.file2, args.pairs) if p]
    if args.json:
        out = Path(args.json)
        if not out.parent.is_dir():
            raise FileNotFoundError(f"--json {out}: folder {out.parent} not found")
        if out.resolve() in inputs:
            raise InputError(f"--json {out}: the output path is one of the inputs")
    src = streaming.open_source(args.file, args.file2)
    pairs = None
    if args.pairs:
        from modgap.verify.embeddings_io import load_pairs

        pairs = load_pairs(args.pairs, src.images.n, src.texts.n)
    # analyze's default query sample (5000) is the in-memory default; streamed, 500
    mq = args.max_queries
    if isinstance(mq, _DefaultQueries):
        mq = streaming.STREAM_MAX_QUERIES
    kw = dict(
        variance=args.variance,
        eps=args.eps,
        max_queries=None if mq <= 0 else mq,
        uniformity_rows=None if args.exact_uniformity else streaming.UNIFORMITY_ROWS,
        scheduler=args.scheduler,
        progress=not args.no_progress and sys.stderr.isatty(),
    )
    if args.chunk_rows is not None:
        kw["chunk_rows"] = args.chunk_rows
    if args.separability_rows is not None:
        kw["separability_rows"] = args.separability_rows
    try:
        rep = streaming.stream_analyze(src, pairs, **kw)
    finally:
        src.close()
    rep["source"] = src.description
    rep["pairing"] = "one-to-one" if pairs is None else "pairs index (text j -> image pairs[j])"
    st = rep["stream"]
    print(f"modgap analyze (streamed, {rep['engine']}): {src.description}")
    print(format_report(rep, _pairing_text(rep["n_images"], rep["n_texts"], pairs)))
    print(
        f"\nstreaming: {st['n_chunks']} chunks of {st['chunk_rows']} rows, "
        f"{st['seconds']:.1f} s; uniformity {st['uniformity_x']['mode']} "
        f"({st['uniformity_x']['rows']} rows), separability "
        f"{st['linear_separability']['mode']} ({st['linear_separability']['rows_per_modality']}"
        f" rows), retrieval {st['retrieval']['mode']} ({st['retrieval']['queries']} queries)"
    )
    if args.json:
        from modgap.verify.atomic import write_json

        write_json(args.json, rep)
        print(f"\nwrote {args.json}")
    sys.stdout.flush()
    return 0
