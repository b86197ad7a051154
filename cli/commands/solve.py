"""``modgap solve``: minimise symmetric InfoNCE under a constraint and report the numbers.

Presentation only: the maths is in verify.constraints, verify.solvers, verify.certificates.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

from modgap.verify._validation import InputError

NAME = "solve"
HELP = (
    "minimise symmetric InfoNCE over N pairs of unit vectors in R^H under a constraint "
    "(batched multi-start Riemannian L-BFGS with tau continuation and basin hopping, "
    "coverage reported), optionally certified by the Gram relaxation"
)

_DEFAULT_STARTS = 256
_DEFAULT_STRATEGIES = "random,continuation,hop"

_CONSTRAINTS = ("none", "cone", "subspace", "subspace-cone")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options: --n --h --tau --constraint [--phi-deg] [--alpha-deg] [--seed] [--json] ..."""
    parser.add_argument("--n", type=int, required=True, help="number of pairs N")
    parser.add_argument("--h", type=int, required=True, help="ambient dimension H")
    parser.add_argument("--tau", type=float, required=True, help="temperature tau > 0")
    parser.add_argument("--constraint", choices=_CONSTRAINTS, required=True)
    parser.add_argument(
        "--phi-deg",
        type=float,
        help="subspace, subspace-cone: A and B are hyperplanes of R^H at this angle (degrees)",
    )
    parser.add_argument(
        "--alpha-deg",
        type=float,
        help="cone, subspace-cone: cap half-angle in degrees, in (0, 180]; centres variable",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="first seed; the starts use seed, seed+1, ..."
    )
    parser.add_argument(
        "--starts",
        type=int,
        default=_DEFAULT_STARTS,
        help=f"random starts (default {_DEFAULT_STARTS}; with the default strategies also "
        "starts/4 tau-continuation chains and 2 rounds of starts/8 basin hops, all batched: "
        "on the issue-12 cases this reaches the best known values)",
    )
    parser.add_argument(
        "--strategies",
        default=_DEFAULT_STRATEGIES,
        help="comma-separated search strategies of --method batched: random, continuation "
        "(solve at 4 tau, 2 tau, then tau), hop (perturb-and-resolve); "
        f"default {_DEFAULT_STRATEGIES}",
    )
    parser.add_argument(
        "--resolution",
        type=float,
        default=None,
        help="final losses within this belong to one local minimum (coverage; default 1e-7)",
    )
    parser.add_argument(
        "--method",
        choices=("batched", "lbfgs", "rgd", "torch"),
        default="batched",
        help="batched (default: the starts advanced together as float64 arrays), or one start at a "
        "time: lbfgs (numpy), rgd (reference), torch; the sequential methods run random "
        "starts only",
    )
    parser.add_argument(
        "--device",
        default=None,
        help="--method batched: 'cuda' runs it in torch on the GPU (default: numpy, CPU)",
    )
    parser.add_argument(
        "--polish",
        type=int,
        default=4,
        help="--method batched: refine this many of the lowest unconverged starts by face "
        "identification (caps) and Riemannian Newton (default 4; a few seconds each)",
    )
    parser.add_argument("--tol", type=float, default=1e-9, help="stationarity tolerance")
    parser.add_argument("--max-iter", type=int, default=None, help="iteration limit per start")
    parser.add_argument(
        "--certify",
        action="store_true",
        help="also solve the Gram relaxation (cvxpy, CLARABEL) for a lower bound; N <~ 40",
    )
    parser.add_argument("--json", metavar="OUT", help="write the numbers to this JSON file")


def _constraint(args):
    from modgap.verify.constraints import Cone, Subspace, SubspaceCone, Unconstrained

    uses_phi = args.constraint in ("subspace", "subspace-cone")
    uses_alpha = args.constraint in ("cone", "subspace-cone")
    if uses_phi and args.phi_deg is None:
        raise InputError(f"--constraint {args.constraint} needs --phi-deg")
    if uses_alpha and args.alpha_deg is None:
        raise InputError(f"--constraint {args.constraint} needs --alpha-deg")
    if not uses_phi and args.phi_deg is not None:
        raise InputError(f"--phi-deg is not used by --constraint {args.constraint}")
    if not uses_alpha and args.alpha_deg is not None:
        raise InputError(f"--alpha-deg is not used by --constraint {args.constraint}")
    phi = None if args.phi_deg is None else math.radians(args.phi_deg)
    alpha = None if args.alpha_deg is None else math.radians(args.alpha_deg)
    if phi is not None and not 0.0 <= phi <= math.pi / 2:
        raise InputError(f"--phi-deg must lie in [0, 90], got {args.phi_deg}")
    if alpha is not None and not 0.0 < alpha <= math.pi:
        raise InputError(f"--alpha-deg must lie in (0, 180], got {args.alpha_deg}")
    if args.constraint == "none":
        return Unconstrained(args.h)
    if args.constraint == "cone":
        return Cone(args.h, alpha)
    if args.constraint == "subspace":
        return Subspace.hyperplanes(args.h, phi)
    return SubspaceCone.hyperplanes(args.h, phi, alpha)


def _clean(value):
    """JSON-safe copy: NaN/inf -> None, numpy scalars -> Python numbers."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


#: temperatures outside this range are refused: below 1e-4 the logits x.y / tau exceed 1e4
#: and the loss (of size 2 / tau) keeps no digits for differences at the solver's
#: tolerance; above 1e4 every logit is within 1e-4 of 0 and the objective is flat to
#: rounding. Papers use 0.01 (CLIP) to 1.
TAU_RANGE = (1e-4, 1e4)


def _check_request(args: argparse.Namespace) -> None:
    """Every argument checked before any work: sizes, ranges, the output path, memory."""
    from modgap.verify.memory import check_memory, gram_certificate_bytes, solver_bytes

    if args.n < 2:
        raise InputError(f"--n must be >= 2 (pairs), got {args.n}")
    if args.h < 2:
        raise InputError(f"--h must be >= 2 (the sphere of R^1 is two points), got {args.h}")
    if args.constraint in ("subspace", "subspace-cone") and args.h < 3:
        raise InputError(
            f"--h must be >= 3 for --constraint {args.constraint}: each modality lives on "
            f"the unit sphere of a hyperplane of R^H, which for H = {args.h} is two points"
        )
    if not math.isfinite(args.tau) or not TAU_RANGE[0] <= args.tau <= TAU_RANGE[1]:
        raise InputError(
            f"--tau must lie in [{TAU_RANGE[0]:g}, {TAU_RANGE[1]:g}], got {args.tau:g} (outside "
            "it float64 cannot resolve the objective; see TAU_RANGE in modgap.commands.solve)"
        )
    for flag, value in (("--phi-deg", args.phi_deg), ("--alpha-deg", args.alpha_deg)):
        if value is not None and not math.isfinite(value):
            raise InputError(f"{flag} must be finite, got {value}")
    if not math.isfinite(args.tol) or args.tol <= 0:
        raise InputError(f"--tol must be a finite number > 0, got {args.tol}")
    if args.max_iter is not None and args.max_iter < 1:
        raise InputError(f"--max-iter must be >= 1, got {args.max_iter}")
    if args.starts < 1:
        raise InputError(f"--starts must be >= 1, got {args.starts}")
    if args.seed < 0:
        raise InputError(f"--seed must be >= 0, got {args.seed}")
    if args.json is not None:
        from modgap.verify.atomic import JSON_SUFFIXES, check_output_path

        check_output_path(args.json, "--json", suffixes=JSON_SUFFIXES)
    check_memory(
        solver_bytes(args.n, args.h),
        "--n" if args.n >= 4 * args.h else "--n or --h",
        f"solving N = {args.n}, H = {args.h}",
    )
    if args.certify:
        check_memory(
            gram_certificate_bytes(args.n),
            "--n",
            f"--certify (a {2 * args.n + 4} x {2 * args.n + 4} semidefinite relaxation)",
        )


def _search(args, constraint, seeds):
    """(best SolveResult, JSON record with its coverage) for the chosen method."""
    from modgap.verify.coverage import DEFAULT_RESOLUTION, coverage
    from modgap.verify.search import STRATEGIES, multistart
    from modgap.verify.solvers import solve

    resolution = DEFAULT_RESOLUTION if args.resolution is None else args.resolution
    if not (math.isfinite(resolution) and resolution > 0):
        raise InputError(f"--resolution must be a positive number, got {args.resolution}")
    names = tuple(s.strip() for s in args.strategies.split(",") if s.strip())
    bad = [s for s in names if s not in STRATEGIES or s == "mapped"]
    if bad or not names:
        raise InputError(
            f"--strategies: unknown {', '.join(bad) or '(none given)'}; "
            "choose from random, continuation, hop"
        )
    if args.polish < 0:
        raise InputError(f"--polish must be >= 0, got {args.polish}")
    if args.method != "batched":
        if names != ("random",) and args.strategies != _DEFAULT_STRATEGIES:
            raise InputError(f"--strategies needs --method batched (got --method {args.method})")
        res = solve(
            constraint,
            args.n,
            args.tau,
            seeds=seeds,
            method=args.method,
            tol=args.tol,
            max_iter=args.max_iter,
        )
        cov = coverage(
            [r.loss for r in res.per_start], [r.converged for r in res.per_start], resolution
        )
        record = res.summary()
        record["coverage"] = cov.summary()
        record["strategies"] = {"random": {"starts": len(seeds)}}
        return res, record
    ms = multistart(
        constraint,
        args.n,
        args.tau,
        starts=args.starts,
        strategies=names,
        seed=args.seed,
        tol=args.tol,
        max_iter=5000 if args.max_iter is None else args.max_iter,
        resolution=resolution,
        device=args.device,
        polish=args.polish,
    )
    record = ms.summary()
    record["per_start"] = [r._asdict() for r in ms.result.per_start]
    return ms.result, record


def run(args: argparse.Namespace) -> int:
    """Solve, optionally certify, and write/print the JSON record; returns 0."""
    _check_request(args)
    constraint = _constraint(args)
    seeds = tuple(range(args.seed, args.seed + args.starts))
    res, record = _search(args, constraint, seeds)
    record["seeds"] = list(seeds)
    record["phi_deg"] = args.phi_deg
    record["alpha_deg"] = args.alpha_deg
    record["certificate_bound"] = None
    record["certificate"] = None
    if args.certify:
        from modgap.verify.certificates import certify

        cert = certify(res, constraint, args.tau)
        record["certificate_bound"] = cert["bound"]
        record["certificate"] = cert
    text = json.dumps(_clean(record), indent=2, allow_nan=False) + "\n"
    if args.json:
        from modgap.verify.atomic import write_text

        write_text(args.json, text)
        flag = "converged" if res.converged else f"NOT converged ({res.message})"
        cov = record["coverage"]
        print(
            f"modgap solve: loss - 2 log N = {res.loss_shifted:.12g}, grad_norm = "
            f"{res.grad_norm:.3g}, {flag}; centre angle {res.observables().centre_text()}; "
            f"{cov['starts']} starts, {cov['distinct_minima']} minima, "
            f"{cov['starts_at_best']} at the best, Good-Turing {cov['good_turing']:.3f}; "
            f"wrote {args.json}",
            file=sys.stdout,
        )
    else:
        sys.stdout.write(text)
    return 0
