"""Post-hoc alignment operators for paired embeddings (scikit-learn style fit/transform).

Each operator is learned from one set of embeddings and applied to another:
``fit(X, Y) -> self`` estimates the parameters (attributes ending in ``_``),
``transform(X, Y) -> (X', Y')`` maps images ``X`` (n_x, d) and texts ``Y`` (n_y, d) and
returns unit rows; ``fit_transform`` does both on the same data. Rows must be unit vectors
(within 1e-6; 1e-5 for float32 input) unless the operator was built with
``normalize=True``, which divides every input row by its norm first. The two modalities
need the same dimension d but not the same number of rows (e.g. five captions per image).
float32 input stays float32 (fitted statistics are accumulated in float64); anything
else is float64.

Operators (formulas in each class):

- :class:`SharedSpaceProjection` -- SSP of the seed paper (Yi, Douady & Chen, arXiv
  2510.03268, appendix; docs/theory.md §4): project both modalities onto the estimated shared
  space C = A ∩ B and renormalise (Corollary 4: perfect alignment of pairs with P_C x != 0).
- :class:`HyperplaneRotation` -- the seed paper's hyperplane rotation (Corollary 3):
  rotate the image subspace A onto the text subspace B, fixing C.
- :class:`Translation` -- Liang et al. 2022 ("Mind the Gap", NeurIPS): shift both
  modalities along the gap direction.
- :class:`Removal` -- Schrodi et al. 2025 ("Two Effects, One Trigger", ICLR): drop the
  coordinates with the largest mean difference.
- :class:`Centring` -- Zhang et al. 2023 (DrML, "Diagnosing and Rectifying Vision Models
  using Language", ICLR): subtract each modality's mean.

A row whose image under an operator has (near) zero norm has no direction: ``transform``
raises ValueError saying how many rows, never returns NaN.

Principal subspaces are estimated from the d x d second-moment (or covariance) matrix,
accumulated in float64 over row chunks: its eigenpairs are the squared singular values
and right singular vectors of the data matrix, at O(n d^2) time and O(d^2) extra memory
(no n x d float64 copy, no n x n matrix). The dimension rule is the one of
:func:`verify.metrics.principal_subspace`: the smallest r whose cumulative energy reaches
``variance`` of the total.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg

from modgap.verify.settings import MIN_NORM

from ._validation import InputError, as_array, as_unit_rows, check_int_in_range, check_positive
from .geometry import principal_vectors, rotation_onto

__all__ = [
    "NotFittedError",
    "second_moment",
    "principal_basis",
    "SharedSpaceProjection",
    "HyperplaneRotation",
    "Translation",
    "Removal",
    "Centring",
    "OPERATORS",
]

# Relative slack in the cumulative-energy rule (same as verify.metrics), so that
# variance=1.0 on exactly rank-r data returns r despite rounding in zero eigenvalues.
_ENERGY_RTOL = 1e-12
_CHUNK_ROWS = 8192


# ---------------------------------------------------------------------------------------
# Validation and small helpers


def _dtype_of(value: Any) -> type:
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        value = value.detach().cpu().numpy()
    dt = getattr(value, "dtype", None)
    return np.float32 if dt in (np.float16, np.float32) else np.float64


def _unit_rows(value: Any, name: str, *, normalize: bool, d: int | None = None) -> np.ndarray:
    """Unit rows of ``value`` (float32 kept, else float64); ``d`` = required dimension."""
    dtype = _dtype_of(value)
    atol = 1e-5 if dtype is np.float32 else 1e-6
    arr = as_unit_rows(value, name, normalize=normalize, atol=atol, dtype=dtype)
    if d is not None and arr.shape[1] != d:
        raise InputError(
            f"{name} has dimension {arr.shape[1]}, but the operator was fitted in R^{d}"
        )
    return arr


def _pair_inputs(
    X: Any, Y: Any, *, normalize: bool, d: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    Xa = _unit_rows(X, "X", normalize=normalize, d=d)
    Ya = _unit_rows(Y, "Y", normalize=normalize, d=d)
    if Xa.shape[1] != Ya.shape[1]:
        raise InputError(
            f"X and Y must live in the same space R^d, got d = {Xa.shape[1]} and {Ya.shape[1]}"
        )
    return Xa, Ya


def _renormalise(Z: np.ndarray, name: str, what: str) -> np.ndarray:
    """Rows divided by their norm; ValueError if any norm is below :data:`MIN_NORM`."""
    norms = np.sqrt(np.einsum("ij,ij->i", Z, Z, dtype=np.float64))
    tiny = np.flatnonzero(norms < MIN_NORM)
    if tiny.size:
        raise InputError(
            f"{what}: {tiny.size} of {Z.shape[0]} rows of {name} have (near) zero norm "
            f"(< {MIN_NORM:g}) after the operator (first at index {int(tiny[0])}); their "
            "direction is undefined, so they cannot be renormalised"
        )
    Z /= norms.astype(Z.dtype)[:, None]
    return Z


def _mean64(Z: np.ndarray) -> np.ndarray:
    return Z.mean(axis=0, dtype=np.float64)


def _check_variance(value: Any) -> float:
    v = check_positive(value, "variance")
    if v > 1.0:
        raise InputError(f"variance must lie in (0, 1], got {v}")
    return v


def second_moment(X: Any, *, centred: bool = False) -> np.ndarray:
    """The d x d matrix G = sum_i (x_i - m)(x_i - m)^T (m = mean row, or 0 if not centred).

    Its eigenvalues are the squared singular values s_k^2 of the (centred) data matrix and
    its eigenvectors the right singular vectors (X = U S V^T => X^T X = V S^2 V^T).
    Computed in one pass over row chunks with the BLAS rank-k update syrk (half the flops
    of a general product), each chunk product in the input's precision (float32 stays
    float32, 8192 rows at a time) and summed in float64; the
    centred matrix is sum_i x_i x_i^T - n m m^T (float64). No n x d float64 copy is made.
    X: (n, d) finite matrix (any rows; no normalisation).
    """
    arr = as_array(X, "X", ndim=2, dtype=_dtype_of(X))
    n, d = arr.shape
    syrk = scipy.linalg.blas.ssyrk if arr.dtype == np.float32 else scipy.linalg.blas.dsyrk
    U = np.zeros((d, d))  # upper triangle of sum_i x_i x_i^T
    for lo in range(0, n, _CHUNK_ROWS):
        chunk = np.ascontiguousarray(arr[lo : lo + _CHUNK_ROWS])
        # chunk.T is Fortran-ordered (d x rows): syrk gives triu(chunk.T @ chunk), no copy
        U += syrk(1.0, chunk.T, trans=0, lower=0)
    G = np.triu(U) + np.triu(U, 1).T
    if centred:
        m = _mean64(arr)
        G -= n * np.outer(m, m)
    return G


def _energy_count(energy: np.ndarray, variance: float) -> int:
    cum = np.cumsum(energy)
    k = int(np.searchsorted(cum, variance * cum[-1] * (1.0 - _ENERGY_RTOL), side="left")) + 1
    return min(k, energy.size)


def principal_basis(
    X: Any = None,
    *,
    variance: float = 0.99,
    k: int | None = None,
    centred: bool = False,
    gram: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Top right singular vectors of X up to ``variance`` cumulative energy, and all energies.

    With X = U S V^T (rows minus their mean if ``centred``), returns (V[:, :r], s^2), s^2
    descending (length d, zeros beyond the rank), where r is the smallest count with
    sum_{i<=r} s_i^2 >= variance sum_i s_i^2 (or r = k if given). Computed as the
    eigendecomposition of :func:`second_moment`; pass ``gram`` (that matrix, already
    centred or not) instead of X to reuse one. Seed paper, appendix SSP algorithm
    (docs/theory.md §4); the same rule as :func:`verify.metrics.principal_subspace`.
    """
    variance = _check_variance(variance)
    if gram is None:
        if X is None:
            raise InputError("principal_basis needs X or gram")
        G = second_moment(X, centred=centred)
    else:
        G = as_array(gram, "gram", ndim=2)
        if G.shape[0] != G.shape[1]:
            raise InputError(f"gram must be a square d x d matrix, got shape {G.shape}")
    lam, V = np.linalg.eigh(G)
    lam, V = np.clip(lam[::-1], 0.0, None), V[:, ::-1]
    if lam[0] <= 0.0:
        raise InputError("X has no energy (all rows zero, or all equal when centred)")
    if k is None:
        r = _energy_count(lam, variance)
    else:
        r = check_int_in_range(k, "k", 1, lam.size)
    return np.ascontiguousarray(V[:, :r]), lam


class NotFittedError(ValueError, AttributeError):
    """``transform`` called before ``fit`` (a ValueError, like scikit-learn's)."""


class _Operator:
    """Shared fit/transform plumbing: validation, fitted check, fit_transform."""

    _fitted_attr = ""

    def __init__(self, *, normalize: bool = False) -> None:
        self.normalize = bool(normalize)

    def _check_fitted(self) -> int:
        if not hasattr(self, self._fitted_attr):
            raise NotFittedError(
                f"{type(self).__name__} is not fitted yet: call fit(X, Y) before transform"
            )
        return self.n_features_in_

    def fit(self, X: Any, Y: Any) -> _Operator:  # pragma: no cover - overridden
        raise NotImplementedError

    def transform(self, X: Any, Y: Any) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
        raise NotImplementedError

    def fit_transform(self, X: Any, Y: Any) -> tuple[np.ndarray, np.ndarray]:
        """``fit(X, Y)`` then ``transform(X, Y)``."""
        return self.fit(X, Y).transform(X, Y)

    def get_params(self) -> dict[str, Any]:
        """The constructor parameters (scikit-learn style): attributes not ending in ``_``."""
        return {k: v for k, v in vars(self).items() if not k.endswith("_")}

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"


# ---------------------------------------------------------------------------------------
# SSP


class SharedSpaceProjection(_Operator):
    """Shared space projection (SSP) of the seed paper: x* = P_C x / |P_C x|, y* = P_C y / |P_C y|.

    Source: Yi, Douady & Chen, arXiv 2510.03268, appendix algorithm (docs/theory.md §4;
    Corollary 4: perfect alignment of every pair with P_C x_i != 0 at the optimum).

    Fit: right singular vectors of each embedding matrix up to ``variance`` cumulative
    energy give bases B_X (d x r_x) and B_Y (d x r_y); the SVD
    B_X^T B_Y = U diag(sigma) V^T gives principal vector pairs (B_X u_i, B_Y v_i) with
    cosines sigma_i; those with sigma_i > 1 - ``eps`` span the shared space C,
    ``d_overlap_`` = their number (about 212 on MSCOCO per the paper). Each shared
    direction is the normalised mean of its two principal vectors (they differ by an
    angle below arccos(1 - eps)). The basis of C is then ordered by projected variance:
    eigenvectors of C^T (G_X / n_x + G_Y / n_y) C, descending, with G the (centred, if
    ``centred``) second-moment matrices -- this project's reading of "top k by projected
    variance", which does not depend on the arbitrary basis of C. With ``k`` given only the
    first k are kept (the paper uses k = 10 in one experiment).

    Centring (the paper does not say): ``centred=False`` (default, this project's
    reading) takes the SVDs of the raw embedding matrices, i.e. subspaces through the
    origin, as in the subspace constraint of docs/theory.md §2; ``centred=True`` subtracts
    each modality's mean before its SVD. Either way the transform projects the raw rows.

    Transform: x* = S S^T x / |S^T x| with S = ``shared_basis_`` (d x k'); outputs stay in
    R^d. Rows with |S^T x| < 1e-6 raise ValueError (no direction).

    When no cosine exceeds 1 - eps the fit succeeds with ``d_overlap_ = 0`` (a finding,
    e.g. for an analysis report) and ``transform`` raises ValueError.

    Fitted attributes: ``basis_x_``, ``basis_y_``, ``dim_x_``, ``dim_y_``,
    ``cosines_`` (sigma, descending), ``principal_angles_`` (radians, ascending),
    ``d_overlap_``, ``shared_basis_`` (d x k'), ``projected_variance_``,
    ``second_moment_x_``, ``second_moment_y_`` (the d x d matrices the bases come from,
    centred if ``centred``), ``mean_x_``, ``mean_y_``, ``n_samples_x_``, ``n_samples_y_``,
    ``n_features_in_``.
    """

    _fitted_attr = "shared_basis_"

    def __init__(
        self,
        variance: float = 0.99,
        eps: float = 1e-3,
        k: int | None = None,
        centred: bool = False,
        *,
        normalize: bool = False,
    ) -> None:
        super().__init__(normalize=normalize)
        self.variance = variance
        self.eps = eps
        self.k = k
        self.centred = centred

    def fit(self, X: Any, Y: Any) -> SharedSpaceProjection:
        """Estimate B_X, B_Y and the shared space C from images X and texts Y."""
        variance = _check_variance(self.variance)
        eps = check_positive(self.eps, "eps")
        if eps >= 1.0:
            raise InputError(f"eps must lie in (0, 1), got {eps}")
        Xa, Ya = _pair_inputs(X, Y, normalize=self.normalize)
        d = Xa.shape[1]
        Gx = second_moment(Xa, centred=bool(self.centred))
        Gy = second_moment(Ya, centred=bool(self.centred))
        Bx, _ = principal_basis(Xa, variance=variance, gram=Gx)
        By, _ = principal_basis(Ya, variance=variance, gram=Gy)
        theta, UA, VB = principal_vectors(Bx, By)  # ascending angles, paired vectors
        cosines = np.cos(theta)  # the singular values of B_X^T B_Y, descending
        d_overlap = int(np.count_nonzero(cosines > 1.0 - eps))
        if self.k is not None:
            k = check_int_in_range(self.k, "k", 1, d)
            if k > d_overlap:
                raise InputError(
                    f"k = {k} exceeds the number of shared directions found, d_overlap = "
                    f"{d_overlap} (cosine > 1 - eps = {1 - eps:g}); use k <= {d_overlap}, "
                    "a larger eps, or no k"
                )
        if d_overlap:
            # principal_vectors orders pairs by descending cosine, like ``cosines``
            # the mid-points of near-identical principal pairs are orthogonal up to O(eps):
            # a QR re-orthonormalises them
            C, _ = np.linalg.qr(0.5 * (UA[:, :d_overlap] + VB[:, :d_overlap]))
            Mvar = C.T @ (Gx / Xa.shape[0] + Gy / Ya.shape[0]) @ C
            pv, W = np.linalg.eigh(0.5 * (Mvar + Mvar.T))
            order = np.argsort(pv)[::-1]
            C, pv = C @ W[:, order], pv[order]
            if self.k is not None:
                C, pv = C[:, : self.k], pv[: self.k]
        else:
            C, pv = np.zeros((d, 0)), np.zeros(0)
        self.basis_x_, self.basis_y_ = Bx, By
        self.dim_x_, self.dim_y_ = int(Bx.shape[1]), int(By.shape[1])
        self.second_moment_x_, self.second_moment_y_ = Gx, Gy
        self.mean_x_, self.mean_y_ = _mean64(Xa), _mean64(Ya)
        self.n_samples_x_, self.n_samples_y_ = int(Xa.shape[0]), int(Ya.shape[0])
        self.cosines_ = cosines
        self.principal_angles_ = np.sort(theta)
        self.d_overlap_ = d_overlap
        self.projected_variance_ = pv
        self.n_features_in_ = d
        self.shared_basis_ = C
        return self

    def transform(self, X: Any, Y: Any) -> tuple[np.ndarray, np.ndarray]:
        """(P_C X / |P_C x|, P_C Y / |P_C y|) row-wise, in R^d."""
        d = self._check_fitted()
        Xa, Ya = _pair_inputs(X, Y, normalize=self.normalize, d=d)
        S = self.shared_basis_
        if S.shape[1] == 0:
            raise InputError(
                "SharedSpaceProjection: the fitted shared space is {0} (d_overlap_ = 0: no "
                f"cosine between the two subspaces exceeds 1 - eps = {1 - self.eps:g}, largest "
                f"{self.cosines_[0]:.6f}); there is nothing to project onto"
            )
        out = []
        for Z, name in ((Xa, "X"), (Ya, "Y")):
            Sz = S.astype(Z.dtype)
            out.append(_renormalise((Z @ Sz) @ Sz.T, name, "SharedSpaceProjection"))
        return out[0], out[1]


# ---------------------------------------------------------------------------------------
# Hyperplane rotation


class HyperplaneRotation(_Operator):
    """Hyperplane rotation of the seed paper: x' = R x / |R x|, y' = y, R the direct rotation
    taking the image subspace A onto the text subspace B and fixing C = A ∩ B.

    Source: Yi, Douady & Chen, arXiv 2510.03268, Corollary 3 (rotation gives perfect
    alignment in the planted model x_i = p_i + s_i a, y_i = p_i + s_i b); the rotation is
    :func:`verify.geometry.rotation_onto` (Davis & Kahan's direct rotation).

    Fit: A and B are the principal subspaces of X and Y (right singular vectors, SVD not
    centred unless ``centred``), of one common dimension r: ``dim`` if given, otherwise
    the larger of the two ``variance``-energy dimensions (the smaller subspace is then
    extended by its next singular vectors; a rotation needs equal dimensions, and taking
    the larger loses none of either modality's 99% energy). R = rotation_onto(A, B).
    Only X is moved; Y is returned as given (unit rows).

    Fitted attributes: ``basis_x_``, ``basis_y_`` (d x r), ``dim_``, ``dim_x_``, ``dim_y_``
    (the two variance dimensions), ``principal_angles_`` (radians, ascending),
    ``rotation_`` (d x d), ``n_features_in_``.
    """

    _fitted_attr = "rotation_"

    def __init__(
        self,
        variance: float = 0.99,
        dim: int | None = None,
        centred: bool = False,
        *,
        normalize: bool = False,
    ) -> None:
        super().__init__(normalize=normalize)
        self.variance = variance
        self.dim = dim
        self.centred = centred

    def fit(self, X: Any, Y: Any) -> HyperplaneRotation:
        """Estimate A, B and the rotation R with R A = B."""
        variance = _check_variance(self.variance)
        Xa, Ya = _pair_inputs(X, Y, normalize=self.normalize)
        d = Xa.shape[1]
        Gx = second_moment(Xa, centred=bool(self.centred))
        Gy = second_moment(Ya, centred=bool(self.centred))
        Bx, lam_x = principal_basis(Xa, variance=variance, gram=Gx)
        By, lam_y = principal_basis(Ya, variance=variance, gram=Gy)
        self.dim_x_, self.dim_y_ = int(Bx.shape[1]), int(By.shape[1])
        if self.dim is None:
            r = max(self.dim_x_, self.dim_y_)
        else:
            r = check_int_in_range(self.dim, "dim", 1, d)
        Bx, _ = principal_basis(Xa, k=r, gram=Gx)
        By, _ = principal_basis(Ya, k=r, gram=Gy)
        R = rotation_onto(Bx, By)
        theta, _, _ = principal_vectors(Bx, By)
        self.basis_x_, self.basis_y_, self.dim_ = Bx, By, int(r)
        self.principal_angles_ = np.sort(theta)
        self.n_features_in_ = d
        self.rotation_ = R
        return self

    def transform(self, X: Any, Y: Any) -> tuple[np.ndarray, np.ndarray]:
        """(R x / |R x| row-wise, Y)."""
        d = self._check_fitted()
        Xa, Ya = _pair_inputs(X, Y, normalize=self.normalize, d=d)
        Xr = Xa @ self.rotation_.T.astype(Xa.dtype)
        return _renormalise(Xr, "X", "HyperplaneRotation"), Ya.copy()


# ---------------------------------------------------------------------------------------
# Translation, removal, centring


class Translation(_Operator):
    """Gap translation of Liang et al. 2022: x' = normalise(x - (lam/2) g),
    y' = normalise(y + (lam/2) g), g = (m_x - m_y) / |m_x - m_y| the gap direction.

    Source: Liang, Zhang, Kwon, Yeung, Zou, "Mind the Gap" (NeurIPS 2022), §4 (shifting
    embeddings along the gap vector). m_x, m_y are the fitted means of the unit rows;
    ``lam`` defaults to the fitted centroid distance |m_x - m_y|, which makes the two
    translated means coincide before renormalisation (so the gap closes to first order).
    Negative ``lam`` widens the gap.

    Fitted attributes: ``mean_x_``, ``mean_y_``, ``gap_direction_``,
    ``centroid_distance_``, ``lam_``, ``n_features_in_``.
    """

    _fitted_attr = "lam_"

    def __init__(self, lam: float | None = None, *, normalize: bool = False) -> None:
        super().__init__(normalize=normalize)
        self.lam = lam

    def fit(self, X: Any, Y: Any) -> Translation:
        """Estimate the means, the gap direction and lam."""
        Xa, Ya = _pair_inputs(X, Y, normalize=self.normalize)
        mx, my = _mean64(Xa), _mean64(Ya)
        diff = mx - my
        dist = float(np.linalg.norm(diff))
        if dist < 1e-12:
            raise InputError(
                "the two modality means coincide (centroid distance < 1e-12): the gap "
                "direction is undefined, there is nothing to translate"
            )
        if self.lam is None:
            lam = dist
        else:
            lam = as_array(self.lam, "lam", ndim=0).item()
        self.mean_x_, self.mean_y_ = mx, my
        self.gap_direction_ = diff / dist
        self.centroid_distance_ = dist
        self.n_features_in_ = Xa.shape[1]
        self.lam_ = float(lam)
        return self

    def transform(self, X: Any, Y: Any) -> tuple[np.ndarray, np.ndarray]:
        """(normalise(x - lam/2 g), normalise(y + lam/2 g)) row-wise."""
        d = self._check_fitted()
        Xa, Ya = _pair_inputs(X, Y, normalize=self.normalize, d=d)
        shift = 0.5 * self.lam_ * self.gap_direction_
        Xt = _renormalise(Xa - shift.astype(Xa.dtype), "X", "Translation")
        Yt = _renormalise(Ya + shift.astype(Ya.dtype), "Y", "Translation")
        return Xt, Yt


class Removal(_Operator):
    """Coordinate removal of Schrodi et al. 2025: drop the k coordinates with the largest
    |m_x[j] - m_y[j]| (fitted means of the unit rows), then renormalise.

    Source: Schrodi, Hoffmann, Argus, Fischer, Brox, "Two Effects, One Trigger: On the
    Modality Gap, Object Bias, and Information Imbalance in Contrastive Vision-Language
    Models" (ICLR 2025). Implementation detail (this project's): the dropped coordinates are
    set to 0 instead of deleted, so outputs stay in R^d and keep their coordinates; every
    inner product, norm and distance equals that of the shortened vectors. Ties in
    |m_x - m_y| are broken by the lower coordinate index.

    Fitted attributes: ``mean_difference_`` (m_x - m_y), ``removed_`` (the k indices,
    largest |difference| first), ``n_features_in_``.
    """

    _fitted_attr = "removed_"

    def __init__(self, k: int, *, normalize: bool = False) -> None:
        super().__init__(normalize=normalize)
        self.k = k

    def fit(self, X: Any, Y: Any) -> Removal:
        """Estimate the mean difference and choose the k coordinates to drop."""
        Xa, Ya = _pair_inputs(X, Y, normalize=self.normalize)
        d = Xa.shape[1]
        k = check_int_in_range(self.k, "k", 1, d - 1)
        diff = _mean64(Xa) - _mean64(Ya)
        order = np.argsort(-np.abs(diff), kind="stable")
        self.mean_difference_ = diff
        self.n_features_in_ = d
        self.removed_ = order[:k].copy()
        return self

    def transform(self, X: Any, Y: Any) -> tuple[np.ndarray, np.ndarray]:
        """Rows with the removed coordinates zeroed, renormalised."""
        d = self._check_fitted()
        Xa, Ya = _pair_inputs(X, Y, normalize=self.normalize, d=d)
        out = []
        for Z, name in ((Xa, "X"), (Ya, "Y")):
            Z = Z.copy()
            Z[:, self.removed_] = 0.0
            out.append(_renormalise(Z, name, "Removal"))
        return out[0], out[1]


class Centring(_Operator):
    """Modality centring of DrML: x' = normalise(x - m_x), y' = normalise(y - m_y).

    Source: Zhang, HaoChen, Huang, Wang, Zou, Yeung, "Diagnosing and Rectifying Vision
    Models using Language" (DrML, ICLR 2023): subtract each modality's mean embedding.
    m_x, m_y are the means of the unit rows of the FIT set; transforming another set
    subtracts those fitted means (its own means are not re-estimated).

    Fitted attributes: ``mean_x_``, ``mean_y_``, ``n_features_in_``.
    """

    _fitted_attr = "mean_y_"

    def fit(self, X: Any, Y: Any) -> Centring:
        """Estimate the two modality means."""
        Xa, Ya = _pair_inputs(X, Y, normalize=self.normalize)
        self.mean_x_ = _mean64(Xa)
        self.n_features_in_ = Xa.shape[1]
        self.mean_y_ = _mean64(Ya)
        return self

    def transform(self, X: Any, Y: Any) -> tuple[np.ndarray, np.ndarray]:
        """(normalise(x - m_x), normalise(y - m_y)) row-wise."""
        d = self._check_fitted()
        Xa, Ya = _pair_inputs(X, Y, normalize=self.normalize, d=d)
        Xc = _renormalise(Xa - self.mean_x_.astype(Xa.dtype), "X", "Centring")
        Yc = _renormalise(Ya - self.mean_y_.astype(Ya.dtype), "Y", "Centring")
        return Xc, Yc


#: CLI names of the operators.
OPERATORS: dict[str, type[_Operator]] = {
    "ssp": SharedSpaceProjection,
    "rotation": HyperplaneRotation,
    "translation": Translation,
    "removal": Removal,
    "centring": Centring,
}
