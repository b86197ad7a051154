"""Shared setting of Theorem 4 and Corollaries 2-4: the subspace frame, the planted model,
the finite-N optimum under the subspace constraint, and the measurements made on it.

Source: L. Yi, R. Douady, C. Chen, arXiv 2510.03268 (docs/theory.md, sections 2-3).
Theorem 4 and Corollaries 2-4 all speak about the same objects: image embeddings in a
subspace A, text embeddings in a subspace B of the same dimension, the shared space
C = A ∩ B, and the principal pairs (u_j, v_j) of A and B with angles theta_j > 0 (for
two hyperplanes: one pair (a, b), a.b = cos phi). Every x in A is x = P_C x + sum_j s_j u_j,
every y in B is y = P_C y + sum_j t_j v_j.

The planted model of Corollary 2 (docs/theory.md §3) is x_i = p_i + sum_j s_ij u_j,
y_i = p_i + sum_j s_ij v_j with p_i in C and |p_i|^2 + |s_i|^2 = 1.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from modgap.verify._validation import InputError
from modgap.verify.centres import centre_angle_from_means
from modgap.verify.geometry import hyperplanes_with_angle, principal_vectors, shared_space

__all__ = [
    "SubspaceFrame",
    "subspace_frame",
    "planted_pairs",
    "planted_pair",
    "SubspaceOptimum",
    "subspace_optimum",
    "subspace_optimum_constraint",
    "shared_space_measurements",
    "best_aligned_partner",
    "random_hyperplane_frames",
]


@dataclass(frozen=True)
class SubspaceFrame:
    """Orthonormal description of two subspaces A, B (same dimension k) of R^h.

    QA, QB: bases (h x k); QC: basis of C = A ∩ B (h x c); U, V: the principal vectors of
    A and B with non-zero angle (h x m each, u_j . v_l = delta_jl cos theta_j, both
    orthogonal to C); angles: theta_j > 0, ascending (m,). For two hyperplanes m = 1,
    U[:, 0] = a, V[:, 0] = b and angles[0] = phi.
    """

    QA: np.ndarray
    QB: np.ndarray
    QC: np.ndarray
    U: np.ndarray
    V: np.ndarray
    angles: np.ndarray

    @property
    def h(self) -> int:
        """Ambient dimension."""
        return int(self.QA.shape[0])

    @property
    def phi(self) -> float:
        """Smallest non-zero principal angle (docs/theory.md §2: the angle of the hyperplanes)."""
        return float(self.angles[0]) if self.angles.size else 0.0


def subspace_frame(QA: np.ndarray, QB: np.ndarray, *, tol: float = 1e-10) -> SubspaceFrame:
    """The frame (C, principal pairs) of span(QA), span(QB) from their principal vectors.

    Principal angles theta_i = arccos sigma_i(QA^T QB) (Bjorck & Golub 1973, via
    :func:`verify.geometry.principal_vectors`); angles <= ``tol`` span C
    (:func:`verify.geometry.shared_space`), the others give the pairs (u_j, v_j).
    """
    theta, UA, VB = principal_vectors(QA, QB)
    if QA.shape[1] != QB.shape[1]:
        raise InputError("QA and QB must have the same dimension (hyperplanes, k-subspaces)")
    moving = theta > tol
    return SubspaceFrame(
        QA=np.asarray(QA, dtype=float),
        QB=np.asarray(QB, dtype=float),
        QC=shared_space(QA, QB, tol=tol),
        U=UA[:, moving],
        V=VB[:, moving],
        angles=theta[moving],
    )


def planted_pairs(
    frame: SubspaceFrame,
    n: int,
    seed: int | np.random.Generator | None = 0,
    *,
    n_pure: int = 0,
    bias: float = 0.0,
) -> dict[str, np.ndarray]:
    """n planted pairs x_i = p_i + sum_j s_ij u_j, y_i = p_i + sum_j s_ij v_j (Corollary 2).

    (p_i, s_i) is a uniform random unit vector of R^{c+m} (c = dim C), optionally pulled
    towards a fixed direction by ``bias`` >= 0 (so that the modality means, and hence the
    centres, are defined); the last ``n_pure`` rows get p_i = 0 (pure out-of-C pairs, the
    rows that Corollary 4 excludes). Returns dict X, Y (n x h), P (n x h, the common C part)
    and S (n x m, the heights).
    """
    rng = np.random.default_rng(seed)
    c, m = frame.QC.shape[1], frame.U.shape[1]
    if n_pure > n:
        raise InputError(f"n_pure = {n_pure} exceeds n = {n}")
    W = rng.standard_normal((n, c + m))
    if bias:
        W += bias * np.ones(c + m) / np.sqrt(c + m)
    W /= np.linalg.norm(W, axis=1, keepdims=True)
    if n_pure:
        if m == 0:
            raise InputError("pure out-of-C pairs need a non-zero principal angle")
        W[n - n_pure :, :c] = 0.0
        W[n - n_pure :] /= np.linalg.norm(W[n - n_pure :], axis=1, keepdims=True)
    P = W[:, :c] @ frame.QC.T
    S = W[:, c:]
    return {"X": P + S @ frame.U.T, "Y": P + S @ frame.V.T, "P": P, "S": S}


def planted_pair(frame: SubspaceFrame, s: float) -> dict[str, np.ndarray]:
    """One planted pair of Corollary 2 with height ``s``: x = p + s a, y = p + s b.

    p = sqrt(1 - s^2) q_1 with q_1 the first basis vector of C, a = U[:, 0], b = V[:, 0]
    (the first principal pair, a . b = cos theta_1); |x| = |y| = 1 and
    x . y = 1 - s^2 (1 - cos theta_1) (docs/theory.md §3, Corollary 2). ``s`` in [0, 1]; the
    frame needs dim C >= 1 and one non-zero principal angle. Returns dict x, y, p, a, b.
    """
    s = float(s)
    if not (np.isfinite(s) and 0.0 <= s <= 1.0):
        raise ValueError(f"s must be a height in [0, 1], got {s!r}")
    if frame.QC.shape[1] == 0 or frame.U.shape[1] == 0:
        raise ValueError(
            "the frame needs a shared space C (dim >= 1) and a non-zero principal angle, got "
            f"dim C = {frame.QC.shape[1]} and {frame.U.shape[1]} non-zero angles"
        )
    p = np.sqrt(1.0 - s**2) * frame.QC[:, 0]
    a, b = frame.U[:, 0], frame.V[:, 0]
    return {"x": p + s * a, "y": p + s * b, "p": p, "a": a, "b": b}


@dataclass(frozen=True)
class SubspaceOptimum:
    """A finite-N minimiser of L_N with X in S(A), Y in S(B) (hyperplanes at angle phi).

    parameters: h, n, tau, phi, geometry seed, solver seeds, method; result: the
    verify.solvers SolveResult (X, Y, loss, grad_norm, converged, message, loss_spread).
    """

    frame: SubspaceFrame
    parameters: dict[str, Any]
    result: Any = field(repr=False)

    @property
    def X(self) -> np.ndarray:
        return np.asarray(self.result.X, dtype=float)

    @property
    def Y(self) -> np.ndarray:
        return np.asarray(self.result.Y, dtype=float)

    def solver_summary(self) -> dict[str, Any]:
        """Loss, gradient norm, convergence flag, message and search coverage of the solve
        (the coverage only when the result has per-start records)."""
        r = self.result
        out = {
            "loss": float(r.loss),
            "grad_norm": float(r.grad_norm),
            "converged": bool(r.converged),
            "loss_spread_over_seeds": float(r.loss_spread),
            "n_iter": int(r.n_iter),
            "message": str(r.message),
        }
        if getattr(r, "per_start", None):
            out["coverage"] = r.coverage().summary(max_basins=3)
        return out


@lru_cache(maxsize=16)
def subspace_optimum_constraint(h: int, phi: float, geometry_seed: int = 1) -> Any:
    """The feasible set of :func:`subspace_optimum`: X in S(A)^N, Y in S(B)^N with A, B =
    :func:`verify.geometry.hyperplanes_with_angle` (h, phi, seed=geometry_seed)
    (verify.constraints.Subspace; the subspace constraint of Yi, Douady & Chen,
    arXiv 2510.03268, docs/theory.md §2)."""
    from modgap.verify.constraints import Subspace

    QA, QB = hyperplanes_with_angle(h, phi, seed=geometry_seed)
    return Subspace(QA, QB)


def subspace_optimum(
    h: int,
    n: int,
    tau: float,
    phi: float,
    geometry_seed: int = 1,
    seeds: tuple[int, ...] = (0, 1, 2),
) -> SubspaceOptimum:
    """Minimise L_N (symmetric InfoNCE, docs/theory.md §1) over X in S(A)^N, Y in S(B)^N.

    A, B: :func:`verify.geometry.hyperplanes_with_angle` (h, phi, seed=geometry_seed);
    solver: ``verify.solvers.solve(Subspace(QA, QB), n, tau, seeds=seeds, method="lbfgs",
    tol=1e-9)``, best of the seeds. Cached: Theorem 4 and Corollaries 2-4 measure the same
    optimum.
    """
    from modgap.verify.solvers import solve

    QA, QB = hyperplanes_with_angle(h, phi, seed=geometry_seed)
    constraint = subspace_optimum_constraint(h, phi, geometry_seed)
    result = solve(constraint, n, tau, seeds=seeds, method="lbfgs", tol=1e-9)
    params = {
        "h": h,
        "n": n,
        "tau": tau,
        "phi": phi,
        "geometry_seed": geometry_seed,
        "solver_seeds": list(seeds),
        "method": "lbfgs",
        "constraint": "Subspace (X in hyperplane A, Y in hyperplane B)",
    }
    return SubspaceOptimum(frame=subspace_frame(QA, QB), parameters=params, result=result)


def shared_space_measurements(frame: SubspaceFrame, X: np.ndarray, Y: np.ndarray) -> dict:
    """What Theorem 4 and its premises say, measured on paired rows X in A, Y in B.

    - agreement on C: max_i |P_C x_i - P_C y_i| (Theorem 4's conclusion);
    - heights s_i = x_i . u, t_i = y_i . v (hyperplanes: u = a, v = b) and the IMS residual
      with respect to (a, b): max_i |s_i - t_i|;
    - the centres c = mean / |mean| (None when undefined under the "configuration" centre
      rule of :mod:`modgap.verify.centres`, |mean| < 1e-3; docs/theory.md §2), their
      C-components |P_C c| (premise "centres orthogonal to C"), the IMS residual with
      respect to the centres max_i |x_i . c_x - y_i . c_y| (None if undefined), and
      the centre angle (radians, None if undefined).
    """
    QC = frame.QC
    PX, PY = (X @ QC) @ QC.T, (Y @ QC) @ QC.T
    S, T = X @ frame.U, Y @ frame.V
    mx, my = X.mean(axis=0), Y.mean(axis=0)
    rule = centre_angle_from_means(mx, my, X.shape[0], Y.shape[0], source="configuration")
    defined = rule.defined
    cx = mx / rule.mean_norm_x if defined else None
    cy = my / rule.mean_norm_y if defined else None
    out = {
        "max_abs_PCx_minus_PCy": float(np.max(np.linalg.norm(PX - PY, axis=1))),
        "ims_residual_wrt_a_b": float(np.max(np.abs(S - T))) if S.size else 0.0,
        "max_abs_height": float(np.max(np.abs(S))) if S.size else 0.0,
        "norm_mean_x": rule.mean_norm_x,
        "norm_mean_y": rule.mean_norm_y,
        "centres_defined": defined,
        "centre_x_C_component": None if cx is None else float(np.linalg.norm(QC.T @ cx)),
        "centre_y_C_component": None if cy is None else float(np.linalg.norm(QC.T @ cy)),
        "ims_residual_wrt_centres": (float(np.max(np.abs(X @ cx - Y @ cy))) if defined else None),
        "centre_angle": rule.angle,
    }
    return out


def best_aligned_partner(frame: SubspaceFrame, X: np.ndarray) -> np.ndarray:
    """y'_i = P_B x_i / |P_B x_i|: the unit vector of B closest to x_i (largest x_i . y).

    |P_B x|^2 = 1 - s^2 sin^2 phi > 0 for unit x in A (phi < pi/2), so it is always
    defined. A feasible partner that does NOT agree with x on C when s != 0: the scale of
    a violation of Theorem 4, and the control of Corollary 2.
    """
    Yb = (X @ frame.QB) @ frame.QB.T
    return Yb / np.linalg.norm(Yb, axis=1, keepdims=True)


def random_hyperplane_frames(
    rng: np.random.Generator, count: int, h_max: int
) -> Iterator[tuple[int, float, int, SubspaceFrame]]:
    """``count`` random hyperplane pairs: h uniform in [3, h_max], phi uniform in
    [0.05, pi/2 - 0.05], a random geometry seed; yields (h, phi, seed, frame)."""
    for _ in range(count):
        h = int(rng.integers(3, h_max + 1))
        phi = float(rng.uniform(0.05, np.pi / 2 - 0.05))
        seed = int(rng.integers(2**31))
        yield h, phi, seed, subspace_frame(*hyperplanes_with_angle(h, phi, seed=seed))
