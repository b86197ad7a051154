"""Von Mises-Fisher (vMF) facts on the sphere S^{m-1}, computed in log space.

The paper (Yi, Douady & Chen, arXiv 2510.03268; its large-batch limit of the symmetric
InfoNCE loss, Theorems 1-3, summarised in docs/theory.md Sec. 1 and 3) models each
modality as vMF(c, kappa) on S^{h-1} and evaluates that limit through the vMF normaliser
and the moment generating function (MGF) E exp(a . y). Those are standard facts
(Mardia & Jupp, *Directional Statistics*, 2000, Sec. 9.3; DLMF Ch. 10 for the Bessel
functions):

    density     f(x) = C_m(kappa) exp(kappa c . x)   (w.r.t. surface measure on S^{m-1})
    normaliser  C_m(kappa) = kappa^nu / ((2 pi)^{m/2} I_nu(kappa)),   nu = m/2 - 1
    MGF         E exp(a . y) = C_m(kappa) / C_m(|kappa c + a|)
    uniform     E exp(a . y) = Gamma(nu + 1) (2/|a|)^nu I_nu(|a|)

Plain ``scipy.special.iv`` overflows or underflows at the sizes the paper uses
(h = 512, 1/tau = 100), so every Bessel function here is evaluated in log space.
The workhorse is the *power-scaled* log Bessel function

    L_nu(x) = log( I_nu(x) / (x/2)^nu ),      L_nu(0) = -log Gamma(nu + 1),

which is finite and continuous at x = 0; all formulas above are differences of L_nu.
It is computed on one of five branches (see :func:`bessel_branch`):

``"zero"``    x = 0: the exact limit -log Gamma(nu + 1).
``"ive"``     scipy.special.ive (AMOS, exponentially scaled) when it returns a normal
              float (>= 1e-300): L = log ive(nu, x) + x - nu log(x/2).
``"series"``  where ive underflows and x^2/4 <= nu + 1: the ascending series
              I_nu(x) = (x/2)^nu sum_j (x^2/4)^j / (j! Gamma(nu + j + 1))   (DLMF 10.25.2),
              so L = -log Gamma(nu+1) + log sum_j (x^2/4)^j / (j! (nu+1)_j); term ratio
              <= 1/(j+1), 30 terms reach double precision.
``"debye"``   where ive underflows and x^2/4 > nu + 1 (this needs large nu): the uniform
              asymptotic expansion I_nu(nu z) ~ e^{nu eta} / (sqrt(2 pi nu) (1+z^2)^{1/4})
              sum_k u_k(p) / nu^k, p = (1+z^2)^{-1/2}, eta = sqrt(1+z^2) + log(z/(1+sqrt(1+z^2)))
              (DLMF 10.41.3, polynomials u_0..u_6 from DLMF 10.41.10 / Abramowitz & Stegun 9.3.9).
``"hankel"``  where ive fails outright (it returns NaN for x >= ~1e10) and x >= 1e3 (nu+1)^2:
              the large-argument expansion I_nu(x) ~ e^x / sqrt(2 pi x)
              sum_k (-1)^k a_k(nu) / x^k (DLMF 10.40.1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special, stats

from modgap.verify._validation import (
    as_array,
    as_matrix,
    check_int_in_range,
    check_nonnegative,
)
from modgap.verify.settings import UNIT_ATOL

from ._validation import InputError

__all__ = [
    "MAX_DIM",
    "VMFMoments",
    "bessel_branch",
    "log_bessel_iv",
    "log_normalizer",
    "log_mgf_vmf",
    "log_mgf_uniform",
    "mean_resultant_length",
    "moments",
    "sample",
]

#: Largest ambient dimension m accepted (the expansions are validated well beyond 1024).
MAX_DIM = 10**7


_IVE_MIN = 1e-300  # below this ive is (close to) subnormal: fall back
_SERIES_TERMS = 30
_LOG_2PI = float(np.log(2.0 * np.pi))

# Debye polynomials u_k(p), coefficients by increasing power of p (DLMF 10.41.10, A&S 9.3.9).
_DEBYE_U = (
    (1.0,),
    (0.0, 3.0 / 24.0, 0.0, -5.0 / 24.0),
    (0.0, 0.0, 81.0 / 1152.0, 0.0, -462.0 / 1152.0, 0.0, 385.0 / 1152.0),
    tuple(
        c / 414720.0
        for c in (0.0, 0.0, 0.0, 30375.0, 0.0, -369603.0, 0.0, 765765.0, 0.0, -425425.0)
    ),
    tuple(
        c / 39813120.0
        for c in (
            0.0, 0.0, 0.0, 0.0, 4465125.0, 0.0, -94121676.0, 0.0, 349922430.0, 0.0,
            -446185740.0, 0.0, 185910725.0,
        )
    ),
    tuple(
        c / 6688604160.0
        for c in (
            0.0, 0.0, 0.0, 0.0, 0.0, 1519035525.0, 0.0, -49286948607.0, 0.0, 284499769554.0,
            0.0, -614135872350.0, 0.0, 566098157625.0, 0.0, -188699385875.0,
        )
    ),
    tuple(
        c / 4815794995200.0
        for c in (
            0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2757049477875.0, 0.0, -127577298354750.0, 0.0,
            1050760774457901.0, 0.0, -3369032068261860.0, 0.0, 5104696716244125.0, 0.0,
            -3685299006138750.0, 0.0, 1023694168371875.0,
        )
    ),
)  # fmt: skip

_BRANCH_NAMES = np.array(["zero", "ive", "series", "debye", "hankel"])
_ZERO, _IVE, _SERIES, _DEBYE, _HANKEL = range(5)


# ----------------------------------------------------------------------------- validation


def _check_dim(m: Any) -> int:
    return check_int_in_range(m, "m", 2, MAX_DIM)


def _check_nonneg_array(value: Any, name: str) -> np.ndarray:
    arr = as_array(value, name)
    if np.any(arr < 0):
        raise InputError(f"{name} must be >= 0, got min {float(np.min(arr))}")
    return arr


def _check_unit_vector(c: Any) -> np.ndarray:
    arr = as_array(c, "c", ndim=1)
    if arr.shape[0] < 2:
        raise InputError(f"c must have at least 2 coordinates (m >= 2), got shape {arr.shape}")
    dev = abs(float(np.linalg.norm(arr)) - 1.0)
    if dev > UNIT_ATOL:
        raise InputError(
            f"c must be a unit vector (| |c| - 1 | = {dev:.3g} > {UNIT_ATOL:g}); "
            "normalise it yourself (c / |c|), it is not done silently"
        )
    return arr


def _out(arr: np.ndarray, scalar: bool) -> float | np.ndarray:
    return float(arr) if scalar else arr


# ----------------------------------------------------------------------------- kernels


def _series_sum(nu: np.ndarray, q: np.ndarray) -> np.ndarray:
    """sum_j q^j / (j! (nu+1)_j) for q <= nu + 1 (all terms positive, ratio <= 1/(j+1))."""
    term = np.ones_like(q)
    total = np.ones_like(q)
    for j in range(_SERIES_TERMS):
        term = term * q / ((j + 1.0) * (nu + j + 1.0))
        total = total + term
    return total


def _debye_sum(nu: np.ndarray, p: np.ndarray) -> np.ndarray:
    """sum_{k=0}^{6} u_k(p) / nu^k, the Debye correction factor (DLMF 10.41.3)."""
    total = np.zeros_like(p)
    nu_pow = np.ones_like(p)
    for coeffs in _DEBYE_U:
        total = total + np.polynomial.polynomial.polyval(p, coeffs) / nu_pow
        nu_pow = nu_pow * nu
    return total


def _debye_log_iv(nu: np.ndarray, x: np.ndarray) -> np.ndarray:
    """log I_nu(x) by the uniform (Debye) expansion, DLMF 10.41.3; needs nu >> 1.

    With S = sqrt(nu^2 + x^2): nu eta = S + nu log(x / (nu + S)), p = nu / S.
    """
    s = np.hypot(nu, x)
    p = nu / s
    nu_eta = s + nu * np.log(x / (nu + s))
    return nu_eta - 0.5 * (_LOG_2PI + np.log(nu)) + 0.5 * np.log(p) + np.log(_debye_sum(nu, p))


def _debye_log_ratio(nu: np.ndarray, x: np.ndarray) -> np.ndarray:
    """log(I_{nu+1}(x) / I_nu(x)) from the Debye expansion, without cancellation.

    Differencing two calls of :func:`_debye_log_iv` loses ~|log I| * eps; instead, with
    S0 = sqrt(nu^2 + x^2), S1 = sqrt((nu+1)^2 + x^2), d = S1 - S0 = (2 nu + 1)/(S0 + S1):
    log ratio = d + log(x / (nu + 1 + S1)) + nu log1p(-(1 + d)/(nu + 1 + S1))
                - log1p(d / S0) / 2 + log(U_{nu+1} / U_nu),   U = Debye correction sum.
    """
    s0 = np.hypot(nu, x)
    s1 = np.hypot(nu + 1.0, x)
    d = (2.0 * nu + 1.0) / (s0 + s1)
    u0 = _debye_sum(nu, nu / s0)
    u1 = _debye_sum(nu + 1.0, (nu + 1.0) / s1)
    return (
        d
        + np.log(x / (nu + 1.0 + s1))
        + nu * np.log1p(-(1.0 + d) / (nu + 1.0 + s1))
        - 0.5 * np.log1p(d / s0)
        + np.log(u1 / u0)
    )


def _hankel_sum(nu: np.ndarray, x: np.ndarray) -> np.ndarray:
    """sum_k (-1)^k a_k(nu) / x^k, the large-argument factor of DLMF 10.40.1."""
    mu = 4.0 * nu * nu
    term = np.ones_like(x)
    total = np.ones_like(x)
    for k in range(1, 10):
        term = -term * (mu - (2.0 * k - 1.0) ** 2) / (k * 8.0 * x)
        total = total + term
    return total


def _hankel_log_iv(nu: np.ndarray, x: np.ndarray) -> np.ndarray:
    """log I_nu(x) by the large-argument expansion, DLMF 10.40.1; needs x >> nu^2."""
    return x - 0.5 * (_LOG_2PI + np.log(x)) + np.log(_hankel_sum(nu, x))


def _fallback_code(nu: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Branch where ive fails: series (x^2/4 <= nu+1), hankel (x >= 1e3 (nu+1)^2), debye."""
    with np.errstate(over="ignore"):
        q = 0.25 * x * x
    return np.where(
        q <= nu + 1.0, _SERIES, np.where(x >= 1e3 * (nu + 1.0) ** 2, _HANKEL, _DEBYE)
    ).astype(np.int8)


def _log_iv_scaled(nu: Any, x: Any) -> tuple[np.ndarray, np.ndarray]:
    """(L_nu(x) = log(I_nu(x) / (x/2)^nu), branch code), broadcast over nu and x."""
    nu_a, x_a = np.asarray(nu, dtype=np.float64), np.asarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        ive = special.ive(nu_a, x_a)
        if np.all(x_a > 0.0) and np.all(ive >= _IVE_MIN) and np.all(np.isfinite(ive)):
            # every entry on the "ive" branch (the common case): the formula below, whole
            out = np.log(ive) + x_a - nu_a * np.log(0.5 * x_a)
            return out, np.full(out.shape, _IVE, dtype=np.int8)
    nu_b, x_b = np.broadcast_arrays(nu_a, x_a)
    shape = x_b.shape
    nu_b = nu_b.astype(np.float64).ravel()
    x_b = x_b.astype(np.float64).ravel()
    out = np.empty_like(x_b)
    branch = np.full(x_b.shape, _IVE, dtype=np.int8)

    zero = x_b == 0.0
    out[zero] = -special.gammaln(nu_b[zero] + 1.0)
    branch[zero] = _ZERO

    pos = ~zero
    with np.errstate(all="ignore"):
        ive = special.ive(nu_b[pos], x_b[pos])
    ok = np.isfinite(ive) & (ive >= _IVE_MIN)
    idx = np.flatnonzero(pos)
    good, bad = idx[ok], idx[~ok]
    out[good] = np.log(ive[ok]) + x_b[good] - nu_b[good] * np.log(0.5 * x_b[good])

    if bad.size:
        nu_f, x_f = nu_b[bad], x_b[bad]
        code = _fallback_code(nu_f, x_f)
        vals = np.empty_like(x_f)
        s = code == _SERIES
        q = 0.25 * x_f[s] * x_f[s]
        vals[s] = -special.gammaln(nu_f[s] + 1.0) + np.log(_series_sum(nu_f[s], q))
        d = code == _DEBYE
        if np.any(d & (nu_f < 1.0)):  # pragma: no cover - unreachable: ive works for nu < 1
            raise FloatingPointError("Debye expansion requested for nu < 1")
        vals[d] = _debye_log_iv(nu_f[d], x_f[d]) - nu_f[d] * np.log(0.5 * x_f[d])
        h = code == _HANKEL
        vals[h] = _hankel_log_iv(nu_f[h], x_f[h]) - nu_f[h] * np.log(0.5 * x_f[h])
        out[bad] = vals
        branch[bad] = code
    return out.reshape(shape), branch.reshape(shape)


def _bessel_ratio(nu: float, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(R = I_{nu+1}(x) / I_nu(x), R / x) for x >= 0, with R / x -> 1/(2(nu+1)) at x = 0.

    Series region x^2/4 <= nu+1: R/x = S_{nu+1}(q) / (2 (nu+1) S_nu(q)) (no cancellation);
    elsewhere the ratio of ive when both are normal floats, else the Debye log-ratio
    (:func:`_debye_log_ratio`) or the ratio of the Hankel sums (x >= 1e3 (nu+2)^2).
    """
    x = np.asarray(x, dtype=np.float64)
    nu_arr = np.full_like(x, float(nu))
    r_over_x = np.empty_like(x)
    with np.errstate(over="ignore"):
        q = 0.25 * x * x
    ser = q <= nu + 1.0
    r_over_x[ser] = _series_sum(nu_arr[ser] + 1.0, q[ser]) / (
        2.0 * (nu + 1.0) * _series_sum(nu_arr[ser], q[ser])
    )
    rest = np.flatnonzero(~ser)
    if rest.size:
        xr = x[rest]
        with np.errstate(all="ignore"):
            i0 = special.ive(nu, xr)
            i1 = special.ive(nu + 1.0, xr)
        ok = np.isfinite(i0) & np.isfinite(i1) & (i0 >= _IVE_MIN) & (i1 >= _IVE_MIN)
        ratio = np.empty_like(xr)
        ratio[ok] = i1[ok] / i0[ok]
        if np.any(~ok):  # here x^2/4 > nu + 1, so only the debye or hankel rule applies
            xf = xr[~ok]
            nuf = np.full_like(xf, float(nu))
            hank = xf >= 1e3 * (nu + 2.0) ** 2  # valid for both orders nu and nu + 1
            log_ratio = np.empty_like(xf)
            log_ratio[hank] = np.log(
                _hankel_sum(nuf[hank] + 1.0, xf[hank]) / _hankel_sum(nuf[hank], xf[hank])
            )
            log_ratio[~hank] = _debye_log_ratio(nuf[~hank], xf[~hank])
            ratio[~ok] = np.exp(log_ratio)
        r_over_x[rest] = ratio / xr
    return r_over_x * x, r_over_x


# ----------------------------------------------------------------------------- public API


def log_bessel_iv(nu: Any, x: Any) -> float | np.ndarray:
    """log I_nu(x), the modified Bessel function of the first kind, for nu >= 0, x >= 0.

    Evaluated as log I_nu(x) = L_nu(x) + nu log(x/2) with the power-scaled L_nu of the
    module docstring (branches "ive", "series", "debye", "hankel"; see
    :func:`bessel_branch`), so it neither overflows (x = 1e4) nor underflows
    (nu = 511, x = 1e-8). At x = 0 it returns 0 for nu = 0 and -inf for nu > 0.
    Sources: DLMF 10.25.2 (series), 10.40.1 (Hankel), 10.41.3 (Debye).
    ``nu`` and ``x`` broadcast; a float is returned when both are scalars.
    """
    nu_a = _check_nonneg_array(nu, "nu")
    x_a = _check_nonneg_array(x, "x")
    scalar = nu_a.ndim == 0 and x_a.ndim == 0
    lsc, _ = _log_iv_scaled(nu_a, x_a)
    nu_b, x_b = np.broadcast_arrays(nu_a, x_a)
    with np.errstate(divide="ignore", invalid="ignore"):
        power = np.where(x_b > 0, nu_b * np.log(np.where(x_b > 0, 0.5 * x_b, 1.0)), 0.0)
    out = lsc + power
    out = np.where((x_b == 0) & (nu_b > 0), -np.inf, np.where((x_b == 0), 0.0, out))
    return _out(out, scalar)


def bessel_branch(nu: Any, x: Any) -> str | np.ndarray:
    """Name of the branch that evaluates log I_nu(x): "zero", "ive", "series", "debye",
    or "hankel" (rules in the module docstring). Exposed so tests can check every branch
    against an independent reference."""
    nu_a = _check_nonneg_array(nu, "nu")
    x_a = _check_nonneg_array(x, "x")
    _, code = _log_iv_scaled(nu_a, x_a)
    names = _BRANCH_NAMES[code]
    return str(names) if names.ndim == 0 else names


def log_normalizer(m: int, kappa: Any) -> float | np.ndarray:
    """log C_m(kappa), the vMF normaliser on S^{m-1} (w.r.t. surface measure).

    C_m(kappa) = kappa^{m/2-1} / ((2 pi)^{m/2} I_{m/2-1}(kappa))   (Mardia & Jupp 2000,
    eq. 9.3.4; docs/theory.md Sec. 1). With nu = m/2 - 1 and L_nu(k) = log(I_nu(k)/(k/2)^nu):

        log C_m(kappa) = -log 2 - (m/2) log pi - L_nu(kappa),

    whose kappa = 0 value is the exact limit log Gamma(m/2) - log 2 - (m/2) log pi
    = -log |S^{m-1}| (the uniform density). ``kappa`` may be an array (elementwise).
    """
    m = _check_dim(m)
    k = _check_nonneg_array(kappa, "kappa")
    nu = 0.5 * m - 1.0
    lsc, _ = _log_iv_scaled(nu, k)
    out = -np.log(2.0) - 0.5 * m * np.log(np.pi) - lsc
    return _out(out, k.ndim == 0)


def log_mgf_vmf(a: Any, c: Any, kappa: Any) -> float | np.ndarray:
    """log E_{y ~ vMF(c, kappa)} exp(a . y) = log C_m(kappa) - log C_m(|kappa c + a|).

    Source: integrate C_m(kappa) exp((kappa c + a) . y) over S^{m-1}; the integrand is an
    unnormalised vMF with parameter kappa c + a (Mardia & Jupp 2000, Sec. 9.3; docs/theory.md
    Sec. 1). Computed as L_nu(|kappa c + a|) - L_nu(kappa) (power-scaled log Bessel).

    ``a``: shape (m,) -> float, or a batch (n, m) -> array (n,). ``c``: unit vector (m,)
    (|c| = 1 within 1e-9, never normalised silently). ``kappa``: scalar >= 0.
    """
    c_arr = _check_unit_vector(c)
    kap = check_nonnegative(kappa, "kappa")
    a_arr = as_array(a, "a")
    if a_arr.ndim not in (1, 2):
        raise InputError(f"a must have shape (m,) or (n, m), got shape {a_arr.shape}")
    single = a_arr.ndim == 1
    a2 = as_matrix(a_arr[None, :] if single else a_arr, "a")
    m = c_arr.shape[0]
    if a2.shape[1] != m:
        raise InputError(
            f"a must have last dimension m = {m} (the length of c), got shape {a_arr.shape}"
        )
    _check_dim(m)
    nu = 0.5 * m - 1.0
    r = np.linalg.norm(kap * c_arr[None, :] + a2, axis=1)
    l_r, _ = _log_iv_scaled(nu, r)
    l_k, _ = _log_iv_scaled(nu, kap)
    out = l_r - l_k
    return float(out[0]) if single else out


def log_mgf_uniform(m: int, r: Any) -> float | np.ndarray:
    """log E exp(a . y) for y uniform on S^{m-1} and |a| = r:

        log[ Gamma(nu + 1) (2/r)^nu I_nu(r) ] = log Gamma(nu + 1) + L_nu(r),   nu = m/2 - 1,

    which is 0 at r = 0 (docs/theory.md Sec. 1; the kappa -> 0 limit of :func:`log_mgf_vmf`;
    it enters Theorem 1 of Yi, Douady & Chen with r = 1/tau). ``r`` may be an array.
    """
    m = _check_dim(m)
    r_arr = _check_nonneg_array(r, "r")
    nu = 0.5 * m - 1.0
    lsc, _ = _log_iv_scaled(nu, r_arr)
    out = special.gammaln(nu + 1.0) + lsc
    return _out(out, r_arr.ndim == 0)


def mean_resultant_length(m: int, kappa: Any) -> float | np.ndarray:
    """A_m(kappa) = I_{m/2}(kappa) / I_{m/2-1}(kappa) = E[x . c] for x ~ vMF(c, kappa).

    (Mardia & Jupp 2000, eq. 9.3.9: E x = A_m(kappa) c; A_m = d/dkappa log(1/C_m).)
    0 at kappa = 0, -> 1 as kappa -> inf, ~ kappa/m for small kappa. Evaluated by the
    ascending series for kappa^2/4 <= m/2 (A/kappa = S_{nu+1} / (m S_nu) with
    S_nu = sum_j (kappa^2/4)^j / (j! (nu+1)_j)), else as a ratio of ive (no overflow), and
    where ive underflows by a cancellation-free difference of Debye expansions
    (DLMF 10.41.3) or, for kappa >= 1e3 (nu+2)^2, of Hankel expansions (DLMF 10.40.1).
    ``kappa`` may be an array.
    """
    m = _check_dim(m)
    k = _check_nonneg_array(kappa, "kappa")
    ratio, _ = _bessel_ratio(0.5 * m - 1.0, np.atleast_1d(k))
    return _out(ratio.reshape(k.shape), k.ndim == 0)


@dataclass(frozen=True)
class VMFMoments:
    """First and second moments of x ~ vMF(c, kappa) on S^{m-1} (see :func:`moments`).

    mean_cos    E[x . c]         = A_m(kappa)
    second_cos  E[(x . c)^2]     = 1 - (m - 1) A_m(kappa) / kappa      (1/m at kappa = 0)
    second_orth E[(x . e)^2]     = A_m(kappa) / kappa, e unit, e . c = 0 (1/m at kappa = 0)
    """

    m: int
    kappa: float | np.ndarray
    mean_cos: float | np.ndarray
    second_cos: float | np.ndarray
    second_orth: float | np.ndarray


def moments(m: int, kappa: Any) -> VMFMoments:
    """Moments of t = x . c and of x . e (e unit, orthogonal to c), x ~ vMF(c, kappa).

    Formulas (A = A_m(kappa), nu = m/2 - 1):

        E[t]            = A
        E[t^2]          = 1 - (m - 1) A / kappa        -> 1/m at kappa = 0
        E[(x . e)^2]    = A / kappa                    -> 1/m at kappa = 0

    Derivation. (i) t has density prop. to e^{kappa t} (1 - t^2)^{(m-3)/2} on [-1, 1].
    Integrating by parts with w(t) = (1 - t^2)^{(m-1)/2}, w' = -(m-1) t (1-t^2)^{(m-3)/2}
    (boundary terms vanish for m >= 2):
    int e^{kappa t} (1 - t^2) (1 - t^2)^{(m-3)/2} dt = ((m-1)/kappa) int t e^{kappa t}
    (1 - t^2)^{(m-3)/2} dt, i.e. E[1 - t^2] = (m - 1) A / kappa. (ii) Given t, the
    component of x orthogonal to c is uniform on a sphere of radius sqrt(1 - t^2) in the
    (m-1)-dim complement, so E[(x . e)^2] = E[1 - t^2] / (m - 1) = A / kappa; equivalently
    E[t^2] + (m - 1) E[(x . e)^2] = E|x|^2 = 1. (iii) Check through the normaliser:
    with Z(kappa) = 1/C_m(kappa) prop. to kappa^{-nu} I_nu(kappa), E[t] = Z'/Z = A and
    E[t^2] = Z''/Z = (I_{nu+2} + I_{nu+1}/kappa) / I_nu = A R_{nu+1} + A/kappa, where
    R_{nu+1} = I_{nu+2}/I_{nu+1}; the recurrence I_nu - I_{nu+2} = (2(nu+1)/kappa) I_{nu+1}
    (DLMF 10.29.1) gives A R_{nu+1} = 1 - m A/kappa, hence E[t^2] = 1 - (m-1) A/kappa.

    Numerically E[t^2] is evaluated as A/kappa + A R_{nu+1} (two non-negative terms, no
    cancellation at small kappa), and A/kappa by the ascending series near kappa = 0.
    Source: Mardia & Jupp (2000), Sec. 9.3 and eq. 9.3.9.
    """
    m = _check_dim(m)
    k = _check_nonneg_array(kappa, "kappa")
    nu = 0.5 * m - 1.0
    k1 = np.atleast_1d(k)
    a, a_over_k = _bessel_ratio(nu, k1)
    r_next, _ = _bessel_ratio(nu + 1.0, k1)
    second_cos = a_over_k + a * r_next
    scalar = k.ndim == 0

    def shape(v: np.ndarray) -> float | np.ndarray:
        return _out(v.reshape(k.shape), scalar)

    return VMFMoments(
        m=m,
        kappa=_out(k, scalar),
        mean_cos=shape(a),
        second_cos=shape(second_cos),
        second_orth=shape(a_over_k),
    )


def sample(c: Any, kappa: Any, n: int, seed: int | np.random.Generator | None = None) -> np.ndarray:
    """n independent draws from vMF(c, kappa) on S^{m-1}, shape (n, m).

    kappa > 0: scipy.stats.vonmises_fisher (Wood 1994 rejection sampler). kappa = 0: the
    uniform distribution, as g / |g| with g ~ N(0, I_m) (Muller 1959). ``c`` must be a
    unit vector (|c| = 1 within 1e-9); ``seed`` an int, a Generator, or None.
    """
    c_arr = _check_unit_vector(c)
    kap = check_nonnegative(kappa, "kappa")
    n = check_int_in_range(n, "n", 1, 10**9)
    if seed is not None and not isinstance(seed, (int, np.integer, np.random.Generator)):
        raise InputError(f"seed must be an int, a numpy Generator or None, got {seed!r}")
    rng = np.random.default_rng(seed)
    m = c_arr.shape[0]
    _check_dim(m)
    if kap == 0.0:
        g = rng.standard_normal((n, m))
        return g / np.linalg.norm(g, axis=1, keepdims=True)
    c_exact = c_arr / np.linalg.norm(c_arr)  # |c| = 1 to 1e-9 already; scipy wants it exact
    x = stats.vonmises_fisher(mu=c_exact, kappa=kap).rvs(n, random_state=rng)
    return np.asarray(x, dtype=np.float64).reshape(n, m)
