"""Feasible sets of the constrained InfoNCE problems (docs/theory.md §2 of the seed paper).

Yi, Douady & Chen (arXiv 2510.03268) minimise symmetric InfoNCE over paired unit vectors
X = (x_i), Y = (y_i) in (S^{h-1})^N under one of four constraints:

- ``Unconstrained(h)``: x_i, y_i in S^{h-1} (Theorem 1);
- ``Cone(h, alpha, centres)``: each modality in a spherical cap of half-angle alpha around
  its own centre, x_i . c_x >= cos alpha, y_i . c_y >= cos alpha (the "cone effect",
  Theorem 2); the centres are either fixed unit vectors or variables of the problem;
- ``Subspace(QA, QB)``: x_i in the subspace A = span(QA), y_i in B = span(QB) (dimension
  collapse, Theorem 3); ``Subspace.hyperplanes(h, phi)`` builds two hyperplanes at angle phi;
- ``SubspaceCone(QA, QB, alpha, centres)``: caps inside the subspaces, centres in them.

These are pymanopt-style "manifold" objects, separate from the objective and the optimiser
(:mod:`verify.solvers`). Each one offers ``random_point``, ``project`` (nearest feasible
point), ``tangent`` (projection of a Euclidean gradient onto the tangent cone: the
projected gradient), ``stationarity`` (norm of that projected gradient: the first-order
KKT residual), ``violation`` and ``describe``.

Variable centres. The centres are extra variables of the state, passed as
``centres=(c_x, c_y)`` to the methods that need them (the solver returns them). Why not
"the best centre for a given X": the stationarity of a variable-centre problem involves
the centre (its KKT condition sum_i mu_i P_c x_i = 0 balances the active multipliers), and
the optimiser moves X and c jointly; a centre recomputed from X would hide that
condition. When ``centres`` is omitted the centre of the smallest cap containing the rows
is used (:meth:`Constraint.centres_for`).

Inequality constraints and the optimiser. A cap is not a manifold (it has a boundary), so
the smooth optimisers of :mod:`verify.solvers` run on a *lift*: each cap point is
written x = Exp_c(alpha w) = cos(alpha |w|) c + sin(alpha |w|) w / |w|, with
w = P_c v and (v, s) a unit vector of R^{k+1}; |w| <= 1 holds automatically, so the lift
is a product of spheres and every point of it is feasible. The boundary |w| = 1 is a fold
(s = 0) at which, under strict complementarity, the lifted problem has a non-degenerate
minimum ("squared slack" reformulation; Bertsekas, Nonlinear Programming, 3rd ed., §3.3.2).
Stationarity is always measured on the original problem, never on the lift.

The protocol. What a feasible set must offer to the solvers (verify.solvers,
verify.batched, verify.search) is the :class:`FeasibleSet` protocol below, documented
method by method in docs/constraints.md; :class:`Constraint` implements it for the four
sets above. A new feasible set needs only those members (no subclassing); the Gram
certificates (verify.certificates) additionally read :attr:`Constraint.sides`.
"""

from __future__ import annotations

import math
from typing import Any, Protocol, runtime_checkable

import numpy as np
from scipy.optimize import nnls

from modgap.verify.settings import ACTIVE_TOL

from ._validation import (
    InputError,
    as_array,
    as_matrix,
    check_angle,
    check_int_in_range,
    check_orthonormal,
    check_paired,
)
from .geometry import (
    hyperplanes_with_angle,
    orthogonal_complement,
    principal_angles,
    subspaces_with_angles,
)

__all__ = [
    "FeasibleSet",
    "random_lift_point",
    "Constraint",
    "Unconstrained",
    "Cone",
    "Subspace",
    "SubspaceCone",
    "ACTIVE_TOL",
]

#: A point lifted from the cap boundary is moved inside by this fraction of alpha (see _Side.lift).
_LIFT_NUDGE = 1e-8
#: Below this value of alpha |w| the lift uses Taylor series (no cancellation).
_SERIES_BELOW = 1e-2


@runtime_checkable
class FeasibleSet(Protocol):
    """What a feasible set of (X, Y) in (S^{h-1})^N x (S^{h-1})^N must implement.

    The solvers never see the set itself, only a *lift*: a product of spheres (blocks of
    unit rows, :meth:`block_shapes`) with a smooth map :meth:`forward` onto the feasible
    set, its chain rule :meth:`vjp`, and a right inverse :meth:`lift`. Optimality is always
    judged on the original problem by :meth:`stationarity` (first-order KKT residual) and
    :meth:`violation` (Nocedal & Wright, Numerical Optimization, 2nd ed., §12.3). Arrays
    are numpy float64 except in forward/vjp, which must also accept torch tensors with
    optional leading batch dimensions. See docs/constraints.md for a worked example.
    """

    h: int

    @property
    def has_cap(self) -> bool:
        """True when some modality has inequality constraints (caps)."""
        ...

    @property
    def variable_centres(self) -> bool:
        """True when the lift carries extra variables (cap centres) besides X and Y."""
        ...

    def check_xy(self, X, Y, names=("X", "Y")) -> tuple[np.ndarray, np.ndarray]:
        """Validated float64 (X, Y) of shape (N, h); ValueError naming the argument."""
        ...

    def resolve_centres(self, X, Y, centres) -> tuple | None:
        """The extra variables (c_x, c_y) to use at (X, Y) when ``centres`` may be None."""
        ...

    def block_shapes(self, n: int) -> list[tuple[int, int]]:
        """Shapes (m_b, d_b) of the lift's blocks; each row is a unit vector of R^{d_b}."""
        ...

    def random_params(self, n: int, rng: np.random.Generator) -> list[np.ndarray]:
        """A random point of the lift (one array per block)."""
        ...

    def lift(self, X, Y, centres) -> list[np.ndarray]:
        """Blocks whose forward image is (X, Y) (a feasible point)."""
        ...

    def forward(self, blocks: list) -> tuple[Any, Any, Any]:
        """(X, Y, aux) with aux[0] the centres (or None); every image must be feasible."""
        ...

    def vjp(self, blocks: list, gX, gY, aux) -> list:
        """Euclidean gradient of L(forward(blocks)) per block, given dL/dX and dL/dY."""
        ...

    def project(self, X, Y, centres=None) -> tuple[np.ndarray, np.ndarray]:
        """A feasible point near (X, Y) (used to start from a user-given point)."""
        ...

    def stationarity(self, X, Y, gX, gY, centres=None, *, active_tol: float = ...) -> float:
        """First-order KKT residual at (X, Y) for the Euclidean gradient (gX, gY)."""
        ...

    def violation(self, X, Y, centres=None) -> float:
        """Largest constraint violation at (X, Y) (0 for a feasible point)."""
        ...

    def snap(self, X, Y, centres, tol: float = 1e-10) -> tuple[np.ndarray, np.ndarray]:
        """Put nearly-active rows exactly on their constraint (identity without caps)."""
        ...

    def describe(self) -> dict:
        """JSON-serialisable description of the set."""
        ...


def random_lift_point(shapes, rng: np.random.Generator) -> list[np.ndarray]:
    """A uniform random point of a product of spheres: one (m, d) block per shape, rows
    standard Gaussian then normalised (uniform on S^{d-1}; Muller, CACM 2, 1959)."""
    out = []
    for m, d in shapes:
        B = rng.standard_normal((m, d))
        out.append(B / np.linalg.norm(B, axis=1, keepdims=True))
    return out


def _is_torch(a: Any) -> bool:
    return type(a).__module__.startswith("torch")


def _xp(a: Any):
    if _is_torch(a):
        import torch

        return torch
    return np


def _rng(rng) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _unit(v: np.ndarray, name: str, atol: float = 1e-9) -> np.ndarray:
    v = as_array(v, name, ndim=1)
    nrm = float(np.linalg.norm(v))
    if abs(nrm - 1.0) > atol:
        raise InputError(f"{name} must be a unit vector (|{name}| = {nrm:.12g})")
    return v / nrm


def _alpha(alpha: Any) -> float:
    a = check_angle(alpha, "alpha", low=0.0, high=math.pi)
    if a <= 0.0:
        raise InputError("alpha must lie in (0, pi] radians: a cap of half-angle 0 is one point")
    return a


def _normalize_rows_or(A: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Rows divided by their norm; (near) zero rows replaced by ``fallback`` (deterministic)."""
    nrm = np.linalg.norm(A, axis=1)
    out = np.empty_like(A)
    ok = nrm > 1e-300
    out[ok] = A[ok] / nrm[ok, None]
    out[~ok] = fallback
    return out


# ----------------------------------------------------------------------------- one modality


class _Side:
    """Constraint on one modality: rows on S(span Q) and optionally in a cap.

    Q is None (the whole R^h) or an h x k orthonormal basis. The cap is
    {x: x . c >= cos alpha} with c a fixed unit vector of span Q or a variable. All
    computations run in the coordinates a = Q^T x (k-dimensional), where the feasible set
    is S^{k-1} (intersected with a cap around gamma = Q^T c).
    """

    def __init__(
        self,
        h: int,
        name: str,
        Q: np.ndarray | None = None,
        alpha: float | None = None,
        centre: np.ndarray | None = None,
        variable: bool = False,
    ):
        self.h = h
        self.name = name
        self.Q = Q
        self.k = h if Q is None else Q.shape[1]
        self.alpha = alpha
        self.has_cap = alpha is not None
        self.vacuous_cap = self.has_cap and alpha >= math.pi
        self.variable = variable
        self.cos_a = math.cos(alpha) if alpha is not None else -1.0
        self.sin_a = math.sin(alpha) if alpha is not None else 0.0
        self.centre = centre  # ambient unit vector (fixed) or None
        self.gamma = None if centre is None else self.coords(centre[None, :])[0]
        self._cache: dict = {}

    # -- coordinates -----------------------------------------------------------------------
    def coords(self, X):
        return X if self.Q is None else X @ self._const(X, "Q")

    def embed(self, A):
        return A if self.Q is None else A @ self._const(A, "Q").T

    def _const(self, like, which: str):
        """Q or the fixed gamma as an array of the same kind, dtype and device as ``like``."""
        value = self.Q if which == "Q" else self.gamma
        if not _is_torch(like):
            return value
        key = (which, like.dtype, like.device)
        if key not in self._cache:
            import torch

            self._cache[key] = torch.as_tensor(value, dtype=like.dtype, device=like.device)
        return self._cache[key]

    # -- centres ----------------------------------------------------------------------------
    def enclosing_centre(self, X: np.ndarray) -> np.ndarray:
        """Centre of the smallest cap (inside span Q) containing the rows of X.

        If the coordinate rows a_i lie in an open hemisphere, the centre maximises
        min_i a_i . c over |c| = 1; it is z / |z| for the least-distance problem
        min |z| s.t. a_i . z >= 1, solved exactly by NNLS (Lawson & Hanson, Solving Least
        Squares Problems, 1974, ch. 23). Otherwise the normalised mean (or the first basis
        vector) is returned.
        """
        A = self.coords(X)
        E = np.vstack([A.T, np.ones((1, A.shape[0]))])
        f = np.zeros(self.k + 1)
        f[-1] = 1.0
        u, _ = nnls(E, f, maxiter=50 * E.shape[1] + 100)
        resid = E @ u - f
        if np.linalg.norm(resid) > 1e-10 and resid[-1] < -1e-14:
            g = -resid[:-1] / resid[-1]
        else:
            g = A.sum(axis=0)
        nrm = np.linalg.norm(g)
        if nrm < 1e-12:
            g = np.zeros(self.k)
            g[0] = 1.0
            nrm = 1.0
        return self.embed((g / nrm)[None, :])[0]

    def centre_for(self, X: np.ndarray, c: np.ndarray | None) -> np.ndarray | None:
        if not self.has_cap:
            return None
        if not self.variable:
            return self.centre
        if c is not None:
            c = _unit(c, f"c_{self.name.lower()}")
            if self.Q is not None:
                c = self.embed(self.coords(c[None, :]))[0]
                c /= np.linalg.norm(c)
            return c
        return self.enclosing_centre(X)

    # -- projection -------------------------------------------------------------------------
    def project(self, X: np.ndarray, c: np.ndarray | None) -> np.ndarray:
        """Nearest point of the feasible set for this centre: normalise Q^T x, then clamp to
        the cap. For any x in R^h, argmin_z |x - z| over unit z in span Q (and in the cap)
        maximises x . z, hence depends only on the direction of Q^T x."""
        A = self.coords(X)
        e1 = np.zeros(self.k)
        e1[0] = 1.0
        A = _normalize_rows_or(A, e1)
        if self.has_cap and not self.vacuous_cap:
            gamma = self.coords(c[None, :])[0]
            A = _cap_project(A, gamma, self.alpha)
        return self.embed(A)

    # -- tangent cone -----------------------------------------------------------------------
    def base_tangent(self, X: np.ndarray, gX: np.ndarray) -> np.ndarray:
        """Riemannian gradient on S(span Q), ignoring the cap: P_Q g - (g . x) x."""
        A = self.coords(X)
        gA = self.coords(gX)
        return self.embed(gA - np.sum(gA * A, axis=1)[:, None] * A)

    def tangent(
        self,
        X: np.ndarray,
        gX: np.ndarray,
        c: np.ndarray | None,
        active_tol: float,
        active: np.ndarray | None = None,
        signed: bool = False,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Projected gradient pg = r - sum_i mu_i a_i (and its centre block).

        r is the Riemannian gradient, a_i the gradient of the active constraint
        x_i . c - cos(alpha) >= 0 on the product of spheres, mu = argmin_{mu >= 0}
        |r - A^T mu|. -pg is the projection of -r onto the linearised tangent cone
        {d: a_i . d >= 0} (Moreau decomposition), and |pg| = 0 iff (x, c) is a KKT point
        (Nocedal & Wright, Numerical Optimization, 2nd ed., §12.3). Fixed centre:
        mu_i = max(0, r_i . n_i / |n_i|^2), n_i = P_{x_i} c. Variable centre: the centre
        block couples the mu_i; solved by NNLS on the (n_active + k) x n_active system.
        ``active`` (row indices) overrides the tolerance test; ``signed=True`` drops the
        sign condition (equality constraints: the Riemannian gradient on the face
        {x_i . c = cos alpha, i active}, used by verify.faces).
        """
        return self.tangent_and_multipliers(X, gX, c, active_tol, active, signed)[:2]

    def tangent_and_multipliers(
        self, X, gX, c, active_tol: float, active=None, signed: bool = False
    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray]:
        """:meth:`tangent` plus (active row indices, their multipliers mu)."""
        A = self.coords(X)
        gA = self.coords(gX)
        R = gA - np.sum(gA * A, axis=1)[:, None] * A
        none = np.zeros(0, dtype=int)
        if not self.has_cap or self.vacuous_cap:
            return self.embed(R), (np.zeros(self.h) if self.variable else None), none, np.zeros(0)
        gamma = self.coords(c[None, :])[0]
        dots = A @ gamma
        if active is None:
            act = np.flatnonzero(dots - self.cos_a <= active_tol)
        else:
            act = np.asarray(active, dtype=int)
        tc = np.zeros(self.k) if self.variable else None
        mu = np.zeros(act.size)
        if act.size:
            Nrm = gamma[None, :] - dots[act, None] * A[act]  # n_i = P_{a_i} gamma
            s = np.linalg.norm(Nrm, axis=1)
            s = np.where(s > 0.0, s, 1.0)
            b = np.sum(R[act] * Nrm, axis=1) / s
            if not self.variable:
                mu = (b if signed else np.maximum(b, 0.0)) / s
            else:
                M = A[act] - dots[act, None] * gamma[None, :]  # P_gamma a_i
                mat = np.vstack([np.diag(s), M.T])
                rhs = np.concatenate([b, np.zeros(self.k)])
                if signed:
                    mu = np.linalg.lstsq(mat, rhs, rcond=None)[0]
                else:
                    mu, _ = nnls(mat, rhs, maxiter=50 * act.size + 100)
                tc = -(mu[:, None] * M).sum(axis=0)
            R[act] -= mu[:, None] * Nrm
        return self.embed(R), (None if tc is None else self.embed(tc[None, :])[0]), act, mu

    # -- feasibility ------------------------------------------------------------------------
    def violation(self, X: np.ndarray, c: np.ndarray | None) -> float:
        """max(|x_i| - 1 in absolute value, |P_{Q-perp} x_i|, cos(alpha) - x_i . c)."""
        v = float(np.max(np.abs(np.linalg.norm(X, axis=1) - 1.0)))
        if self.Q is not None:
            off = X - self.embed(self.coords(X))
            v = max(v, float(np.max(np.linalg.norm(off, axis=1))))
        if self.has_cap:
            v = max(v, float(np.max(self.cos_a - X @ c)), 0.0)
            if self.variable:
                v = max(v, abs(float(np.linalg.norm(c)) - 1.0))
                if self.Q is not None:
                    v = max(v, float(np.linalg.norm(c - self.embed(self.coords(c[None, :]))[0])))
        return v

    # -- lift (chart) -----------------------------------------------------------------------
    def block_shapes(self, n: int) -> list[tuple[int, int]]:
        if not self.has_cap:
            return [(n, self.k)]
        shapes = [(n, self.k + 1)]
        if self.variable:
            shapes.append((1, self.k))
        return shapes

    def random_params(self, n: int, rng: np.random.Generator) -> list[np.ndarray]:
        return random_lift_point(self.block_shapes(n), rng)

    def lift(self, X: np.ndarray, c: np.ndarray | None) -> list[np.ndarray]:
        """Parameters whose forward image is X (within alpha * _LIFT_NUDGE rad, see below).

        Cap: w = (theta / alpha) u with theta = angle(x, c), u the unit direction of P_c x;
        v = w, s = sqrt(1 - |w|^2). A point on the cap boundary (|w| = 1) sits on the fold
        s = 0, where the s-gradient vanishes identically, so it could never leave the
        boundary; it is moved inside by alpha * 1e-8 rad.
        """
        A = self.coords(X)
        if not self.has_cap:
            return [A.copy()]
        gamma = self.coords(c[None, :])[0]
        cosv = A @ gamma
        P = A - cosv[:, None] * gamma[None, :]
        sinv = np.linalg.norm(P, axis=1)
        theta = np.arctan2(sinv, cosv)
        r = np.minimum(theta / self.alpha, 1.0 - _LIFT_NUDGE)
        D = np.zeros_like(P)
        ok = sinv > 1e-300
        D[ok] = P[ok] / sinv[ok, None]
        U = np.hstack([r[:, None] * D, np.sqrt(1.0 - r * r)[:, None]])
        U /= np.linalg.norm(U, axis=1, keepdims=True)
        out = [U]
        if self.variable:
            out.append(gamma[None, :].copy())
        return out

    def forward(self, blocks: list) -> tuple[Any, Any, tuple | None]:
        """(X, c, cache) from the parameter blocks; numpy or torch (same formulas), with
        optional leading batch dimensions (blocks of shape (..., m, d))."""
        if not self.has_cap:
            return self.embed(blocks[0]), None, None
        U = blocks[0]
        gamma = blocks[1][..., 0, :] if self.variable else self._const(U, "gamma")
        A, cache = _cap_forward(U, gamma, self.alpha)
        c = self.embed(gamma[..., None, :])[..., 0, :] if self.variable else self.centre
        return self.embed(A), c, cache + (gamma,)

    def vjp(self, blocks: list, gX, cache) -> list:
        """Euclidean gradient with respect to the blocks, given dL/dX (chain rule)."""
        gA = self.coords(gX)
        if not self.has_cap:
            return [gA]
        return _cap_vjp(blocks[0], gA, cache, self.alpha, self.variable)

    def describe(self) -> dict:
        d: dict[str, Any] = {"dim": self.k}
        if self.has_cap:
            d["alpha_rad"] = self.alpha
            d["alpha_deg"] = math.degrees(self.alpha)
            d["centre"] = "variable" if self.variable else self.centre.tolist()
        return d


def _cap_project(A: np.ndarray, gamma: np.ndarray, alpha: float) -> np.ndarray:
    """Rows of A (unit) clamped to the cap {a . gamma >= cos alpha}: nearest cap point
    cos(alpha) gamma + sin(alpha) u, u the unit direction of P_gamma a (same formula as
    verify.geometry.project_onto_cap, vectorised, for rows already known to be unit)."""
    cos_a, sin_a = math.cos(alpha), math.sin(alpha)
    dots = A @ gamma
    out = A.copy()
    idx = np.flatnonzero(dots < cos_a)
    if idx.size:
        T = A[idx] - dots[idx, None] * gamma[None, :]
        e = np.zeros_like(gamma)
        e[int(np.argmin(np.abs(gamma)))] = 1.0
        e -= (e @ gamma) * gamma
        U = _normalize_rows_or(T, e / np.linalg.norm(e))
        out[idx] = cos_a * gamma[None, :] + sin_a * U
    return out


def _cap_forward(U, gamma, alpha: float):
    """x = cos(alpha r) gamma + (sin(alpha r) / r) w, w = v - (v . gamma) gamma, r = |w|.

    U: (..., n, k + 1) parameters, gamma: (k,) fixed or (..., k) per batch entry; any
    leading batch dimensions are carried through (numpy or torch, same formulas)."""
    xp = _xp(U)
    k = gamma.shape[-1]
    V = U[..., :k]
    G = gamma[..., None, :]
    t = (V * G).sum(-1)
    W = V - t[..., None] * G
    r = (W * W).sum(-1) ** 0.5
    z = alpha * r
    small = z < _SERIES_BELOW
    if small.any():
        r_safe = xp.where(small, xp.ones_like(r), r)
        z2 = z * z
        Sr = xp.where(
            small,
            alpha * (1.0 - z2 / 6.0 * (1.0 - z2 / 20.0 * (1.0 - z2 / 42.0))),
            xp.sin(z) / r_safe,
        )
    else:  # no row near the centre (the usual case): the same values without the series
        r_safe = r
        Sr = xp.sin(z) / r
    C = xp.cos(z)
    A = C[..., None] * G + Sr[..., None] * W
    return A, (V, t, W, r, z, small, r_safe, Sr, C)


def _cap_vjp(U, gA, cache, alpha: float, variable: bool) -> list:
    """Chain rule of :func:`_cap_forward`; with a = g . gamma, b = g . w,
    T(r) = (alpha r cos(alpha r) - sin(alpha r)) / r^3:
    dL/dw = (-alpha Sr a + T b) w + Sr g, dL/dv = P_gamma dL/dw,
    dL/dgamma = sum_i [cos(alpha r_i) g_i - (dL/dw_i . gamma) v_i - t_i dL/dw_i]
    (leading batch dimensions carried through, as in :func:`_cap_forward`)."""
    xp = _xp(U)
    V, t, W, r, z, small, r_safe, Sr, C, gamma = cache
    k = gamma.shape[-1]
    G = gamma[..., None, :]
    if small.any():
        z2 = z * z
        a3 = alpha**3
        Tr = xp.where(
            small,
            -a3 / 3.0 + a3 * z2 / 30.0 - a3 * z2 * z2 / 840.0,
            (z * C - xp.sin(z)) / r_safe**3,
        )
    else:  # as in _cap_forward: the same values without the series
        Tr = (z * C - xp.sin(z)) / r_safe**3
    a = (gA * G).sum(-1)
    b = (gA * W).sum(-1)
    gW = (-alpha * Sr * a + Tr * b)[..., None] * W + Sr[..., None] * gA
    q = (gW * G).sum(-1)
    gU = xp.zeros_like(U)
    gU[..., :k] = gW - q[..., None] * G
    out = [gU]
    if variable:
        gg = (C[..., None] * gA).sum(-2) - (q[..., None] * V).sum(-2) - (t[..., None] * gW).sum(-2)
        out.append(gg[..., None, :])
    return out


# ----------------------------------------------------------------------------- public classes


class Constraint:
    """Feasible set for (X, Y) in (S^{h-1})^N x (S^{h-1})^N; see the module docstring.

    Subclasses only choose the two per-modality constraints; every method below is shared.
    Arrays are numpy float64 with N rows of dimension h.
    """

    kind = "constraint"

    def __init__(self, side_x: _Side, side_y: _Side):
        self._sides = (side_x, side_y)
        self.h = side_x.h

    # -- properties -------------------------------------------------------------------------
    @property
    def variable_centres(self) -> bool:
        """True when the cap centres are variables of the problem."""
        return any(s.variable for s in self._sides)

    @property
    def has_cap(self) -> bool:
        """True when the modalities are confined to caps (cone constraints)."""
        return any(s.has_cap for s in self._sides)

    # -- validation -------------------------------------------------------------------------
    def check_xy(self, X, Y, names=("X", "Y")) -> tuple[np.ndarray, np.ndarray]:
        """(X, Y) as float64 matrices, paired, of dimension h; ValueError naming the argument."""
        X = as_matrix(X, names[0])
        Y = as_matrix(Y, names[1])
        check_paired(X, Y, names)
        if X.shape[1] != self.h:
            raise InputError(
                f"{names[0]} has dimension {X.shape[1]}, the constraint lives in R^{self.h}"
            )
        return X, Y

    def resolve_centres(self, X, Y, centres) -> tuple:
        """The pair of cap centres to use at (X, Y): the fixed ones, the given variable ones
        (normalised, projected into the subspace), or the smallest enclosing caps; entries
        are None for a modality without a cap."""
        if centres is None:
            cs = (None, None)
        else:
            if len(centres) != 2:
                raise InputError("centres must be a pair (c_x, c_y)")
            cs = tuple(None if c is None else as_array(c, "centres", ndim=1) for c in centres)
            for c in cs:
                if c is not None and c.size != self.h:
                    raise InputError(f"centres must be vectors of R^{self.h}, got size {c.size}")
        return (self._sides[0].centre_for(X, cs[0]), self._sides[1].centre_for(Y, cs[1]))

    # -- public API -------------------------------------------------------------------------
    def centres_for(self, X, Y) -> tuple[np.ndarray, np.ndarray] | None:
        """The cap centres used when none are given: the fixed ones, or (variable centres)
        the centres of the smallest caps containing X and Y (see _Side.enclosing_centre);
        None for constraints without caps."""
        X, Y = self.check_xy(X, Y)
        if not self.has_cap:
            return None
        return self.resolve_centres(X, Y, None)

    def random_point(self, n: int, rng: int | np.random.Generator | None = None):
        """A random feasible (X, Y) with n rows each (image of a uniform point of the lift).

        Without caps the rows are uniform on S(A), S(B); with caps they are spread over the
        cap (not uniformly: the lift's image density grows towards the boundary).
        """
        n = check_int_in_range(n, "n", 1, 10**9)
        X, Y, _ = self.forward(self.random_params(n, _rng(rng)))
        return X, Y

    def project(self, X, Y, centres=None) -> tuple[np.ndarray, np.ndarray]:
        """Nearest feasible (X', Y'): row-wise argmin |x - x'| over the feasible set.

        x' = normalise(Q^T x) in coordinates, then clamped to the cap around c (geodesic and
        Euclidean nearest point; docs/theory.md §2). With variable centres the projection is for
        the given ``centres``, or for :meth:`centres_for` (smallest enclosing caps) when
        omitted: then already-feasible rows are unchanged (alpha <= pi/2), but in general
        this is not the nearest point of {X: some cap contains X}, which has no closed form.
        A zero row (no direction) is mapped to the first basis vector (deterministic).
        """
        X, Y = self.check_xy(X, Y)
        cx, cy = self.resolve_centres(X, Y, centres)
        return self._sides[0].project(X, cx), self._sides[1].project(Y, cy)

    def tangent(
        self, X, Y, gX, gY, centres=None, *, active_tol: float = ACTIVE_TOL
    ) -> tuple[np.ndarray, np.ndarray]:
        """Projected gradient (pg_X, pg_Y) of a Euclidean gradient (gX, gY) at (X, Y).

        Without caps: the Riemannian gradient P_T g = P_Q g - (g . x) x (Absil, Mahony &
        Sepulchre, Optimization Algorithms on Matrix Manifolds, 2008, eq. 3.37). With caps:
        pg = r - sum_i mu_i a_i over active constraints, mu = argmin_{mu >= 0} |r - A^T mu|,
        so that -pg is the steepest feasible descent direction (projection of -r onto the
        linearised tangent cone). With variable centres the centre blocks of pg are returned
        by :meth:`stationarity` only (they enter its norm).
        """
        return self._tangent(X, Y, gX, gY, centres, active_tol)[:2]

    def stationarity(self, X, Y, gX, gY, centres=None, *, active_tol: float = ACTIVE_TOL) -> float:
        """First-order KKT residual |pg| (Frobenius norm over X, Y and variable centres).

        Zero exactly at KKT points; for problems without caps it is the Riemannian gradient
        norm. This is the ``grad_norm`` reported by :func:`verify.solvers.solve`.
        """
        tX, tY, tcx, tcy = self._tangent(X, Y, gX, gY, centres, active_tol)
        sq = float(np.sum(tX * tX) + np.sum(tY * tY))
        for tc in (tcx, tcy):
            if tc is not None:
                sq += float(tc @ tc)
        return math.sqrt(sq)

    def violation(self, X, Y, centres=None) -> float:
        """Largest violation: | |x_i| - 1 |, distance of x_i to the subspace, and
        cos(alpha) - x_i . c (positive part), over both modalities (and the centres' own
        norm / subspace membership when they are variables). The solver guarantees <= 1e-12
        at returned points. Without ``centres`` a variable-centre cone uses the smallest
        enclosing caps (exact for alpha <= pi/2 and rows in an open hemisphere)."""
        X, Y = self.check_xy(X, Y)
        cx, cy = self.resolve_centres(X, Y, centres)
        return max(self._sides[0].violation(X, cx), self._sides[1].violation(Y, cy))

    def describe(self) -> dict:
        """JSON-serialisable description: kind, h, and the parameters of each modality."""
        return {
            "kind": self.kind,
            "h": self.h,
            "x": self._sides[0].describe(),
            "y": self._sides[1].describe(),
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.describe()})"

    # -- the lift and the solver-facing part of the FeasibleSet protocol --------------------
    def _tangent(self, X, Y, gX, gY, centres, active_tol):
        X, Y = self.check_xy(X, Y)
        gX, gY = self.check_xy(gX, gY, ("gX", "gY"))
        if X.shape != gX.shape:
            raise InputError(f"gX must have the shape of X {X.shape}, got {gX.shape}")
        cx, cy = self.resolve_centres(X, Y, centres)
        tX, tcx = self._sides[0].tangent(X, gX, cx, active_tol)
        tY, tcy = self._sides[1].tangent(Y, gY, cy, active_tol)
        return tX, tY, tcx, tcy

    @property
    def sides(self) -> tuple[_Side, _Side]:
        """The per-modality constraints (X side, Y side), read by verify.certificates.

        Each exposes ``Q`` (None or the h x k basis), ``has_cap``, ``vacuous_cap``
        (alpha >= pi), ``variable``, ``centre`` (fixed unit vector or None) and ``cos_a``."""
        return self._sides

    def block_shapes(self, n: int) -> list[tuple[int, int]]:
        """Shapes (m_b, d_b) of the lift's parameter blocks for n pairs; every row of every
        block is a unit vector of R^{d_b} (the lift is a product of spheres)."""
        return self._sides[0].block_shapes(n) + self._sides[1].block_shapes(n)

    def _split(self, blocks: list) -> tuple[list, list]:
        m = len(self._sides[0].block_shapes(1))
        return blocks[:m], blocks[m:]

    def random_params(self, n: int, rng: np.random.Generator) -> list[np.ndarray]:
        """A uniform random point of the lift (rows Gaussian, then normalised)."""
        return self._sides[0].random_params(n, rng) + self._sides[1].random_params(n, rng)

    def lift(self, X, Y, centres) -> list[np.ndarray]:
        """Parameter blocks whose :meth:`forward` image is (X, Y) (and the centres)."""
        cx, cy = centres if centres is not None else (None, None)
        return self._sides[0].lift(X, cx) + self._sides[1].lift(Y, cy)

    def forward(self, blocks: list):
        """(X, Y, aux) from the parameter blocks; aux[0] is the centres pair (or None).

        numpy or torch; blocks may carry leading batch dimensions (..., m_b, d_b), then X,
        Y have shape (..., n, h) (used by the batched solver, verify.batched)."""
        bx, by = self._split(blocks)
        X, cx, kx = self._sides[0].forward(bx)
        Y, cy, ky = self._sides[1].forward(by)
        centres = (cx, cy) if self.has_cap else None
        return X, Y, (centres, kx, ky)

    def vjp(self, blocks: list, gX, gY, aux) -> list:
        """Euclidean gradient with respect to the blocks given dL/dX, dL/dY and the ``aux``
        returned by :meth:`forward` (reverse-mode chain rule; batch dimensions allowed)."""
        _, kx, ky = aux
        bx, by = self._split(blocks)
        return self._sides[0].vjp(bx, gX, kx) + self._sides[1].vjp(by, gY, ky)

    def sphere_gradient(self, X, Y, gX, gY) -> tuple[np.ndarray, np.ndarray]:
        """Riemannian gradient on S(A) x S(B) ignoring caps, P_Q g - (g . x) x (used by the
        projected-gradient reference method, where the cap is handled by :meth:`project`)."""
        return self._sides[0].base_tangent(X, gX), self._sides[1].base_tangent(Y, gY)

    def snap(self, X: np.ndarray, Y: np.ndarray, centres, tol: float = 1e-10):
        """Rows within ``tol`` of a cap boundary (in x . c) put exactly on it, so that the
        active set at a returned point is exact rather than epsilon-active."""
        if not self.has_cap:
            return X, Y
        out = []
        for side, Z, c in zip(self._sides, (X, Y), centres, strict=True):
            if not side.has_cap or side.vacuous_cap:
                out.append(Z)
                continue
            d = Z @ c
            idx = np.flatnonzero(np.abs(d - side.cos_a) <= tol)
            Z = Z.copy()
            if idx.size:
                T = Z[idx] - d[idx, None] * c[None, :]
                nrm = np.linalg.norm(T, axis=1)
                T = T / nrm[:, None]
                Z[idx] = side.cos_a * c[None, :] + side.sin_a * T
            out.append(Z)
        return out[0], out[1]

    # Names used before the protocol was public (kept for code written against them).
    _check_xy = check_xy
    _centres = resolve_centres
    _block_shapes = block_shapes
    _random_params = random_params
    _lift = lift
    _forward = forward
    _vjp = vjp
    _snap = snap


class Unconstrained(Constraint):
    """No constraint: x_i, y_i anywhere on S^{h-1} (Theorem 1 of arXiv 2510.03268)."""

    kind = "none"

    def __init__(self, h: int):
        h = check_int_in_range(h, "h", 2, 1_000_000)
        super().__init__(_Side(h, "X"), _Side(h, "Y"))


class Cone(Constraint):
    """Cone (cap) constraint x_i . c_x >= cos alpha, y_i . c_y >= cos alpha (Theorem 2).

    ``centres=None``: c_x, c_y are unit-vector variables optimised with X, Y; otherwise a
    pair (c_x, c_y) of fixed unit vectors of R^h (normalised exactly after a 1e-9 check).
    alpha in (0, pi] radians (pi = no constraint).
    """

    kind = "cone"

    def __init__(self, h: int, alpha: float, centres=None):
        h = check_int_in_range(h, "h", 2, 1_000_000)
        alpha = _alpha(alpha)
        if centres is None:
            sx = _Side(h, "X", alpha=alpha, variable=True)
            sy = _Side(h, "Y", alpha=alpha, variable=True)
        else:
            if len(centres) != 2:
                raise InputError("centres must be None or a pair (c_x, c_y) of unit vectors")
            cx = _unit(centres[0], "centres[0]")
            cy = _unit(centres[1], "centres[1]")
            for i, c in enumerate((cx, cy)):
                if c.size != h:
                    raise InputError(f"centres[{i}] must have size h = {h}, got {c.size}")
            sx = _Side(h, "X", alpha=alpha, centre=cx)
            sy = _Side(h, "Y", alpha=alpha, centre=cy)
        super().__init__(sx, sy)
        self.alpha = alpha


def _bases(QA, QB) -> tuple[np.ndarray, np.ndarray]:
    QA = check_orthonormal(QA, "QA")
    QB = check_orthonormal(QB, "QB")
    if QA.shape[0] != QB.shape[0]:
        raise InputError(
            f"QA and QB must live in the same R^h, got {QA.shape[0]} and {QB.shape[0]} rows"
        )
    for name, Q in (("QA", QA), ("QB", QB)):
        if Q.shape[1] < 2:
            raise InputError(
                f"{name} spans a {Q.shape[1]}-dim subspace; need dimension >= 2 "
                "(the unit sphere of a line is two points)"
            )
    # Re-orthonormalise exactly (check_orthonormal allows 1e-8), keeping the span.
    out = []
    for Q in (QA, QB):
        q, r = np.linalg.qr(Q)
        out.append(q * np.where(np.diag(r) < 0, -1.0, 1.0)[None, :])
    return out[0], out[1]


class Subspace(Constraint):
    """Subspace constraint x_i in A = span(QA), y_i in B = span(QB) (Theorem 3).

    QA (h x kA), QB (h x kB): orthonormal columns (1e-8), kA, kB >= 2. Build them with
    :meth:`hyperplanes` (two hyperplanes at angle phi) or :meth:`with_angles`.
    """

    kind = "subspace"

    def __init__(self, QA, QB):
        QA, QB = _bases(QA, QB)
        h = QA.shape[0]
        super().__init__(_Side(h, "X", Q=QA), _Side(h, "Y", Q=QB))
        self.QA, self.QB = QA, QB

    @classmethod
    def hyperplanes(cls, h: int, phi: float, seed: int | None = None) -> Subspace:
        """A and B hyperplanes of R^h whose normals make the angle phi (radians);
        verify.geometry.hyperplanes_with_angle (standard frame when seed is None)."""
        return cls(*hyperplanes_with_angle(h, phi, seed=seed))

    @classmethod
    def with_angles(cls, h: int, angles, seed: int | None = None) -> Subspace:
        """A, B of dimension len(angles) with these principal angles (radians);
        verify.geometry.subspaces_with_angles."""
        return cls(*subspaces_with_angles(h, angles, seed=seed))

    def describe(self) -> dict:
        d = super().describe()
        d["principal_angles_deg"] = np.degrees(principal_angles(self.QA, self.QB)).tolist()
        return d

    def normals(self) -> tuple[np.ndarray, np.ndarray]:
        """Orthonormal bases of the complements A-perp, B-perp (h x (h-kA), h x (h-kB))."""
        return orthogonal_complement(self.QA, "QA"), orthogonal_complement(self.QB, "QB")


class SubspaceCone(Subspace):
    """Caps inside subspaces: x_i in A with x_i . c_x >= cos alpha, c_x in A (same for Y, B).

    ``centres=None``: c_x in S(A), c_y in S(B) are variables; otherwise fixed unit vectors
    that must lie in A and B (distance <= 1e-9).
    """

    kind = "subspace-cone"

    def __init__(self, QA, QB, alpha: float, centres=None):
        QA, QB = _bases(QA, QB)
        h = QA.shape[0]
        alpha = _alpha(alpha)
        if centres is None:
            sx = _Side(h, "X", Q=QA, alpha=alpha, variable=True)
            sy = _Side(h, "Y", Q=QB, alpha=alpha, variable=True)
        else:
            if len(centres) != 2:
                raise InputError("centres must be None or a pair (c_x, c_y) of unit vectors")
            cs = []
            for i, (c, Q, sub) in enumerate(zip(centres, (QA, QB), "AB", strict=True)):
                c = _unit(c, f"centres[{i}]")
                if c.size != h:
                    raise InputError(f"centres[{i}] must have size h = {h}, got {c.size}")
                off = float(np.linalg.norm(c - Q @ (Q.T @ c)))
                if off > 1e-9:
                    raise InputError(
                        f"centres[{i}] must lie in subspace {sub} (distance {off:.3g})"
                    )
                c = Q @ (Q.T @ c)
                cs.append(c / np.linalg.norm(c))
            sx = _Side(h, "X", Q=QA, alpha=alpha, centre=cs[0])
            sy = _Side(h, "Y", Q=QB, alpha=alpha, centre=cs[1])
        Constraint.__init__(self, sx, sy)
        self.QA, self.QB = QA, QB
        self.alpha = alpha

    @classmethod
    def hyperplanes(cls, h: int, phi: float, alpha: float, seed: int | None = None, centres=None):
        """Caps of half-angle alpha inside two hyperplanes at angle phi (radians)."""
        return cls(*hyperplanes_with_angle(h, phi, seed=seed), alpha, centres=centres)

    @classmethod
    def with_angles(cls, h: int, angles, alpha: float, seed: int | None = None, centres=None):
        """Caps of half-angle alpha inside subspaces with the given principal angles."""
        return cls(*subspaces_with_angles(h, angles, seed=seed), alpha, centres=centres)
