"""The IMS-enforced family of Theorem 4 (x_i . a = y_i . b = s_i for fixed heights s_i) and
its minimisation (numerics only; the verdict is theorems.theorem4's reading finite_n_ims).

x_i = r_i u_i + s_i a, y_i = r_i v_i + s_i b with r_i = sqrt(1 - s_i^2) and u_i, v_i unit
vectors of the shared space C = A ∩ B: the IMS assumption (docs/theory.md §2) enforced
exactly. Theorem 4 (Yi, Douady & Chen, arXiv 2510.03268) says the optimum agrees on C,
u_i = v_i.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import minimize

from modgap.verify.frames import SubspaceFrame
from modgap.verify.objective import infonce_and_grad
from modgap.verify.settings import GRAD_TOL

__all__ = ["ims_family_objective", "minimise_ims_family"]


def ims_family_objective(frame: SubspaceFrame, heights: np.ndarray, tau: float):
    """L_N on the IMS family x_i = r_i u_i + s_i a, y_i = r_i v_i + s_i b, r_i = sqrt(1 - s_i^2).

    u_i = w_i / |w_i|, v_i = z_i / |z_i| with w_i, z_i unnormalised coordinates in the basis
    QC of C; the parameter vector is z = (w_1..w_N, z_1..z_N) flattened. Returns
    (fun, embed): fun(z) = (L_N, dL/dz) -- the gradient of
    :func:`verify.objective.infonce_and_grad` pulled back by the chain rule
    (dL/dw = (I - u u^T) r QC^T dL/dx / |w|) -- and embed(z) = (U, V, |w|, |z|, X, Y).
    Source of the family: Theorem 4's premises, module docstring (reading finite_n_ims).
    """
    heights = np.asarray(heights, dtype=float)
    n, c = heights.size, frame.QC.shape[1]
    a, b = frame.U[:, 0], frame.V[:, 0]
    r = np.sqrt(1.0 - heights**2)[:, None]
    QC = frame.QC

    def embed(z):
        W, Z = z[: n * c].reshape(n, c), z[n * c :].reshape(n, c)
        nw, nz = np.linalg.norm(W, axis=1), np.linalg.norm(Z, axis=1)
        U, V = W / nw[:, None], Z / nz[:, None]
        X = r * (U @ QC.T) + heights[:, None] * a
        Y = r * (V @ QC.T) + heights[:, None] * b
        return U, V, nw, nz, X, Y

    def fun(z):
        U, V, nw, nz, X, Y = embed(z)
        loss, gX, gY = infonce_and_grad(X, Y, tau)
        gU, gV = r * (gX @ QC), r * (gY @ QC)
        gU -= np.sum(gU * U, axis=1, keepdims=True) * U
        gV -= np.sum(gV * V, axis=1, keepdims=True) * V
        return loss, np.concatenate([(gU / nw[:, None]).ravel(), (gV / nz[:, None]).ravel()])

    return fun, embed


def minimise_ims_family(
    frame: SubspaceFrame, heights: np.ndarray, tau: float, seeds: tuple[int, ...]
) -> list[dict[str, Any]]:
    """Minimise :func:`ims_family_objective` with scipy L-BFGS-B from one random start per
    seed. Returns one record per seed, best (lowest loss) first; grad_norm is the
    Riemannian gradient norm in (u, v) (the pulled-back gradient times |w|, |z|).
    """
    n, c = heights.size, frame.QC.shape[1]
    fun, embed = ims_family_objective(frame, heights, tau)

    out = []
    for seed in seeds:
        z0 = np.random.default_rng(seed).standard_normal(2 * n * c)
        res = minimize(
            fun,
            z0,
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": 20000, "gtol": 1e-12, "ftol": 1e-15, "maxcor": 30},
        )
        U, V, nw, nz, X, Y = embed(res.x)
        _, g = fun(res.x)
        gn = float(
            np.linalg.norm(
                np.concatenate(
                    [
                        (g[: n * c].reshape(n, c) * nw[:, None]).ravel(),
                        (g[n * c :].reshape(n, c) * nz[:, None]).ravel(),
                    ]
                )
            )
        )
        out.append(
            {
                "seed": seed,
                "loss": float(res.fun),
                "grad_norm": gn,
                "converged": gn <= GRAD_TOL,
                "max_abs_u_minus_v": float(np.max(np.linalg.norm(U - V, axis=1))),
                "X": X,
                "Y": Y,
            }
        )
    out.sort(key=lambda d: d["loss"])
    return out
