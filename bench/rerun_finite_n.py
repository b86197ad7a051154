"""Rerun of the full-mode finite-N verdicts with >= 256 starts per branch (issue 12, item 5).

Not a test. Every branch is searched by :func:`modgap.verify.search.multistart`:
``--starts`` i.i.d. random starts plus two rounds of ``starts // 8`` basin hops around the
best (batched, 6000 iterations per start, the check's own KKT tolerance), the 4 lowest
unconverged starts polished (face identification + Newton, where the dense Hessian fits).
Each branch is printed with its coverage (starts, converged, distinct minima, starts at the
best, Good-Turing estimate) next to the theorem check's own number from its own search, and
whether the verdict moved. Modes:

- ``--theorem 2``: every finite-N setting of ``theorem2.FULL`` (caps of half-angle alpha
  around fixed centres at angle Delta, ``theorem2.branch_constraints``), every Delta of its
  profile; Delta = 0 and Delta = pi are searched again from the reflection of each other's
  minima (the branch map y -> y - 2 (y.c) c), so neither is favoured.
- ``--theorem 3``: every subspace + cone setting of ``theorem3.FULL`` and each fixed-centre
  configuration (``theorem3.cone_branch_constraints``); claimed / antipodal_b reflected in b.
- ``--theorem 3s``: Theorem 3's subspace-only settings (``theorem3.subspace_constraint``;
  one branch each): best L_N and the observables the verdict compares with phi at the best
  point (``theorem3.subspace_only_observables``), the verdict by ``subspace_only_status``.
- ``--theorem 1``: Theorem 1's finite-N sequence, one branch per (h, tau, N)
  (``theorem1.finite_n_constraint``): L_N - 2 log N - B and the alignment at the best point,
  the verdict by ``theorem1.assess_sequence`` over the Ns rerun.
- ``--theorem 4``: Theorem 4's IMS family (``theorem4.ims_family``, a FeasibleSet): best L_N,
  max |P_C x - P_C y| at the best and max |u - v| over every distinct minimum found, the
  verdict by
  the check's rule (outcome.decide(worst <= AGREE_TOL, converged)).
- ``--corollary 2 3 4``: the finite-N subspace optima the corollaries (and Theorem 4's
  ``finite_n`` reading) measure (``verify.frames.subspace_optimum``; settings
  ``theorem4.FULL_SETTINGS`` then ``corollary2.SCOPE_FULL``; constraint
  ``verify.frames.subspace_optimum_constraint``). The verdicts are recomputed by each
  module's own ``check(quick=False)`` with its optimum replaced by the rerun's best point
  (settings not rerun keep the check's point), and compared with the unpatched check.

One thread. Usage:
    python bench/rerun_finite_n.py --theorem 3s [--starts 256] [--settings 0,1] [--json OUT]
    python bench/rerun_finite_n.py --corollary 2 3 4 --settings 0,2,3 --json OUT
    python bench/rerun_finite_n.py --theorem 1 --markdown OUT.json
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

from modgap.theorems import (  # noqa: E402
    corollary2,
    corollary3,
    corollary4,
    theorem1,
    theorem2,
    theorem3,
    theorem4,
)
from modgap.theorems.outcome import decide  # noqa: E402
from modgap.verify import frames, population  # noqa: E402
from modgap.verify.ims import minimise_ims_family  # noqa: E402
from modgap.verify.observables import gap_observables  # noqa: E402
from modgap.verify.search import multistart, reflection  # noqa: E402
from modgap.verify.settings import AGREE_TOL, GRAD_TOL, OUT_OF_C  # noqa: E402

TOL, MAX_ITER = 1e-7, 6000
#: The KKT tolerance of each single-branch check (its own solve's tol).
SINGLE_TOL = {"1": 1e-7, "3s": 1e-7, "4": 1e-9, "c": 1e-9}
COROLLARIES = {2: corollary2, 3: corollary3, 4: corollary4}


def search(cons, N: int, tau: float, starts: int, tol: float = TOL, **kw):
    """The rerun's search on one branch: random + hop starts, 4 polished (module docstring)."""
    opts = dict(tol=tol, max_iter=MAX_ITER, strategies=("random", "hop"), polish=4)
    return multistart(cons, N, tau, starts=starts, **dict(opts, **kw))


# ------------------------------------------------------------ branch comparisons (2, 3)


def theorem2_branches(st: dict) -> tuple[dict, tuple | None, np.ndarray]:
    """{label: constraint} over the Delta profile, the reflected pair, the mirror normal."""
    cons = {round(math.degrees(d), 6): c for d, c in theorem2.branch_constraints(st).items()}
    d0, dpi = st["deltas"][0], st["deltas"][-1]
    pair = (0.0, 180.0) if d0 == 0.0 and dpi == math.pi else None
    return cons, pair, np.eye(st["h"])[0]


def theorem3_branches(st: dict) -> tuple[dict, tuple | None, np.ndarray]:
    """{configuration: constraint}, the reflected pair (claimed, antipodal_b), b."""
    cons = theorem3.cone_branch_constraints(st)
    pair = ("claimed", "antipodal_b")
    pair = pair if all(p in cons for p in pair) else None
    return cons, pair, population.subspace_frame(st["h"], st["phi"])["b"]


def rerun_setting(st: dict, starts: int, theorem: str) -> dict:
    """Every branch of one setting at ``starts`` starts, then the reflected cross-seeding."""
    N, tau = st["N"], st["tau"]
    cons_of, pair, normal = (theorem2_branches if theorem == "2" else theorem3_branches)(st)
    branches = {d: (cons, search(cons, N, tau, starts)) for d, cons in cons_of.items()}
    if pair is not None:
        d0, dpi = pair
        first = {d: branches[d][1] for d in (d0, dpi)}
        for d, other in ((d0, dpi), (dpi, d0)):
            cons = branches[d][0]
            mapped = search(
                cons,
                N,
                tau,
                starts,
                mapped=[(first[other].minima, reflection(normal, "y"))],
                strategies=("mapped",),
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


def run_branch_comparison(theorem: str, idx, starts: int, out: list, save) -> None:
    """--theorem 2 / 3: each setting's branches, the check's own profile next to them."""
    settings = theorem2.FULL["finite_n"] if theorem == "2" else theorem3.FULL["subspace_cone"]
    for i in idx or range(len(settings)):
        st = settings[i]
        t = time.perf_counter()
        if theorem == "2":
            check = theorem2.finite_setting(st, theorem2.FULL)
            ref = {round(math.degrees(r["delta"]), 6): r["loss"] for r in check["profile"]}
        else:
            check = theorem3.subspace_cone_setting(st, theorem3.FULL)
            ref = {name: r["loss"] for name, r in check["profile"].items()}
        res = rerun_setting(st, starts, theorem)
        res["check_profile"] = ref
        res["wall_s"] = time.perf_counter() - t
        out.append(res)
        L0 = res["branches"][0]["loss"]
        extra = f" phi={math.degrees(st['phi']):.0f} deg" if "phi" in st else ""
        print(
            f"theorem {theorem} setting {i}: h={st['h']} N={st['N']} tau={st['tau']}{extra} "
            f"alpha={math.degrees(st['alpha']):.0f} deg ({res['wall_s']:.0f} s)"
        )
        for b in res["branches"]:
            print(
                f"  {b['branch']!s:>11}: L* {b['loss']:.10f} (check: {ref[b['branch']]:.10f}, "
                f"moved {b['loss'] - ref[b['branch']]:+.2e}), minus the first "
                f"{b['loss'] - L0:+.3e}; {coverage_text(b['coverage'])}",
                flush=True,
            )
        save()


# ------------------------------------------------------------ single-branch reruns


def coverage_text(c: dict) -> str:
    """starts, converged, distinct minima, starts at the best, Good-Turing."""
    return (
        f"{c['starts']} starts, {c['converged']} converged, {c['distinct_minima']} minima, "
        f"{c['starts_at_best']} at best, Good-Turing {c['good_turing']:.3f}"
    )


def rerun_row(res) -> dict:
    """The rerun's best point of one branch: loss, KKT residual, convergence, coverage, and
    the best value per strategy."""
    return dict(
        loss=float(res.loss),
        grad_norm=float(res.grad_norm),
        converged=bool(res.converged),
        coverage=res.coverage.summary(max_basins=5),
        strategies=res.strategies,
        best_strategy=res.best_strategy,
    )


def theorem1_units() -> list[dict]:
    """One unit per (h, tau, N) of theorem1.FULL's finite-N sequences."""
    return [
        dict(h=st["h"], tau=st["tau"], N=N) for st in theorem1.FULL["finite_n"] for N in st["Ns"]
    ]


def theorem1_unit(u: dict, starts: int) -> dict:
    h, tau, N = u["h"], u["tau"], u["N"]
    B = population.theorem1_bound(h, tau)
    check = theorem1.solve_sequence(h, tau, [N], theorem1.FULL["seeds"])[0]
    check["loss"] = check["loss_shifted"] + 2.0 * math.log(N)
    res = search(theorem1.finite_n_constraint(h), N, tau, starts, SINGLE_TOL["1"])
    obs = gap_observables(res.X, res.Y, source="configuration").to_dict()
    rerun = dict(rerun_row(res), gap=float(res.loss_shifted) - B, **obs)
    return dict(setting=u, check=check, rerun=rerun)


def theorem3s_unit(st: dict, starts: int) -> dict:
    check = theorem3.subspace_only_setting(st, theorem3.FULL["seeds"])
    check["loss"] = check["loss_shifted"] + 2.0 * math.log(st["N"])
    res = search(theorem3.subspace_constraint(st), st["N"], st["tau"], starts, SINGLE_TOL["3s"])
    rerun = dict(rerun_row(res), **theorem3.subspace_only_observables(st, res.X, res.Y))
    return dict(setting=st, check=check, rerun=rerun)


def _u_minus_v(family, X, Y) -> float:
    U, V = family.lift(X, Y)
    return float(np.max(np.linalg.norm(U - V, axis=1)))


def theorem4_unit(s: tuple, starts: int) -> dict:
    h, n, tau, phi, lo, hi = s
    fam = theorem4.ims_family(s)
    minima = minimise_ims_family(fam.frame, fam.heights, tau, seeds=theorem4.IMS_SEEDS)
    best = minima[0]
    check = dict(
        loss=best["loss"],
        grad_norm=best["grad_norm"],
        converged=best["converged"],
        max_abs_PCx_minus_PCy=frames.shared_space_measurements(fam.frame, best["X"], best["Y"])[
            "max_abs_PCx_minus_PCy"
        ],
        max_u_minus_v_any_minimum=max(m["max_abs_u_minus_v"] for m in minima),
    )
    res = search(fam, n, tau, starts, SINGLE_TOL["4"], keep=10**6)  # every basin found
    rerun = dict(
        rerun_row(res),
        converged=bool(res.converged and res.grad_norm <= GRAD_TOL),
        max_abs_PCx_minus_PCy=frames.shared_space_measurements(fam.frame, res.X, res.Y)[
            "max_abs_PCx_minus_PCy"
        ],
        max_u_minus_v_any_minimum=max(_u_minus_v(fam, m["X"], m["Y"]) for m in res.minima),
        kept_minima=len(res.minima),
    )
    setting = dict(h=h, N=n, tau=tau, phi=phi, heights=[lo, hi])
    return dict(setting=setting, check=check, rerun=rerun)


def corollary_units() -> list[tuple]:
    """theorem4.FULL_SETTINGS (the finite_n optima) then corollary2.SCOPE_FULL."""
    return [*theorem4.FULL_SETTINGS, *corollary2.SCOPE_FULL]


def subspace_point(frame, X: np.ndarray, Y: np.ndarray, phi: float) -> dict:
    """What the corollaries' verdicts read off a point of the subspace optimum: agreement on C
    (Theorem 4, Corollaries 3, 4), pairs out of C and Corollary 2's formula error, the
    smallest pair cosine, the heights, whether the centres are defined."""
    m = frames.shared_space_measurements(frame, X, Y)
    s = X @ frame.U[:, 0]
    cos = np.sum(X * Y, axis=1)
    return dict(
        max_abs_PCx_minus_PCy=m["max_abs_PCx_minus_PCy"],
        n_pairs_out_of_C=int(np.count_nonzero(np.abs(s) > OUT_OF_C)),
        formula_error=float(np.max(np.abs(cos - corollary2.pair_cosine_formula(s, phi)))),
        min_pair_cosine=float(np.min(cos)),
        max_abs_height=float(max(np.max(np.abs(X @ frame.U)), np.max(np.abs(Y @ frame.V)))),
        centres_defined=m["centres_defined"],
        centre_x_C_component=m["centre_x_C_component"],
    )


def corollary_unit(s: tuple, starts: int, store: dict) -> dict:
    h, n, tau, phi = s
    opt = frames.subspace_optimum(h, n, tau, phi)
    check = dict(opt.solver_summary(), **subspace_point(opt.frame, opt.X, opt.Y, phi))
    res = search(frames.subspace_optimum_constraint(h, phi), n, tau, starts, SINGLE_TOL["c"])
    store[s] = frames.SubspaceOptimum(
        frame=opt.frame,
        parameters=dict(opt.parameters, solver_seeds=f"rerun: multistart, {starts} + hops"),
        result=res.result,
    )
    rerun = dict(rerun_row(res), **subspace_point(opt.frame, res.X, res.Y, phi))
    return dict(setting=dict(h=h, N=n, tau=tau, phi=phi), check=check, rerun=rerun)


def print_unit(mode: str, i: int, r: dict) -> None:
    c, n = r["check"], r["rerun"]
    print(
        f"{mode} setting {i}: {r['setting']} ({r['wall_s']:.0f} s)\n"
        f"  L* {n['loss']:.10f} (check: {c['loss']:.10f}, moved {n['loss'] - c['loss']:+.2e}); "
        f"converged {n['converged']} (|g| {n['grad_norm']:.1e}; check {c['converged']}); "
        f"{coverage_text(n['coverage'])}\n  {unit_extra(mode, r)}",
        flush=True,
    )


def unit_extra(mode: str, r: dict) -> str:
    """The verdict inputs at the two best points (rerun / check)."""
    c, n = r["check"], r["rerun"]
    if mode == "1":
        return (
            f"gap {n['gap']:.3e} / {c['gap']:.3e}; max pair angle {n['pair_angle_max']:.1e} / "
            f"{c['pair_angle_max']:.1e}; centroid distance {n['centroid_distance']:.1e} / "
            f"{c['centroid_distance']:.1e}"
        )
    if mode == "3s":
        ca = [_angle(x["centre_angle"]) for x in (n, c)]
        return (
            f"centre angle {ca[0]} / {ca[1]}; mean norms {n['mean_norm_x']:.1e}, "
            f"{n['mean_norm_y']:.1e} / {c['mean_norm_x']:.1e}, {c['mean_norm_y']:.1e}; max pair "
            f"angle {n['pair_angle_max']:.4f} / {c['pair_angle_max']:.4f}"
        )
    if mode == "4":
        return (
            f"max |P_C x - P_C y| {n['max_abs_PCx_minus_PCy']:.1e} / "
            f"{c['max_abs_PCx_minus_PCy']:.1e}; max |u - v| over the distinct minima "
            f"{n['max_u_minus_v_any_minimum']:.1e} / {c['max_u_minus_v_any_minimum']:.1e}"
        )
    return (
        f"max |P_C x - P_C y| {n['max_abs_PCx_minus_PCy']:.1e} / {c['max_abs_PCx_minus_PCy']:.1e};"
        f" pairs out of C {n['n_pairs_out_of_C']} / {c['n_pairs_out_of_C']}; formula error "
        f"{n['formula_error']:.1e} / {c['formula_error']:.1e}; min pair cosine "
        f"{n['min_pair_cosine']:.6f} / {c['min_pair_cosine']:.6f}; max height "
        f"{n['max_abs_height']:.1e} / {c['max_abs_height']:.1e}"
    )


def _angle(a) -> str:
    return "undefined" if a is None else f"{a:.4f}"


def single_verdicts(mode: str, units: list[dict], modules=()) -> dict:
    """The check's verdict rule on the check's points and on the rerun's (over the settings
    rerun)."""
    if mode == "1":
        out = {}
        for st in theorem1.FULL["finite_n"]:
            rs = [
                u for u in units if (u["setting"]["h"], u["setting"]["tau"]) == (st["h"], st["tau"])
            ]
            if not rs:
                continue
            seq = dict(st, Ns=[u["setting"]["N"] for u in rs])
            holds = {
                k: theorem1.assess_sequence(seq, [u[k] for u in rs])["holds"]
                for k in ("check", "rerun")
            }
            out[f"h={st['h']}, tau={st['tau']}, N={seq['Ns']}"] = holds
        return out
    if mode == "3s":
        return {
            k: theorem3.subspace_only_status(
                [dict(u[k], setting=u["setting"]) for u in units]
            ).value
            for k in ("check", "rerun")
        }
    if mode == "4":
        return {
            k: decide(
                max(u[k]["max_abs_PCx_minus_PCy"] for u in units) <= AGREE_TOL,
                all(u[k]["converged"] for u in units),
            ).value
            for k in ("check", "rerun")
        }
    raise ValueError(mode)


def corollary_verdicts(names, store: dict) -> dict:
    """Each module's check(quick=False) as it is and with its subspace optimum replaced by the
    rerun's best point (where rerun); the finite-N verdicts side by side."""
    mods = [("theorem4", theorem4)] + [(f"corollary{k}", COROLLARIES[k]) for k in names]
    original = frames.subspace_optimum

    def rerun_optimum(h, n, tau, phi, *a, **k):
        return store.get((h, n, tau, phi)) or original(h, n, tau, phi, *a, **k)

    out = {}
    for name, mod in mods:
        before = mod.check(False)
        mod.subspace_optimum = rerun_optimum
        try:
            after = mod.check(False)
        finally:
            mod.subspace_optimum = original
        out[name] = [
            dict(
                reading=b.reading,
                claim=b.claim[:90],
                negative_control=b.negative_control,
                check=b.status.value,
                rerun=a.status.value,
            )
            for b, a in zip(before, after, strict=True)
            if b.reading.startswith("finite_n") and "ims" not in b.reading
        ]
    return out


def markdown_single(res: dict, mode: str) -> str:
    """One row per setting: L* rerun / check, moved, coverage, the verdict inputs."""
    lines = [
        "| setting | L* (rerun) | L* (check) | moved | starts (converged) | minima | at best | "
        "Good-Turing | at the best (rerun / check) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in res["units"]:
        st, n, c = r["setting"], r["rerun"], r["check"]
        label = ", ".join(
            f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in st.items()
        )
        cov = n["coverage"]
        lines.append(
            f"| {label} | {n['loss']:.10f} | {c['loss']:.10f} | {n['loss'] - c['loss']:+.1e} | "
            f"{cov['starts']} ({cov['converged']}) | {cov['distinct_minima']} | "
            f"{cov['starts_at_best']} | {cov['good_turing']:.3f} | "
            + unit_extra(mode, r).replace("|", "\\|")
            + " |"
        )
    return "\n".join(lines)


def markdown(results: list[dict], theorem: str) -> str:
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
            branch = key if theorem == "3" else f"Delta {key:g}"
            lines.append(
                f"| {label} | {branch} | {b['loss']:.10f} | {old:.10f} | {b['loss'] - old:+.1e} "
                f"| {b['loss'] - first:+.2e} | {c['starts']} ({c['converged']}) | "
                f"{c['distinct_minima']} | {c['starts_at_best']} | {c['good_turing']:.3f} |"
            )
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--theorem", choices=("1", "2", "3", "3s", "4"), default="2")
    p.add_argument(
        "--corollary", type=int, nargs="+", choices=(2, 3, 4), help="rerun the corollaries' optima"
    )
    p.add_argument("--starts", type=int, default=256)
    p.add_argument("--settings", default=None, help="indices into the mode's settings list")
    p.add_argument("--threads", type=int, default=1, help="(read before numpy is imported)")
    p.add_argument("--json")
    p.add_argument("--markdown", metavar="JSON", help="print the table of a saved run and stop")
    a = p.parse_args(argv)
    mode = "c" if a.corollary else a.theorem
    if a.markdown:
        saved = json.loads(Path(a.markdown).read_text())
        print(markdown(saved, mode) if isinstance(saved, list) else markdown_single(saved, mode))
        if isinstance(saved, dict):
            print("\nverdicts (check -> rerun):", json.dumps(saved["verdicts"], indent=1))
        return 0
    idx = None if a.settings is None else [int(i) for i in a.settings.split(",")]
    t0 = time.perf_counter()

    def save(obj) -> None:
        if a.json:
            Path(a.json).write_text(json.dumps(obj, indent=1, default=float) + "\n")

    if mode in ("2", "3"):
        out: list = []
        run_branch_comparison(mode, idx, a.starts, out, lambda: save(out))
        return 0
    settings = {
        "1": theorem1_units,
        "3s": lambda: theorem3.FULL["subspace"],
        "4": lambda: theorem4.FULL_IMS,
        "c": corollary_units,
    }[mode]()
    store: dict = {}
    run = {
        "1": theorem1_unit,
        "3s": theorem3s_unit,
        "4": theorem4_unit,
        "c": lambda s, k: corollary_unit(s, k, store),
    }[mode]
    doc = dict(mode=mode, starts=a.starts, settings_rerun=idx, units=[])
    for i in range(len(settings)) if idx is None else idx:
        t = time.perf_counter()
        r = run(settings[i], a.starts)
        r["index"], r["wall_s"] = i, time.perf_counter() - t
        doc["units"].append(r)
        print_unit(mode, i, r)
        save(doc)
    if mode == "c":
        doc["verdicts"] = corollary_verdicts(a.corollary, store)
    else:
        doc["verdicts"] = single_verdicts(mode, doc["units"])
    doc["wall_s"] = time.perf_counter() - t0
    print("verdicts (check -> rerun):", json.dumps(doc["verdicts"], indent=1), flush=True)
    save(doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
