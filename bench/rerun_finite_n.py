"""Rerun of the full-mode finite-N branch comparisons with >= 256 starts per branch.

Not a test (issue 12, item 5). Theorem 2 (``--theorem 2``): every finite-N setting of
``theorem2.FULL`` (caps of half-angle alpha around fixed centres at angle Delta;
docs/theory.md §5), every Delta of its profile; the pair searched from each other's
reflected minima is Delta = 0 / Delta = pi. Theorem 3 (``--theorem 3``): every subspace + cone
setting of ``theorem3.FULL`` and each fixed-centre configuration (claimed, in_C, halfway,
antipodal_b); the reflected pair is claimed / antipodal_b (reflection in b). For each
branch :func:`modgap.verify.search.multistart` runs ``--starts`` i.i.d. random starts
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

from modgap.theorems import theorem2, theorem3  # noqa: E402
from modgap.verify import population  # noqa: E402
from modgap.verify.constraints import Cone, SubspaceCone  # noqa: E402
from modgap.verify.search import multistart, reflection  # noqa: E402

TOL, MAX_ITER = 1e-7, 6000


def theorem2_branches(st: dict) -> tuple[dict, tuple | None, np.ndarray]:
    """{label: constraint} over the Delta profile, the reflected pair, the mirror normal."""
    h, alpha = st["h"], st["alpha"]
    cons = {
        round(math.degrees(d), 6): Cone(h, alpha, centres=theorem2._fixed_centres(h, d))
        for d in st["deltas"]
    }
    d0, dpi = st["deltas"][0], st["deltas"][-1]
    pair = (0.0, 180.0) if d0 == 0.0 and dpi == math.pi else None
    return cons, pair, np.eye(h)[0]


def theorem3_branches(st: dict) -> tuple[dict, tuple | None, np.ndarray]:
    """{configuration: constraint}, the reflected pair (claimed, antipodal_b), b."""
    h, phi, alpha = st["h"], st["phi"], st["alpha"]
    cons = {}
    for name in st["configurations"]:
        centres = population.subspace_centres(h, phi, *theorem3.CONFIGURATIONS[name])
        cons[name] = SubspaceCone.hyperplanes(h, phi, alpha, centres=centres)
    pair = ("claimed", "antipodal_b")
    pair = pair if all(p in cons for p in pair) else None
    return cons, pair, population.subspace_frame(h, phi)["b"]


def rerun_setting(st: dict, starts: int, theorem: int) -> dict:
    """Every branch of one setting at ``starts`` starts, then the reflected cross-seeding."""
    N, tau = st["N"], st["tau"]
    cons_of, pair, normal = (theorem2_branches if theorem == 2 else theorem3_branches)(st)
    kw = dict(tol=TOL, max_iter=MAX_ITER, strategies=("random", "hop"), polish=4)
    branches = {}
    for d, cons in cons_of.items():
        branches[d] = (cons, multistart(cons, N, tau, starts=starts, **kw))
    if pair is not None:
        d0, dpi = pair
        c0 = normal
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
    for d in cons_of:
        res = branches[d][1]  # the random + hop search: its coverage is the one reported
        mapped = branches[d][2] if len(branches[d]) > 2 else None
        best = res if mapped is None or res.loss <= mapped.loss else mapped
        rows.append(
            dict(
                branch=d,
                loss=best.loss,
                converged=bool(best.converged),
                grad_norm=best.grad_norm,
                random_loss=res.loss,
                mapped_loss=None if mapped is None else mapped.loss,
                coverage=res.coverage.summary(max_basins=5),
            )
        )
    keep = {k: v for k, v in st.items() if k not in ("deltas", "configurations")}
    return dict(setting=keep, branches=rows)


def markdown(results: list[dict], theorem: int) -> str:
    """One table row per branch: setting, branch, L* at 256+ starts, the check's own L*, how
    far it moved, the margin to the first branch (Delta = 0 / claimed), coverage."""
    lines = [
        "| setting | branch | L* (rerun) | L* (check) | moved | minus the first | "
        "starts (converged) | minima | at best | Good-Turing |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for res in results:
        st = res["setting"]
        label = f"h={st['h']}, N={st['N']}, tau={st['tau']}"
        if "phi" in st:
            label += f", phi={math.degrees(st['phi']):.0f}"
        label += f", alpha={math.degrees(st['alpha']):.0f}"
        first = res["branches"][0]["loss"]
        for b in res["branches"]:
            c = b["coverage"]
            key = b.get("branch", b.get("delta_deg"))  # (older runs stored delta_deg)
            old = res["check_profile"][str(key)]  # JSON object keys are strings
            branch = key if theorem == 3 else f"Delta {key:g}"
            lines.append(
                f"| {label} | {branch} | {b['loss']:.10f} | {old:.10f} | {b['loss'] - old:+.1e} "
                f"| {b['loss'] - first:+.2e} | {c['starts']} ({c['converged']}) | "
                f"{c['distinct_minima']} | {c['starts_at_best']} | {c['good_turing']:.3f} |"
            )
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--theorem", type=int, choices=(2, 3), default=2)
    p.add_argument("--starts", type=int, default=256)
    p.add_argument("--settings", default=None, help="indices into the FULL settings list")
    p.add_argument("--json")
    p.add_argument("--markdown", metavar="JSON", help="print the table of a saved run and stop")
    a = p.parse_args(argv)
    if a.markdown:
        print(markdown(json.loads(Path(a.markdown).read_text()), a.theorem))
        return 0
    if a.theorem == 2:
        settings = theorem2.FULL["finite_n"]
    else:
        settings = theorem3.FULL["subspace_cone"]
    idx = range(len(settings)) if a.settings is None else [int(i) for i in a.settings.split(",")]
    out = []
    for i in idx:
        st = settings[i]
        t = time.perf_counter()
        if a.theorem == 2:
            check = theorem2._finite_setting(st, theorem2.FULL)
            ref = {round(math.degrees(r["delta"]), 6): r["loss"] for r in check["profile"]}
        else:
            check = theorem3._subspace_cone(st, theorem3.FULL)
            ref = {name: r["loss"] for name, r in check["profile"].items()}
        res = rerun_setting(st, a.starts, a.theorem)
        res["check_profile"] = ref
        res["wall_s"] = time.perf_counter() - t
        out.append(res)
        L0 = res["branches"][0]["loss"]
        extra = f" phi={math.degrees(st['phi']):.0f} deg" if "phi" in st else ""
        print(
            f"theorem {a.theorem} setting {i}: h={st['h']} N={st['N']} tau={st['tau']}{extra} "
            f"alpha={math.degrees(st['alpha']):.0f} deg ({res['wall_s']:.0f} s)"
        )
        for b in res["branches"]:
            c = b["coverage"]
            old = ref[b["branch"]]
            print(
                f"  {b['branch']!s:>11}: L* {b['loss']:.10f} (check: {old:.10f}, "
                f"moved {b['loss'] - old:+.2e}), minus the first {b['loss'] - L0:+.3e}; "
                f"{c['starts']} starts, {c['converged']} converged, {c['distinct_minima']} "
                f"minima, {c['starts_at_best']} at best, Good-Turing {c['good_turing']:.3f}",
                flush=True,
            )
        if a.json:
            Path(a.json).write_text(json.dumps(out, indent=1, default=float) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
