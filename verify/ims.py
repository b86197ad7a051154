"""The IMS-enforced family of Theorem 4 (x_i . a = y_i . b = s_i for fixed heights s_i) and
its minimisation (numerics only; the verdict is theorems.theorem4's reading finite_n_ims).

x_i = r_i u_i + s_i a, y_i = r_i v_i + s_i b with r_i = sqrt(1 - s_i^2) and u_i, v_i unit
vectors of the shared space C = A ∩ B: the IMS assumption (docs/theory.md §2) enforced
exactly. Theorem 4 (Yi, Douady & Chen, arXiv 2510.03268) says the optimum agrees on C,
u_i = v_i.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from modgap.verify._validation import InputError
from modgap.verify.frames import SubspaceFrame
from modgap.verify.settings import GRAD_TOL

__all__ = ["IMSFamily", "minimise_ims_family"]


class IMSFamily:
    """Theorem 4's IMS-enforced family as a feasible set of the common solvers
    (:class:`modgap.verify.constraints.FeasibleSet`).

    x_i = r_i QC u_i + s_i a, y_i = r_i QC v_i + s_i b, r_i = sqrt(1 - s_i^2), with the
    heights s_i fixed and u_i, v_i unit vectors of R^c (coordinates in the basis QC of the
    shared space C; a, b the unit normals of C inside A and B). The lift is the product of
    spheres (u, v) itself, so the first-order KKT residual is the Riemannian gradient norm
    on it: ``stationarity`` = |(I - u u^T) r QC^T g_x| over all rows (and the same for v).
    Paper: Yi, Douady & Chen, arXiv 2510.03268, Theorem 4 (IMS: x_i . c_x = y_i . c_y).
    """

    has_cap = False
    variable_centres = False

    def __init__(self, frame: SubspaceFrame, heights: Any):
        s = np.asarray(heights, dtype=np.float64).reshape(-1)
        if s.size == 0 or not np.all(np.isfinite(s)) or np.any(np.abs(s) >= 1.0):
            raise InputError("heights must be finite numbers in (-1, 1), one per pair")
        if frame.U.shape[1] != 1 or frame.QC.shape[1] < 1:
            raise InputError("the IMS family needs two hyperplanes with a shared space C")
        self.frame, self.heights = frame, s
        self.h = int(frame.QC.shape[0])
        self._c = int(frame.QC.shape[1])
        self._r = np.sqrt(1.0 - s**2)[:, None]
        self._a, self._b = frame.U[:, 0], frame.V[:, 0]

    def _n(self, n: int) -> None:
        if n != self.heights.size:
            raise InputError(f"the family has {self.heights.size} pairs (heights), got n = {n}")

    def check_xy(self, X, Y, names=("X", "Y")):
        X, Y = np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64)
        if X.shape != Y.shape or X.ndim != 2 or X.shape[1] != self.h:
            raise InputError(f"{names[0]}, {names[1]} must be paired (N, {self.h}) arrays")
        self._n(X.shape[0])
        return X, Y

    def resolve_centres(self, X, Y, centres):
        return None

    def block_shapes(self, n: int) -> list[tuple[int, int]]:
        self._n(n)
        return [(n, self._c), (n, self._c)]

    def random_params(self, n: int, rng):
        from .constraints import random_lift_point

        return random_lift_point(self.block_shapes(n), rng)

    def _embed(self, U, which: str):
        QC, shift = self.frame.QC, (self._a if which == "x" else self._b)
        if isinstance(U, np.ndarray):
            return self._r * (U @ QC.T) + self.heights[:, None] * shift
        import torch

        t = lambda A: torch.as_tensor(A, dtype=U.dtype, device=U.device)  # noqa: E731
        return t(self._r) * (U @ t(QC.T)) + t(self.heights[:, None] * shift)

    def forward(self, blocks):
        return self._embed(blocks[0], "x"), self._embed(blocks[1], "y"), (None,)

    def vjp(self, blocks, gX, gY, aux):
        QC = self.frame.QC
        if isinstance(gX, np.ndarray):
            return [self._r * (gX @ QC), self._r * (gY @ QC)]
        import torch

        r = torch.as_tensor(self._r, dtype=gX.dtype, device=gX.device)
        Q = torch.as_tensor(QC, dtype=gX.dtype, device=gX.device)
        return [r * (gX @ Q), r * (gY @ Q)]

    def lift(self, X, Y, centres=None):
        QC = self.frame.QC
        out = []
        for Z in (X, Y):
            W = np.asarray(Z, dtype=np.float64) @ QC
            norm = np.linalg.norm(W, axis=1, keepdims=True)
            if np.any(norm == 0):
                raise InputError("a row has no component in C: it is not in the IMS family")
            out.append(W / norm)
        return out

    def project(self, X, Y, centres=None):
        U, V = self.lift(X, Y)
        return self._embed(U, "x"), self._embed(V, "y")

    def stationarity(self, X, Y, gX, gY, centres=None, *, active_tol: float = 0.0) -> float:
        U, V = self.lift(X, Y)
        total = 0.0
        for A, g in zip((U, V), self.vjp([U, V], gX, gY, None), strict=True):
            t = g - np.sum(g * A, axis=1, keepdims=True) * A
            total += float(np.sum(t * t))
        return math.sqrt(total)

    def violation(self, X, Y, centres=None) -> float:
        X, Y = np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64)
        Xp, Yp = self.project(X, Y)
        return float(max(np.abs(X - Xp).max(), np.abs(Y - Yp).max()))

    def snap(self, X, Y, centres, tol: float = 1e-10):
        return X, Y

    def describe(self) -> dict:
        return {
            "kind": "ims-family",
            "h": self.h,
            "n": int(self.heights.size),
            "shared_dim": self._c,
            "phi": float(self.frame.angles[0]),
        }


def minimise_ims_family(
    frame: SubspaceFrame,
    heights: np.ndarray,
    tau: float,
    seeds: tuple[int, ...],
    *,
    tol: float = 1e-9,
) -> list[dict[str, Any]]:
    """Minimise L_N over :class:`IMSFamily` with the common solver
    (:func:`modgap.verify.solvers.solve`, Riemannian L-BFGS, the usual KKT residual and
    float64 final check), one start per seed. Returns one record per seed, best (lowest
    loss) first: seed, loss, grad_norm (KKT residual), converged (the solver's flag: KKT
    residual <= ``tol``), max |u_i - v_i| (Theorem 4's conclusion is u = v), X, Y."""
    from modgap.verify.solvers import solve

    family = IMSFamily(frame, heights)
    out = []
    for seed in seeds:
        res = solve(family, family.heights.size, tau, seeds=(seed,), method="lbfgs", tol=tol)
        U, V = family.lift(res.X, res.Y)
        out.append(
            {
                "seed": seed,
                "loss": float(res.loss),
                "grad_norm": float(res.grad_norm),
                "converged": bool(res.converged and res.grad_norm <= GRAD_TOL),
                "max_abs_u_minus_v": float(np.max(np.linalg.norm(U - V, axis=1))),
                "X": res.X,
                "Y": res.Y,
            }
        )
    out.sort(key=lambda d: d["loss"])
    return out
