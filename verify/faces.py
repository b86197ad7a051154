"""Face identification for the cap constraints: converge where the lift cannot.

The smooth solvers run the cap problems (verify.constraints.Cone, SubspaceCone; Theorems 2
and 3 of Yi, Douady & Chen, arXiv 2510.03268) on a squared-slack lift in which the cap
boundary is a fold. A row whose optimum lies on the boundary approaches it only
asymptotically (slack 1e-10 after thousands of iterations) and its multiplier is never
resolved, so the KKT residual stalls (issue 12: 1e-5 to 0.5 at the iteration limit).

The remedy is the classic active-set step for problems with simple inequality constraints
(face identification, then minimisation on the face: Bertsekas, Nonlinear Programming,
3rd ed., §3.3.2 on squared slacks and the identification of active constraints; Hager &
Zhang, "A new active set algorithm for box constrained optimization", SIAM J. Optim. 17,
2006; Absil, Mahony & Sepulchre 2008 for optimisation on the resulting manifold):

1. guess the active set: rows with slack x_i . c - cos(alpha) <= ``face_tol``;
2. minimise L_N on the face: active rows constrained to the boundary circle,
   x_i = cos(alpha) c + sin(alpha) P_c v_i / |P_c v_i| (v_i on the unit sphere of the
   subspace; a smooth chart whenever v_i is not parallel to c), inactive rows on the
   usual lift (so they stay feasible), the centre a variable when it is one. The face
   is a product of spheres again (:class:`CapFace` implements the FeasibleSet protocol),
   and its Riemannian gradient is the KKT residual with multipliers of free sign;
3. check the original KKT conditions: multipliers >= 0 (rows with a negative multiplier
   want to leave the boundary and are released, most negative first) and inactive rows
   that reached the boundary join the face; repeat until the original KKT residual of
   :meth:`verify.constraints.Constraint.stationarity` is <= tol or ``rounds`` run out.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._validation import InputError
from .constraints import Constraint, _cap_forward, _cap_vjp, random_lift_point
from .solvers import solve

__all__ = ["CapFace", "polish", "FACE_TOL"]

#: Rows with slack x_i . c - cos(alpha) at most this are guessed active.
FACE_TOL = 1e-6


class CapFace:
    """The face of a cap-constrained set with a given active set (FeasibleSet protocol).

    constraint: a verify.constraints.Constraint with caps; active: a pair of integer arrays
    (row indices of X and Y held on their cap boundary). numpy only (the face is solved by
    the sequential solver)."""

    def __init__(self, constraint: Constraint, active: tuple[Any, Any]):
        if not isinstance(constraint, Constraint) or not constraint.has_cap:
            raise InputError("constraint must be a verify.constraints.Constraint with caps")
        if len(active) != 2:
            raise InputError("active must be a pair (rows of X, rows of Y)")
        self.base = constraint
        self.h = constraint.h
        self.active = tuple(np.unique(np.asarray(a, dtype=int)) for a in active)

    has_cap = True

    @property
    def variable_centres(self) -> bool:
        return self.base.variable_centres

    # -- delegated ----------------------------------------------------------------------
    def check_xy(self, X, Y, names=("X", "Y")):
        return self.base.check_xy(X, Y, names)

    def resolve_centres(self, X, Y, centres):
        return self.base.resolve_centres(X, Y, centres)

    def violation(self, X, Y, centres=None) -> float:
        return self.base.violation(X, Y, centres)

    def snap(self, X, Y, centres, tol: float = 1e-10):
        return self.base.snap(X, Y, centres, tol)

    def describe(self) -> dict:
        d = self.base.describe()
        d["face"] = {"active_x": self.active[0].tolist(), "active_y": self.active[1].tolist()}
        return d

    # -- rows of one side ---------------------------------------------------------------
    def _parts(self, side, n: int):
        act = self.active[0] if side is self.base.sides[0] else self.active[1]
        act = act[(act >= 0) & (act < n)]
        if not side.has_cap or side.vacuous_cap:
            act = act[:0]
        inact = np.setdiff1d(np.arange(n), act)
        return act, inact

    def _side_shapes(self, side, n: int) -> list[tuple[int, int]]:
        if not side.has_cap:
            return [(n, side.k)]
        act, inact = self._parts(side, n)
        shapes = []
        if act.size:
            shapes.append((act.size, side.k))
        if inact.size:
            shapes.append((inact.size, side.k + 1))
        if side.variable:
            shapes.append((1, side.k))
        return shapes

    def block_shapes(self, n: int) -> list[tuple[int, int]]:
        """Active rows (n_a, k), inactive rows (n_i, k + 1) (the cap lift), centre (1, k)."""
        s0, s1 = self.base.sides
        self._n = n
        return self._side_shapes(s0, n) + self._side_shapes(s1, n)

    def random_params(self, n: int, rng) -> list[np.ndarray]:
        return random_lift_point(self.block_shapes(n), rng)

    def _split(self, blocks):
        n = self._n
        k0 = len(self._side_shapes(self.base.sides[0], n))
        return blocks[:k0], blocks[k0:]

    def _side_forward(self, side, blocks, n):
        if not side.has_cap:
            return side.embed(blocks[0]), None, None
        act, inact = self._parts(side, n)
        i = 0
        Va = Ui = None
        if act.size:
            Va = blocks[i]
            i += 1
        if inact.size:
            Ui = blocks[i]
            i += 1
        gamma = blocks[i][0] if side.variable else side.gamma
        A = np.empty((n, side.k))
        cache: dict = {"gamma": gamma}
        if act.size:
            t = Va @ gamma
            W = Va - t[:, None] * gamma[None, :]
            r = np.linalg.norm(W, axis=1)
            U = W / r[:, None]
            A[act] = side.cos_a * gamma[None, :] + side.sin_a * U
            cache["act"] = (Va, t, r, U)
        if inact.size:
            Ai, ci = _cap_forward(Ui, gamma, side.alpha)
            A[inact] = Ai
            cache["inact"] = ci + (gamma,)
        c = side.embed(gamma[None, :])[0] if side.variable else side.centre
        return side.embed(A), c, cache

    def forward(self, blocks: list):
        """(X, Y, aux) with aux[0] the centres; active rows exactly on the boundary."""
        n = self._n
        bx, by = self._split(blocks)
        X, cx, kx = self._side_forward(self.base.sides[0], bx, n)
        Y, cy, ky = self._side_forward(self.base.sides[1], by, n)
        return X, Y, ((cx, cy), kx, ky)

    def _side_vjp(self, side, blocks, gX, cache, n):
        gA = side.coords(gX)
        if not side.has_cap:
            return [gA]
        act, inact = self._parts(side, n)
        gamma = cache["gamma"]
        out = []
        gg = np.zeros(side.k)
        if act.size:
            Va, t, r, U = cache["act"]
            G = gA[act]
            gU = side.sin_a * G
            gW = (gU - np.sum(gU * U, axis=1)[:, None] * U) / r[:, None]
            q = gW @ gamma
            out.append(gW - q[:, None] * gamma[None, :])
            gg += side.cos_a * G.sum(axis=0) - (q[:, None] * Va).sum(axis=0)
            gg -= (t[:, None] * gW).sum(axis=0)
        if inact.size:
            gi = _cap_vjp(blocks[len(out)], gA[inact], cache["inact"], side.alpha, side.variable)
            out.append(gi[0])
            if side.variable:
                gg += gi[1][0]
        if side.variable:
            out.append(gg[None, :])
        return out

    def vjp(self, blocks: list, gX, gY, aux) -> list:
        n = self._n
        _, kx, ky = aux
        bx, by = self._split(blocks)
        return self._side_vjp(self.base.sides[0], bx, gX, kx, n) + self._side_vjp(
            self.base.sides[1], by, gY, ky, n
        )

    def project(self, X, Y, centres=None):
        """The base projection, then active rows moved onto their boundary circle."""
        X, Y = self.base.check_xy(X, Y)
        cs = self.base.resolve_centres(X, Y, centres)
        X, Y = self.base.project(X, Y, cs)
        out = []
        for side, Z, c, act in zip(self.base.sides, (X, Y), cs, self.active, strict=True):
            Z = Z.copy()
            act = act[act < Z.shape[0]]
            if side.has_cap and not side.vacuous_cap and act.size:
                P = Z[act] - (Z[act] @ c)[:, None] * c[None, :]
                P /= np.linalg.norm(P, axis=1, keepdims=True)
                Z[act] = side.cos_a * c[None, :] + side.sin_a * P
            out.append(Z)
        return out[0], out[1]

    def lift(self, X, Y, centres) -> list[np.ndarray]:
        n = X.shape[0]
        self._n = n
        out = []
        for side, Z, c in zip(self.base.sides, (X, Y), centres, strict=True):
            if not side.has_cap:
                out.extend(side.lift(Z, None))
                continue
            act, inact = self._parts(side, n)
            A = side.coords(Z)
            gamma = side.coords(c[None, :])[0]
            if act.size:
                P = A[act] - (A[act] @ gamma)[:, None] * gamma[None, :]
                out.append(P / np.linalg.norm(P, axis=1, keepdims=True))
            if inact.size:
                out.append(side.lift(Z[inact], c)[0])
            if side.variable:
                out.append(gamma[None, :].copy())
        return out

    def multipliers(self, X, Y, gX, gY, centres) -> tuple[np.ndarray, np.ndarray]:
        """Signed multipliers of the active rows (face KKT), one array per modality."""
        out = []
        for side, Z, g, c, act in zip(
            self.base.sides, (X, Y), (gX, gY), centres, self.active, strict=True
        ):
            if not side.has_cap or side.vacuous_cap or not act.size:
                out.append(np.zeros(0))
                continue
            out.append(side.tangent_and_multipliers(Z, g, c, 0.0, act, signed=True)[3])
        return out[0], out[1]

    def stationarity(self, X, Y, gX, gY, centres=None, *, active_tol: float = 0.0) -> float:
        """Riemannian gradient norm on the face: the KKT residual of the equality-constrained
        problem (active rows on the boundary, multipliers of free sign)."""
        X, Y = self.base.check_xy(X, Y)
        cs = self.base.resolve_centres(X, Y, centres)
        sq = 0.0
        for side, Z, g, c, act in zip(
            self.base.sides, (X, Y), (gX, gY), cs, self.active, strict=True
        ):
            t, tc = side.tangent(Z, np.asarray(g), c, 0.0, act if side.has_cap else None, True)
            sq += float(np.sum(t * t)) + (0.0 if tc is None else float(tc @ tc))
        return math.sqrt(sq)


def polish(
    constraint: Any,
    n: int,
    tau: float,
    X: np.ndarray,
    Y: np.ndarray,
    centres=None,
    *,
    tol: float = 1e-9,
    rounds: int = 4,
    face_tol: float = FACE_TOL,
    face_iter: int = 300,
    max_steps: int = 100,
) -> tuple[dict, list[dict]]:
    """Converge an approximate minimiser: face identification (caps) + Newton.

    Without caps: :func:`verify.newton.newton_refine` on the constraint's own lift. With
    caps (a verify.constraints.Constraint): up to ``rounds`` rounds of (guess the active
    set, ``face_iter`` L-BFGS iterations on the face, Newton on the face, check the ORIGINAL
    KKT conditions, release rows with negative multipliers and add inactive rows that
    reached the boundary). Returns (final point: dict with X, Y, centres, loss, grad_norm =
    the original problem's KKT residual, violation, converged, message; history per round).
    """
    from .newton import newton_refine
    from .objective import infonce_and_grad

    history: list[dict] = []
    if not getattr(constraint, "has_cap", False) or not isinstance(constraint, Constraint):
        nr = newton_refine(constraint, n, tau, X, Y, centres, tol=tol, max_steps=max_steps)
        history.append(dict(steps=nr.steps, kkt=nr.grad_norm, message=nr.message))
        return _point(constraint, tau, nr.X, nr.Y, nr.centres, tol, "Newton refinement"), history
    cs = constraint.resolve_centres(X, Y, centres)
    act = _guess(constraint, X, Y, cs, face_tol)
    out = None
    for _ in range(rounds):
        face = CapFace(constraint, act)
        res = solve(face, n, tau, X0=X, Y0=Y, centres0=cs, tol=0.5 * tol, max_iter=face_iter)
        nr = newton_refine(
            face, n, tau, res.X, res.Y, res.centres, tol=0.5 * tol, max_steps=max_steps
        )
        X, Y, cs = nr.X, nr.Y, nr.centres
        _, gX, gY = infonce_and_grad(X, Y, tau)
        mus = face.multipliers(X, Y, gX, gY, cs)
        mu_min = min((float(m.min()) for m in mus if m.size), default=0.0)
        out = _point(constraint, tau, X, Y, cs, tol, "face identification + Newton")
        history.append(
            dict(
                active=[int(a.size) for a in act],
                face_kkt=nr.grad_norm,
                newton_steps=nr.steps,
                kkt=out["grad_norm"],
                min_multiplier=mu_min,
                loss=out["loss"],
            )
        )
        if out["converged"]:
            break
        new = _guess(constraint, X, Y, cs, face_tol)
        act = tuple(
            np.union1d(np.setdiff1d(a, a[m < -1e-12]) if m.size else a, g)
            for a, m, g in zip(act, mus, new, strict=True)
        )
    return out, history


def _point(constraint, tau, X, Y, cs, tol, how) -> dict:
    """The float64 verdict of the original problem at a refined point."""
    from .objective import infonce_and_grad

    loss, gX, gY = infonce_and_grad(X, Y, tau)
    kkt = constraint.stationarity(X, Y, gX, gY, cs)
    viol = constraint.violation(X, Y, cs)
    ok = bool(kkt <= tol and viol <= 1e-12)
    msg = f"{how}: KKT residual {kkt:.3g} ({'<=' if ok else '>'} tol {tol:.3g})"
    return dict(
        X=X,
        Y=Y,
        centres=cs,
        loss=float(loss),
        grad_norm=float(kkt),
        violation=float(viol),
        converged=ok,
        message=msg,
    )


def _guess(constraint, X, Y, cs, face_tol):
    out = []
    for side, Z, c in zip(constraint.sides, (X, Y), cs, strict=True):
        if not side.has_cap or side.vacuous_cap:
            out.append(np.zeros(0, dtype=int))
        else:
            out.append(np.flatnonzero(Z @ c - side.cos_a <= face_tol))
    return tuple(out)
