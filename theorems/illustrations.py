"""Figure-data producers that are not theorem checks: the evidence the figures draw.

Each function runs the computations behind one figure of :mod:`modgap.figures` (solves,
population minimisers, the planted pair geometry, the analysis of real embeddings) by
calling :mod:`modgap.verify` and returns plain JSON-ready data: lists, floats, ints, bools,
None. Angles are in radians (degrees appear only when drawn). Centre angles follow the one
centre rule (:func:`modgap.verify.observables.gap_observables`): ``source="configuration"``
for solver optima and planted geometry, ``source="sample"`` for real embeddings and random
draws. :func:`modgap.theorems.evidence.compute` wraps each function into an evidence
document (registered there in ``_ILLUSTRATIONS``); nothing here decides a verdict and
nothing here adds numerics of its own.

The settings, seeds and grids are the ones the figures used when they still computed
their own data, so the pictures are unchanged, except fig4's quick N (16, was 32: its cap
solves were most of the quick figure evidence; docs/figures.md). Paper: Yi, Douady & Chen, arXiv
2510.03268 (Figs. 1-4 and 6; docs/theory.md).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from modgap.verify import population
from modgap.verify.alignment import SharedSpaceProjection
from modgap.verify.constraints import Cone, Subspace, SubspaceCone, Unconstrained
from modgap.verify.datasets import real_embeddings as load_real_embeddings
from modgap.verify.frames import planted_pair, subspace_frame
from modgap.verify.geometry import (
    cap_boundary,
    great_circle,
    hyperplanes_with_angle,
    normalize_rows,
    project_onto_subspace,
    rotation_onto,
    shared_space,
)
from modgap.verify.metrics import modality_principal_angles, singular_value_spectrum
from modgap.verify.observables import gap_observables
from modgap.verify.settings import CAP_LBFGS_MEMORY
from modgap.verify.similarity import cosine_densities, joint_pca_map
from modgap.verify.solvers import SolveResult, solve

__all__ = [
    "SPHERE_OPTIMA",
    "GAP_VS_PHI",
    "POPULATION_LANDSCAPE",
    "PAIR_GEOMETRY",
    "OTHER_MINIMUM_ANGLE",
    "MAP_POINTS",
    "sphere_optima",
    "pair_geometry",
    "gap_vs_phi",
    "population_landscape",
    "theorem3_phase",
    "real_embeddings",
]

#: Fig. 1: S^2 (h = 3), tau, cap half-angle alpha and plane angle phi (radians), the
#: solver's KKT tolerance and iteration cap; N and the cone's seeds depend on ``quick``.
SPHERE_OPTIMA: dict[str, Any] = {
    "h": 3,
    "tau": 0.2,
    "alpha": math.radians(45.0),
    "phi": math.radians(45.0),
    "tol": 1e-6,
    "max_iter": 3000,
    "quick": {"n": 32, "seeds": (0, 1, 2, 3)},
    "full": {"n": 48, "seeds": tuple(range(8))},
}
#: Fig. 1 (c): a start whose cap-centre angle differs from the best start's by more than
#: this (radians) reached another local minimum (counted in the figure).
OTHER_MINIMUM_ANGLE = math.radians(1.0)
#: Fig. 3 (left): planes of R^3 at angle phi, a pair of height s.
PAIR_GEOMETRY: dict[str, Any] = {"phi": math.radians(50.0), "s": 0.6}
#: Fig. 4: h, tau, cap half-angle, population kappa and quadrature, solver tolerance; the
#: phi grid (degrees, as drawn), N and seeds depend on ``quick``.
GAP_VS_PHI: dict[str, Any] = {
    "h": 4,
    "tau": 0.2,
    "alpha": math.radians(45.0),
    "kappa": 5.0,
    "tol": 1e-6,
    "max_iter": 3000,
    "population_nodes": 16,
    "population_grid": 7,
    # quick: N = 16 (> h, so not the simplex-in-C regime of N <= h - 1); the subspace + cone
    # solves cost 0.3 s per phi there against 2.3 s at N = 32, and at both N the best-found
    # centre angles are the claim's phi or its exact tie pi - phi (docs/figures.md)
    "quick": {"phis_deg": (20.0, 45.0, 70.0), "n": 16, "seeds": (0, 1)},
    "full": {
        "phis_deg": tuple(float(p) for p in range(10, 81, 10)),
        "n": 64,
        "seeds": (0, 1, 2, 3),
    },
}
#: Fig. 6: h, tau, kappa, the phis (degrees) of the panels, the minimiser's scan; the
#: (beta_x, beta_y) grid and the quadrature nodes depend on ``quick``.
POPULATION_LANDSCAPE: dict[str, Any] = {
    "h": 4,
    "tau": 0.2,
    "kappa": 5.0,
    "phis_deg": (30.0, 60.0),
    "minimiser_grid": 7,
    "quick": {"nx": 13, "ny": 25, "nodes": 16},
    "full": {"nx": 37, "ny": 73, "nodes": 32},
}
#: Fig. 2 (b): at most this many points per modality in the joint PCA map (evenly spaced
#: rows beyond that; every row counts in every other panel).
MAP_POINTS = 5000


def _rows(A: np.ndarray) -> list[list[float]]:
    return np.asarray(A, dtype=np.float64).tolist()


def _solved(res: SolveResult, QC: np.ndarray | None = None) -> dict[str, Any]:
    """Point, loss, convergence and gap observables ("configuration" rule) of a solve."""
    obs = (
        res.observables()
        if QC is None
        else gap_observables(res.X, res.Y, source="configuration", QC=QC)
    )
    return {
        "X": _rows(res.X),
        "Y": _rows(res.Y),
        "loss": float(res.loss),
        "grad_norm": float(res.grad_norm),
        "converged": bool(res.converged),
        "message": res.message,
        "seed": res.seed,
        "observables": obs.to_dict(),
    }


def _fixed(table: dict[str, Any], *keys: str) -> dict[str, Any]:
    """The fixed settings ``keys`` of a settings table, as recorded in the evidence."""
    return {k: table[k] for k in keys}


def _mode(table: dict[str, Any], quick: bool) -> dict[str, Any]:
    if not isinstance(quick, bool):
        raise TypeError(f"quick must be True or False, got {quick!r}")
    return table["quick" if quick else "full"]


def sphere_optima(quick: bool = True) -> dict[str, Any]:
    """Fig. 1's data: finite-N optima of L_N on S^2 under no, cone and subspace constraints.

    ``random_start``: a random feasible point of the cone constraint Cone(3, alpha)
    (seed 0) with the centres of its smallest enclosing caps and their boundary circles
    (observables under the "sample" rule: it is a random draw); ``unconstrained``:
    verify.solvers.solve(Unconstrained(3)) from 3 seeds (Theorem 1: x_i = y_i, centre
    undefined); ``cone``: one solve per seed with variable centres, the lowest loss kept
    with its cap centres and circles, and per start its loss and cap-centre angle
    (``other_minima``: starts whose cap-centre angle differs from the best one's by more
    than OTHER_MINIMUM_ANGLE; ``worst_other``: the highest-loss of them); ``subspace``:
    solve(Subspace.hyperplanes(3, phi)) from 3 seeds with the planes' great circles and
    the axis C = A ∩ B. quick: N = 32, 4 cone seeds; full: N = 48, 8 seeds. Theorems 1-3
    of arXiv 2510.03268 (Fig. 1).
    """
    s = SPHERE_OPTIMA
    m = _mode(s, quick)
    n, seeds = m["n"], tuple(m["seeds"])
    h, tau, alpha, phi = s["h"], s["tau"], s["alpha"], s["phi"]
    kw = {"tol": s["tol"], "max_iter": s["max_iter"]}
    cap_kw = {**kw, "memory": CAP_LBFGS_MEMORY}  # caps: settings.CAP_LBFGS_MEMORY pairs

    cone = Cone(h, alpha)
    X0, Y0 = cone.random_point(n, rng=0)
    c0 = cone.centres_for(X0, Y0)
    free = solve(Unconstrained(h), n, tau, seeds=seeds[:3], **kw)
    runs = [solve(cone, n, tau, seeds=(seed,), **cap_kw) for seed in seeds]
    best = min(runs, key=lambda r: r.loss)
    others = [
        r for r in runs if abs(r.cap_centre_angle - best.cap_centre_angle) > OTHER_MINIMUM_ANGLE
    ]
    worst = max(others, key=lambda r: r.loss) if others else None
    sub_c = Subspace.hyperplanes(h, phi)
    sub = solve(sub_c, n, tau, seeds=seeds[:3], **kw)
    C = shared_space(sub_c.QA, sub_c.QB)

    return {
        "settings": {
            **_fixed(s, "h", "tau", "alpha", "phi", "tol", "max_iter"),
            "n": n,
            "cone_seeds": list(seeds),
            "other_seeds": list(seeds[:3]),
            "other_minimum_angle": OTHER_MINIMUM_ANGLE,
        },
        "random_start": {
            "X": _rows(X0),
            "Y": _rows(Y0),
            "centres": [_rows(c) for c in c0],
            "cap_boundaries": [_rows(cap_boundary(c, alpha)) for c in c0],
            "observables": gap_observables(X0, Y0, source="sample").to_dict(),
        },
        "unconstrained": _solved(free),
        "cone": {
            **_solved(best),
            "centres": [_rows(c) for c in best.centres],
            "cap_boundaries": [_rows(cap_boundary(c, alpha)) for c in best.centres],
            "cap_centre_angle": best.cap_centre_angle,
            "starts": [
                {
                    "seed": r.seed,
                    "loss": float(r.loss),
                    "converged": bool(r.converged),
                    "cap_centre_angle": r.cap_centre_angle,
                }
                for r in runs
            ],
            "other_minima": len(others),
            "worst_other": None
            if worst is None
            else {
                "seed": worst.seed,
                "cap_centre_angle": worst.cap_centre_angle,
                "loss_above_best": float(worst.loss - best.loss),
            },
        },
        "subspace": {
            **_solved(sub, QC=C),
            "QA": _rows(sub_c.QA),
            "QB": _rows(sub_c.QB),
            "great_circles": [_rows(great_circle(sub_c.QA)), _rows(great_circle(sub_c.QB))],
            "shared_axis": _rows(C[:, 0]),
        },
    }


def pair_geometry() -> dict[str, Any]:
    """Fig. 3 (left)'s data: a non-centre pair under the subspace constraint on S^2.

    A, B = verify.geometry.hyperplanes_with_angle(3, phi) (planes of R^3), C = A ∩ B a line;
    the planted pair x = p + s a, y = p + s b of Corollary 2 (verify.frames.planted_pair:
    p in C, a in A and b in B orthogonal to C); the direct rotation R of A onto B
    (verify.geometry.rotation_onto, Corollary 3) and R x; the shared-space projections
    P_C x / |P_C x| and P_C y / |P_C y| (Corollary 4); the planes' great circles; the
    cosines x . y and (R x) . y. phi = 50 deg, s = 0.6 (PAIR_GEOMETRY). arXiv 2510.03268,
    Corollaries 2-4 and Fig. 3.
    """
    phi, s = PAIR_GEOMETRY["phi"], PAIR_GEOMETRY["s"]
    QA, QB = hyperplanes_with_angle(3, phi)
    frame = subspace_frame(QA, QB)
    pair = planted_pair(frame, s)
    x, y = pair["x"], pair["y"]
    R = rotation_onto(QA, QB)
    rx = R @ x
    ssp = normalize_rows(project_onto_subspace(np.vstack([x, y]), frame.QC))
    return {
        "phi": phi,
        "s": s,
        "QA": _rows(QA),
        "QB": _rows(QB),
        "QC": _rows(frame.QC),
        "shared_axis": _rows(frame.QC[:, 0]),
        "a": _rows(pair["a"]),
        "b": _rows(pair["b"]),
        "p": _rows(pair["p"]),
        "x": _rows(x),
        "y": _rows(y),
        "R": _rows(R),
        "Rx": _rows(rx),
        "ssp_x": _rows(ssp[0]),
        "ssp_y": _rows(ssp[1]),
        "great_circles": [_rows(great_circle(QA)), _rows(great_circle(QB))],
        "cos_xy": float(x @ y),
        "cos_Rx_y": float(rx @ y),
        "observables": gap_observables(
            x[None, :], y[None, :], source="configuration", QC=frame.QC
        ).to_dict(),
    }


def _finite(
    constraint: Subspace | SubspaceCone, n: int, tau: float, seeds: tuple, tol: float, max_iter: int
):
    """One solve per seed; the lowest loss is the best-found minimiser, measured in full
    (with C); the centre angles of the other starts show the other local minima."""
    memory = CAP_LBFGS_MEMORY if constraint.has_cap else 10  # settings.CAP_LBFGS_MEMORY
    runs = [
        solve(constraint, n, tau, seeds=(seed,), tol=tol, max_iter=max_iter, memory=memory)
        for seed in seeds
    ]
    best = min(runs, key=lambda r: r.loss)
    QC = shared_space(constraint.QA, constraint.QB)
    others = [r.observables().centre_angle for r in runs if r is not best]
    return {
        "observables": gap_observables(best.X, best.Y, source="configuration", QC=QC).to_dict(),
        "converged": bool(best.converged),
        "loss": float(best.loss),
        "seed": best.seed,
        "losses": [float(r.loss) for r in runs],
        "other_centre_angles": [a for a in others if a is not None],
        "other_centre_undefined": sum(a is None for a in others),
    }


def gap_vs_phi(quick: bool = True) -> dict[str, Any]:
    """Fig. 4's data: every gap observable of the best-found finite-N minimiser against phi.

    For each phi of the grid (degrees; quick: 20, 45, 70 with N = 16 and seeds (0, 1);
    full: 10, ..., 80 with N = 64 and seeds 0-3): ``subspace``: one solve per seed of
    Subspace.hyperplanes(h, phi); ``subspace_cone``: of SubspaceCone.hyperplanes(h, phi,
    alpha) (caps inside A and B, variable centres); each the best start's observables
    ("configuration" rule, with C), convergence, the other starts' centre angles;
    ``population``: verify.population.minimise_subspace(h, tau, kappa, phi) (Theorem 3's
    population reading: vMF(kappa) on the spheres of A and B, polar coupling), its
    minimiser, F values and centre angle. h = 4, tau = 0.2, alpha = 45 deg, kappa = 5.
    arXiv 2510.03268, Theorem 3.
    """
    s = GAP_VS_PHI
    m = _mode(s, quick)
    n, seeds = m["n"], tuple(m["seeds"])
    h, tau, alpha, kappa = s["h"], s["tau"], s["alpha"], s["kappa"]
    rows = []
    for phi_deg in m["phis_deg"]:
        phi = math.radians(phi_deg)
        pop = population.minimise_subspace(
            h, tau, kappa, phi, n=s["population_nodes"], n_grid=s["population_grid"]
        )
        rows.append(
            {
                "phi_deg": float(phi_deg),
                "phi": phi,
                "subspace": _finite(
                    Subspace.hyperplanes(h, phi), n, tau, seeds, s["tol"], s["max_iter"]
                ),
                "subspace_cone": _finite(
                    SubspaceCone.hyperplanes(h, phi, alpha), n, tau, seeds, s["tol"], s["max_iter"]
                ),
                "population": _population_minimum(pop),
            }
        )
    return {
        "settings": {
            **_fixed(s, "h", "tau", "alpha", "kappa", "tol", "max_iter"),
            **_fixed(s, "population_nodes", "population_grid"),
            "n": n,
            "seeds": list(seeds),
            "phis_deg": [float(p) for p in m["phis_deg"]],
        },
        "rows": rows,
    }


def _population_minimum(m: population.SubspaceMinimum) -> dict[str, Any]:
    return {
        "best": [float(b) for b in m.best],
        "F_best": float(m.F_best),
        "F_claimed": float(m.F_claimed),
        "F_in_c": float(m.F_in_c),
        "quad_error": float(m.quad_error),
        "centre_angle_best": float(m.centre_angle_best),
        "starts": m.starts,
        "parameters": m.parameters,
    }


def population_landscape(quick: bool = True) -> dict[str, Any]:
    """Fig. 6's data: the population objective F(beta_x, beta_y) under the subspace
    constraint, one panel per phi (30 and 60 deg).

    Per phi: the grid F (verify.population.subspace_objective_grid; rows beta_x in
    [-90, 90] deg, columns beta_y in [-180, 180] deg; quick: 13 x 25 with 16 quadrature
    nodes, full: 37 x 73 with 32), and verify.population.minimise_subspace with the same
    nodes: the numerical minimiser, F there, at the paper's claimed beta = 0 and with both
    centres in C (``F_in_c``), its centre angle and the quadrature error. h = 4,
    tau = 0.2, kappa = 5, polar coupling. arXiv 2510.03268, Theorem 3.
    """
    s = POPULATION_LANDSCAPE
    m = _mode(s, quick)
    h, tau, kappa = s["h"], s["tau"], s["kappa"]
    bx = np.linspace(-0.5 * math.pi, 0.5 * math.pi, m["nx"])
    by = np.linspace(-math.pi, math.pi, m["ny"])
    panels = []
    for phi_deg in s["phis_deg"]:
        phi = math.radians(phi_deg)
        F = population.subspace_objective_grid(h, tau, kappa, phi, bx, by, n=m["nodes"])
        mini = population.minimise_subspace(
            h, tau, kappa, phi, n=m["nodes"], n_grid=s["minimiser_grid"]
        )
        panels.append(
            {"phi_deg": float(phi_deg), "phi": phi, "F": _rows(F), **_population_minimum(mini)}
        )
    return {
        "settings": {
            **_fixed(s, "h", "tau", "kappa", "minimiser_grid"),
            "nodes": m["nodes"],
            "coupling": "polar",
        },
        "beta_x": bx.tolist(),
        "beta_y": by.tolist(),
        "panels": panels,
    }


def _spectrum(Z: np.ndarray) -> list[float]:
    return singular_value_spectrum(Z).tolist()


def real_embeddings(path: str | None = None) -> dict[str, Any]:
    """Figs. 2 and 3 (right)'s data: the modality gap and SSP on real paired embeddings.

    ``path``: None (the Liang et al. 2022 CLIP features when present, else the bundled
    demo), "demo", or a file (verify.datasets.real_embeddings). Returns the provenance
    ``label``, n and d; ``observables`` ("sample" centre rule); ``densities``: histogram
    densities of paired, image-image and text-text cosines (verify.similarity
    .cosine_densities); ``pca``: the joint 2-D PCA map (at most MAP_POINTS rows per
    modality, evenly spaced) and each axis's share of variance; ``spectra``: the
    covariance singular values of each modality (verify.metrics.singular_value_spectrum);
    ``principal_angles``: between the 99%-variance subspaces, ascending (radians);
    ``ssp``: verify.alignment.SharedSpaceProjection fitted with the paper's defaults,
    d_overlap and, when d_overlap > 0, the densities and observables after SSP.
    arXiv 2510.03268, Figs. 2 and 3; docs/theory.md §4.
    """
    X, Y, label = load_real_embeddings(path)
    n, d = X.shape
    px, py, explained = joint_pca_map(X, Y)
    keep = np.unique(np.linspace(0, n - 1, min(n, MAP_POINTS)).round().astype(int))
    ssp = SharedSpaceProjection().fit(X, Y)
    after: dict[str, Any] = {"d_overlap": int(ssp.d_overlap_)}
    if ssp.d_overlap_ > 0:
        Xs, Ys = ssp.transform(X, Y)
        after["densities"] = cosine_densities(Xs, Ys)
        after["observables"] = gap_observables(Xs, Ys, source="sample").to_dict()
    return {
        "path": None if path is None else str(path),
        "label": label,
        "n": int(n),
        "d": int(d),
        "observables": gap_observables(X, Y, source="sample").to_dict(),
        "densities": cosine_densities(X, Y),
        "pca": {
            "image": _rows(px[keep]),
            "text": _rows(py[keep]),
            "explained": explained.tolist(),
            "rows_drawn": int(keep.size),
        },
        "spectra": {"image": _spectrum(X), "text": _spectrum(Y)},
        "principal_angles": modality_principal_angles(X, Y, threshold=0.99).tolist(),
        "principal_angles_threshold": 0.99,
        "ssp": after,
    }


def theorem3_phase(quick: bool = True) -> dict[str, Any]:
    """Fig. 8's data: the critical temperature tau*(h, kappa, phi) of Theorem 3's population
    reading (verify.phase, swept by verify.sweep.phase_diagram): the quick grid (12 points)
    or the full one (1872 points, about 15-20 minutes on one core; docs/phase.md). Returns
    the sweep's result document (format, kind, settings, grid, points, checks)."""
    import tempfile

    from modgap.verify.sweep import load_result, phase_diagram

    with tempfile.TemporaryDirectory(prefix="modgap-phase-") as tmp:
        return load_result(phase_diagram(tmp, quick=quick))
