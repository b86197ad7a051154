"""Rerun of Theorem 2's full-mode finite-N branch comparisons with >= 256 starts per branch.

Not a test (issue 12, item 5). For every finite-N setting of ``theorem2.FULL`` (caps of
half-angle alpha around fixed centres at angle Delta; docs/theory.md §5) and every Delta of
its profile, :func:`modgap.verify.search.multistart` runs ``--starts`` i.i.d. random starts
plus two rounds of basin hopping around the best (batched, tol 1e-7 and 6000 iterations as
the theorem check), and the 4 lowest unconverged starts are polished (face identification +
Newton). The branches Delta = 0 and Delta = pi are then searched again from the reflection
of the other's minima (the branch map y -> y - 2 (y.c) c), so neither is favoured.

Prints, per setting: the best value of every branch with its coverage (starts, converged,
distinct minima, starts at the best, Good-Turing estimate), L*(pi) - L*(0), the lowest
intermediate branch minus L*(0), and the same numbers from the theorem check's own search
(``_finite_setting`` with FULL's seeds), so a reader sees whether a reported optimum or
verdict moved. One thread. Usage:
    python bench/rerun_finite_n.py [--starts 256] [--settings 0,1,...] [--json OUT]
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _threads import fix_threads  # noqa: E402

fix_threads()

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from modgap.theorems import theorem2  # noqa: E402
from modgap.verify.constraints import Cone  # noqa: E402
from modgap.verify.search import multistart, reflection  # noqa: E402

TOL, MAX_ITER = 1e-7, 6000


def rerun_setting(st: dict, starts: int) -> dict:
    """Every branch of one setting at ``starts`` starts, then the reflected cross-seeding."""
    h, N, tau, alpha = st["h"], st["N"], st["tau"], st["alpha"]
    c0 = np.eye(h)[0]
    kw = dict(tol=TOL, max_iter=MAX_ITER, strategies=("random", "hop"), polish=4)
    branches = {}
    for d in st["deltas"]:
        cons = Cone(h, alpha, centres=theorem2._fixed_centres(h, d))
        branches[d] = (cons, multistart(cons, N, tau, starts=starts, **kw))
    d0, dpi = st["deltas"][0], st["deltas"][-1]
    if d0 == 0.0 and dpi == math.pi:
        first = {d: branches[d][1] for d in (d0, dpi)}
        for d, other in ((d0, dpi), (dpi, d0)):
            cons = branches[d][0]
            mapped = multistart(
                cons,
                N,
                tau,
                starts=starts,
                mapped=[(first[other].minima, reflection(c0, "y"))],
                **dict(kw, strategies=("mapped",)),
            )
            branches[d] = (cons, first[d], mapped)
    rows = []
    for d in st["deltas"]:
        res = branches[d][1]  # the random + hop search: its coverage is the one reported
        mapped = branches[d][2] if len(branches[d]) > 2 else None
        best = res if mapped is None or res.loss <= mapped.loss else mapped
        rows.append(
            dict(
                delta_deg=math.degrees(d),
                loss=best.loss,
                converged=bool(best.converged),
                grad_norm=best.grad_norm,
                random_loss=res.loss,
                mapped_loss=None if mapped is None else mapped.loss,
                coverage=res.coverage.summary(max_basins=5),
            )
        )
    return dict(setting={k: v for k, v in st.items() if k != "deltas"}, branches=rows)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--starts", type=int, default=256)
    p.add_argument("--settings", default=None, help="indices into theorem2.FULL['finite_n']")
    p.add_argument("--json")
    a = p.parse_args(argv)
    settings = theorem2.FULL["finite_n"]
    idx = range(len(settings)) if a.settings is None else [int(i) for i in a.settings.split(",")]
    out = []
    for i in idx:
        st = settings[i]
        t = time.perf_counter()
        check = theorem2._finite_setting(st, theorem2.FULL)
        ref = {round(math.degrees(r["delta"]), 6): r["loss"] for r in check["profile"]}
        res = rerun_setting(st, a.starts)
        res["check_profile"] = ref
        res["wall_s"] = time.perf_counter() - t
        out.append(res)
        L0 = res["branches"][0]["loss"]
        print(
            f"setting {i}: h={st['h']} N={st['N']} tau={st['tau']} "
            f"alpha={math.degrees(st['alpha']):.0f} deg ({res['wall_s']:.0f} s)"
        )
        for b in res["branches"]:
            c = b["coverage"]
            old = ref[round(b["delta_deg"], 6)]
            print(
                f"  Delta {b['delta_deg']:6.1f}: L* {b['loss']:.10f} (check: {old:.10f}, "
                f"moved {b['loss'] - old:+.2e}), L*-L*(0) {b['loss'] - L0:+.3e}; "
                f"{c['starts']} starts, {c['converged']} converged, {c['distinct_minima']} "
                f"minima, {c['starts_at_best']} at best, Good-Turing {c['good_turing']:.3f}",
                flush=True,
            )
        if a.json:
            Path(a.json).write_text(json.dumps(out, indent=1, default=float) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
