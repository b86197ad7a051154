"""Riemannian Newton refinement on the lift of a feasible set (small problems).

L-BFGS (verify.solvers, verify.batched) stalls on the flat, ill-conditioned valleys of the
small finite-N problems of Yi, Douady & Chen (arXiv 2510.03268; docs/theory.md §5(b)): issue 12
reports starts at the 5,000-iteration limit with KKT residuals 1e-6 to 1e-5, and on a cap
face (verify.faces) L-BFGS needs 5,000 iterations to go from 2e-4 to 2e-6. At these sizes
(P = a few hundred parameters) the Riemannian Hessian can be formed outright, and Newton's
method converges quadratically (Absil, Mahony & Sepulchre, Optimization Algorithms on Matrix
Manifolds, 2008, §6.2, Alg. 5; the Hessian of a product of spheres from any smooth
extension f_bar of f: Hess f(x)[v] = P_x(D grad f_bar(x)[v]) - (x . grad f_bar(x)) v per
row: Absil, Mahony & Trumpf, "An extrinsic look at the Riemannian Hessian", 2013, §4).

Here D grad f_bar[v] is a central difference of the analytic gradient (step ``fd_eps``)
along each vector of an orthonormal tangent basis (Householder per row), so each step
costs 2 T gradient evaluations (T = tangent dimension) and one T x T eigendecomposition.
The step is the damped "saddle-free" Newton direction -sum_i (u_i . g) / (|lambda_i| + mu) u_i
(eigenpairs of the symmetrised Hessian; |lambda| so that a saddle is never approached; the
zero modes of the symmetries, e.g. common rotations, and of the chart, |lambda| <= 1e-10
max |lambda|, are left out), with the Levenberg-Marquardt / trust-region update of mu on
the ratio rho of actual to predicted decrease (accept rho > 0.1; mu / 4 if rho > 0.75,
x 4 if rho < 0.25; Nocedal & Wright, Numerical Optimization, 2nd ed., Alg. 4.1). Where the
predicted decrease is below the rounding of L_N the step is accepted when it lowers the KKT
residual. Stops when :meth:`FeasibleSet.stationarity` <= tol.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._validation import InputError
from .constraints import FeasibleSet
from .objective import infonce_and_grad
from .solvers import loss_and_grad

__all__ = ["newton_refine", "NewtonResult"]


@dataclass
class NewtonResult:
    """Outcome of :func:`newton_refine`: the point, its loss and KKT residual, whether it
    met tol (converged) and why it stopped, the number of Newton steps and of gradient
    evaluations, and the residual after each step (history)."""

    X: np.ndarray
    Y: np.ndarray
    centres: tuple | None
    loss: float
    grad_norm: float
    converged: bool
    message: str
    steps: int
    n_fev: int
    history: list[float]


def _tangent_basis(u: np.ndarray) -> np.ndarray:
    """Orthonormal bases of the tangent spaces u_i-perp of unit rows u (m, d) -> (m, d, d-1):
    columns 2..d of the Householder reflection taking e_1 to u_i."""
    m, d = u.shape
    w = u.copy()
    w[:, 0] -= 1.0
    nw = np.linalg.norm(w, axis=1)
    H = np.broadcast_to(np.eye(d), (m, d, d)).copy()
    ok = nw > 1e-12
    w[ok] /= nw[ok, None]
    H[ok] -= 2.0 * w[ok, :, None] * w[ok, None, :]
    return H[:, :, 1:]


def newton_refine(
    constraint: FeasibleSet,
    n: int,
    tau: float,
    X: np.ndarray,
    Y: np.ndarray,
    centres=None,
    *,
    tol: float = 1e-9,
    max_steps: int = 30,
    fd_eps: float = 1e-6,
    max_params: int = 2000,
) -> NewtonResult:
    """Refine a feasible point of min L_N (docs/theory.md §1) by Riemannian Newton steps on the
    lift of ``constraint`` (see the module docstring). ``max_params`` bounds the size of the
    dense Hessian (ValueError beyond)."""
    shapes = constraint.block_shapes(n)
    P = sum(m * d for m, d in shapes)
    if P > max_params:
        raise InputError(f"newton_refine: {P} parameters exceed max_params = {max_params}")
    offsets = np.cumsum([0] + [m * d for m, d in shapes])

    def split(x):
        return [x[o : o + m * d].reshape(m, d) for o, (m, d) in zip(offsets, shapes, strict=False)]

    def egrad(x, fast=True):
        blocks = split(x)
        Xb, Yb, aux = constraint.forward(blocks)
        f, gX, gY = (loss_and_grad if fast else infonce_and_grad)(Xb, Yb, tau)
        g = np.concatenate([np.ravel(b) for b in constraint.vjp(blocks, gX, gY, aux)])
        return float(f), g, (Xb, Yb, gX, gY, aux[0])

    def proj(x, v):
        out = v.copy()
        for xb, ob in zip(split(x), split(out), strict=True):
            ob -= np.sum(ob * xb, axis=1)[:, None] * xb
        return out

    def retract(x, v):
        z = x + v
        for zb in split(z):
            zb /= np.linalg.norm(zb, axis=1)[:, None]
        return z

    def kkt(info):
        Xb, Yb, _, _, cs = info
        _, gX, gY = infonce_and_grad(Xb, Yb, tau)
        return constraint.stationarity(Xb, Yb, gX, gY, cs)

    x = np.concatenate([np.ravel(b) for b in constraint.lift(X, Y, centres)])
    x = retract(x, np.zeros_like(x))
    n_fev = 0
    f, eg, info = egrad(x)
    n_fev += 1
    res = kkt(info)
    history = [res]
    message = "step limit reached"
    steps = 0
    mu = 0.0
    for steps in range(1, max_steps + 1):
        if res <= tol:
            message = "KKT residual below tol"
            steps -= 1
            break
        B = np.zeros((P, 0))
        cols = []
        for o, (m, d), xb in zip(offsets, shapes, split(x), strict=False):
            T = _tangent_basis(xb)  # (m, d, d-1)
            for i in range(m):
                for j in range(d - 1):
                    v = np.zeros(P)
                    v[o + i * d : o + (i + 1) * d] = T[i, :, j]
                    cols.append(v)
        B = np.array(cols).T  # (P, T)
        normal = np.concatenate(
            [
                np.repeat(np.sum(eb * xb, axis=1), d)
                for eb, xb, (_, d) in zip(split(eg), split(x), shapes, strict=True)
            ]
        )
        HB = np.empty_like(B)
        for j in range(B.shape[1]):
            v = B[:, j]
            gp = egrad(x + fd_eps * v)[1]
            gm = egrad(x - fd_eps * v)[1]
            HB[:, j] = proj(x, (gp - gm) / (2.0 * fd_eps)) - normal * v
        n_fev += 2 * B.shape[1]
        H = B.T @ HB
        H = 0.5 * (H + H.T)
        gt = B.T @ proj(x, eg)
        lam, U = np.linalg.eigh(H)
        ug = U.T @ gt
        top = max(float(np.max(np.abs(lam))), 1e-300)
        null = np.abs(lam) <= 1e-10 * top
        accepted = False
        for _ in range(40):
            coef = np.where(null, 0.0, ug / (np.abs(lam) + mu))
            dt = -(U @ coef)
            pred = -(gt @ dt + 0.5 * dt @ (H @ dt))
            xn = retract(x, B @ dt)
            fn, egn, infon = egrad(xn)
            n_fev += 1
            rn = kkt(infon)
            if pred <= 1e-13 * max(1.0, abs(f)):  # below rounding: judge by the residual
                ok = rn < res
                rho = 1.0 if ok else 0.0
            else:
                rho = (f - fn) / pred
                ok = rho > 0.1
            if ok:
                accepted = True
                mu = mu / 4.0 if rho > 0.75 else (mu if rho > 0.25 else 4.0 * mu)
                break
            mu = max(4.0 * mu, 1e-12 * top)
        if not accepted:
            message = "no damped Newton step decreases the loss or the KKT residual"
            break
        x, f, eg, info, res = xn, fn, egn, infon, rn
        history.append(res)
    Xb, Yb, cs = info[0], info[1], info[4]
    loss = float(infonce_and_grad(Xb, Yb, tau)[0])
    if res <= tol:
        message = "KKT residual below tol"
    return NewtonResult(
        np.array(Xb),
        np.array(Yb),
        None if cs is None else tuple(np.array(c) for c in cs),
        loss,
        float(res),
        bool(res <= tol and math.isfinite(res)),
        message,
        steps,
        n_fev,
        history,
    )
