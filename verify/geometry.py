"""Geometry of the unit sphere and of linear subspaces of R^h.

Covers docs/theory.md §2 of the seed paper (Yi, Douady & Chen, arXiv 2510.03268): the unit
sphere S^{h-1}, subspaces A (image) and B (text) through the origin, their shared space
C = A ∩ B, principal angles, the rotation that maps A onto B while fixing C, projections,
and spherical caps (the cone constraint).

Subspaces are represented by h x k matrices with orthonormal columns ("bases").
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.linalg

from ._validation import (
    InputError,
    as_array,
    as_matrix,
    as_unit_rows,
    check_angle,
    check_int_in_range,
    check_orthonormal,
)

__all__ = [
    "angle_between",
    "normalize_rows",
    "orthonormal_basis",
    "orthogonal_complement",
    "random_rotation",
    "principal_angles",
    "principal_vectors",
    "subspaces_with_angles",
    "hyperplanes_with_angle",
    "shared_space",
    "rotation_onto",
    "projector",
    "project_onto_subspace",
    "project_onto_cap",
    "great_circle",
    "cap_boundary",
]


def angle_between(u: np.ndarray, v: np.ndarray) -> float:
    """Angle between two unit vectors in radians: ``2 atan2(|u - v|, |u + v|)``.

    Equal to arccos(u . v) but accurate near 0 and pi, where arccos loses half the digits
    (a 1e-8 angle has cosine 1 - 5e-17, which rounds to 1). Source: Kahan, "How futile are
    mindless assessments of roundoff in floating-point computation?" (2006), section 12.
    """
    a = np.asarray(u, dtype=np.float64)
    b = np.asarray(v, dtype=np.float64)
    return float(2.0 * np.arctan2(np.linalg.norm(a - b), np.linalg.norm(a + b)))


def normalize_rows(X, name: str = "X") -> np.ndarray:
    """Rows mapped onto the unit sphere: x_i -> x_i / |x_i|.

    Raises ValueError for NaN/inf, a wrong number of dimensions, or a zero row (whose
    direction is undefined). A 1-D input is treated as a single row.
    """
    arr = as_array(X, name)
    if arr.ndim == 1:
        return as_unit_rows(arr[None, :], name, normalize=True)[0]
    return as_unit_rows(arr, name, normalize=True)


def orthonormal_basis(M, name: str = "M", *, rtol: float = 1e-10) -> np.ndarray:
    """Orthonormal basis (h x r) of the column span of an h x k matrix M.

    Computed from the SVD M = U S V^T, keeping the r columns of U with
    s_i > rtol * s_max (Golub & Van Loan, Matrix Computations, §2.5.5).
    """
    arr = as_matrix(M, name)
    U, s, _ = np.linalg.svd(arr, full_matrices=False)
    if s[0] == 0.0:
        raise InputError(f"{name} is the zero matrix; its column span is {{0}}")
    return U[:, s > rtol * s[0]]


def orthogonal_complement(Q, name: str = "Q") -> np.ndarray:
    """Orthonormal basis (h x (h-k)) of the orthogonal complement of span(Q).

    Q must have orthonormal columns. Uses the full SVD of Q (last h - k left vectors).
    """
    Q = check_orthonormal(Q, name)
    U, _, _ = np.linalg.svd(Q, full_matrices=True)
    return U[:, Q.shape[1] :]


def random_rotation(h: int, seed: int | np.random.Generator | None = 0) -> np.ndarray:
    """A Haar-random h x h rotation (det = +1).

    QR of a standard Gaussian matrix with the sign fix of Mezzadri (2007), "How to generate
    random matrices from the classical compact groups", then one column flipped if det < 0.
    """
    h = check_int_in_range(h, "h", 1, 1_000_000)
    rng = np.random.default_rng(seed)
    Q, R = np.linalg.qr(rng.standard_normal((h, h)))
    Q = Q * np.sign(np.diag(R))
    if np.linalg.det(Q) < 0:
        Q[:, 0] = -Q[:, 0]
    return Q


def principal_angles(A, B) -> np.ndarray:
    """Principal angles between span(A) and span(B), in radians, ASCENDING (smallest first).

    theta_i = arccos(sigma_i(A^T B)) for orthonormal bases A (h x p), B (h x q); there are
    min(p, q) of them, in [0, pi/2]. Computed with scipy.linalg.subspace_angles, which
    combines the cosine and sine formulas for accuracy at small angles (Knyazev & Argentati
    2002), and which returns them in DESCENDING order; here they are sorted ascending.
    A and B must have orthonormal columns (ValueError otherwise).
    """
    A = check_orthonormal(A, "A")
    B = check_orthonormal(B, "B", h=A.shape[0])
    return np.sort(scipy.linalg.subspace_angles(A, B))


def principal_vectors(A, B) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Principal angles (ascending) and principal vector pairs of span(A), span(B).

    With A^T B = U diag(cos theta) V^T (Bjorck & Golub 1973), the principal vectors are
    u_i = A U[:, i] and v_i = B V[:, i], and u_i . v_j = delta_ij cos theta_i.
    Returns (theta, UA, VB) with UA, VB of shape (h, min(p, q)).
    """
    A = check_orthonormal(A, "A")
    B = check_orthonormal(B, "B", h=A.shape[0])
    U, s, Vt = np.linalg.svd(A.T @ B, full_matrices=False)
    UA, VB = A @ U, B @ Vt.T
    # Angles from both cosine and sine (accurate at both ends), ascending as s is descending.
    sines = np.linalg.norm(VB - UA * s[None, :], axis=0)
    theta = np.arctan2(sines, np.clip(s, 0.0, 1.0))
    return theta, UA, VB


def subspaces_with_angles(
    h: int, angles: Sequence[float], seed: int | np.random.Generator | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Two k-dim subspaces of R^h whose principal angles are exactly ``angles`` (radians).

    Construction: orthonormal e_1..e_k, f_1..f_m (m = number of non-zero angles);
    A = span(e_i), B = span(cos theta_i e_i + sin theta_i f_i). Needs k + m <= h.
    With ``seed`` None the frame is the standard basis; otherwise a Haar-random rotation
    is applied to both. Returns bases (QA, QB), each h x k.
    """
    h = check_int_in_range(h, "h", 1, 1_000_000)
    theta = as_array(angles, "angles", ndim=1)
    for i, t in enumerate(theta):
        check_angle(t, f"angles[{i}]")
    k = check_int_in_range(theta.size, "len(angles)", 1, h)
    nonzero = np.flatnonzero(theta > 0)
    if k + nonzero.size > h:
        raise InputError(
            f"impossible subspace dimensions: two {k}-dim subspaces with {nonzero.size} "
            f"non-zero principal angles need h >= {k + nonzero.size}, got h = {h}"
        )
    E = np.eye(h)
    QA = E[:, :k].copy()
    QB = E[:, :k].copy()
    for j, i in enumerate(nonzero):
        QB[:, i] = np.cos(theta[i]) * E[:, i] + np.sin(theta[i]) * E[:, k + j]
    if seed is not None:
        R = random_rotation(h, seed)
        QA, QB = R @ QA, R @ QB
    return QA, QB


def hyperplanes_with_angle(
    h: int, phi: float, seed: int | np.random.Generator | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Two hyperplanes (dimension h-1) of R^h through the origin at angle ``phi``.

    The special case of :func:`subspaces_with_angles` with angles (0, ..., 0, phi): the
    hyperplanes share an (h-2)-dim space C and the angle between their normals is phi
    (docs/theory.md §2, subspace constraint). Needs h >= 2 (h >= 3 for a non-trivial C).
    """
    h = check_int_in_range(h, "h", 2, 1_000_000)
    phi = check_angle(phi, "phi")
    return subspaces_with_angles(h, [0.0] * (h - 2) + [phi], seed=seed)


def shared_space(A, B, *, tol: float = 1e-8) -> np.ndarray:
    """Orthonormal basis of the shared space C = span(A) ∩ span(B).

    C is spanned by the principal vectors whose principal angle is <= ``tol`` radians
    (docs/theory.md §2). Returns an h x c matrix (c may be 0).
    """
    theta, UA, VB = principal_vectors(A, B)
    keep = theta <= tol
    if not np.any(keep):
        return np.zeros((UA.shape[0], 0))
    return orthonormal_basis(0.5 * (UA[:, keep] + VB[:, keep]), "shared directions")


def rotation_onto(A, B, *, tol: float = 1e-12) -> np.ndarray:
    """The direct rotation R (h x h, R^T R = I, det R = 1) with R span(A) = span(B).

    For each principal pair (u_i, v_i) with angle theta_i > 0, R rotates the plane
    span(u_i, v_i) by theta_i, taking u_i to v_i; it is the identity on the shared space
    C = A ∩ B and on the orthogonal complement of A + B (the "direct rotation" of
    Davis & Kahan 1970; the hyperplane rotation of the seed paper, Corollary 3).
    R = I + sum_i [(cos theta_i - 1)(u_i u_i^T + w_i w_i^T) + sin theta_i (w_i u_i^T - u_i w_i^T)],
    w_i = (v_i - cos theta_i u_i) / sin theta_i. A and B must have the same dimension.
    """
    A = check_orthonormal(A, "A")
    B = check_orthonormal(B, "B", h=A.shape[0])
    if A.shape[1] != B.shape[1]:
        raise InputError(
            f"A and B must have the same dimension to rotate one onto the other, "
            f"got {A.shape[1]} and {B.shape[1]}"
        )
    theta, UA, VB = principal_vectors(A, B)
    R = np.eye(A.shape[0])
    for t, u, v in zip(theta, UA.T, VB.T, strict=True):
        if t <= tol:
            continue
        w = v - np.cos(t) * u
        w /= np.linalg.norm(w)
        R += (np.cos(t) - 1.0) * (np.outer(u, u) + np.outer(w, w))
        R += np.sin(t) * (np.outer(w, u) - np.outer(u, w))
    return R


def projector(Q) -> np.ndarray:
    """Orthogonal projector P = Q Q^T onto span(Q); Q must have orthonormal columns."""
    Q = check_orthonormal(Q, "Q")
    return Q @ Q.T


def project_onto_subspace(X, Q) -> np.ndarray:
    """Rows of X projected orthogonally onto span(Q): x -> Q Q^T x (no renormalisation)."""
    Q = check_orthonormal(Q, "Q")
    arr = as_array(X, "X")
    if arr.shape[-1] != Q.shape[0]:
        raise InputError(f"X has dimension {arr.shape[-1]}, Q lives in R^{Q.shape[0]}")
    return (arr @ Q) @ Q.T


def project_onto_cap(X, c, alpha: float) -> np.ndarray:
    """Nearest point (geodesically and in R^h) of the cap {x in S^{h-1}: x.c >= cos alpha}.

    For a unit row x outside the cap: x' = cos(alpha) c + sin(alpha) u with
    u = (x - (x.c) c) / |x - (x.c) c|; rows inside the cap are unchanged. For x = -c
    every boundary point is nearest; the one towards the first coordinate axis not
    parallel to c is returned (deterministic). X: (n, h) unit rows or one unit vector;
    c: unit vector; alpha in [0, pi].
    """
    alpha = check_angle(alpha, "alpha", high=np.pi)
    c = as_array(c, "c", ndim=1)
    if abs(np.linalg.norm(c) - 1.0) > 1e-9:
        raise InputError(f"c must be a unit vector, got norm {np.linalg.norm(c):.6g}")
    arr = as_array(X, "X")
    single = arr.ndim == 1
    rows = as_unit_rows(arr[None, :] if single else arr, "X", atol=1e-9)
    if rows.shape[1] != c.size:
        raise InputError(f"X has dimension {rows.shape[1]}, c has dimension {c.size}")
    cos_a = np.cos(alpha)
    dots = rows @ c
    out = rows.copy()
    outside = dots < cos_a
    if np.any(outside):
        tang = rows[outside] - dots[outside, None] * c[None, :]
        norms = np.linalg.norm(tang, axis=1)
        degenerate = norms < 1e-12
        if np.any(degenerate):
            axis = int(np.argmin(np.abs(c)))
            e = np.zeros_like(c)
            e[axis] = 1.0
            e -= (e @ c) * c
            tang[degenerate] = e / np.linalg.norm(e)
            norms[degenerate] = 1.0
        u = tang / norms[:, None]
        out[outside] = cos_a * c[None, :] + np.sin(alpha) * u
    return out[0] if single else out


def great_circle(Q, n: int = 200) -> np.ndarray:
    """``n`` points of the great circle of the plane span(Q) (Q: h x 2, orthonormal).

    Points ``cos(t) q_1 + sin(t) q_2`` for ``t = linspace(0, 2 pi, n)`` (the first point is
    repeated at the end, closing the curve); shape (n, h). Used to draw the hyperplanes A,
    B of the subspace constraint on S^2 (docs/theory.md §2; seed paper Figs. 1 and 3).
    """
    Q = check_orthonormal(Q, "Q")
    if Q.shape[1] != 2:
        raise ValueError(f"Q must span a plane (h x 2), got shape {Q.shape}")
    n = check_int_in_range(n, "n", 2, 10**7)
    t = np.linspace(0.0, 2.0 * np.pi, n)
    return np.outer(np.cos(t), Q[:, 0]) + np.outer(np.sin(t), Q[:, 1])


def cap_boundary(c, alpha: float, n: int = 200) -> np.ndarray:
    """``n`` points of the boundary circle {x in S^2: x . c = cos alpha} of a cap (h = 3).

    The great circle orthogonal to the unit vector c (:func:`great_circle` of
    :func:`orthogonal_complement`), each point moved onto the cap by
    :func:`project_onto_cap`: x' = cos(alpha) c + sin(alpha) u. alpha in [0, pi/2).
    The cone constraint of docs/theory.md §2 (seed paper Fig. 1); shape (n, 3).
    """
    c = as_array(c, "c", ndim=1)
    if c.size != 3:
        raise ValueError(f"c must be a unit vector of R^3, got {c.size} entries")
    alpha = check_angle(alpha, "alpha", high=np.pi)
    if not alpha < 0.5 * np.pi:
        raise ValueError(f"alpha must be below pi/2 (a proper cap), got {alpha}")
    return project_onto_cap(great_circle(orthogonal_complement(c[:, None]), n), c, alpha)
