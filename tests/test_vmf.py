"""Checks of verify.vmf against independent computations.

References used (never verify.vmf itself):
- mpmath at 50 significant digits (besseli, loggamma, log) for the normaliser, log I_nu,
  the mean resultant length and the moments;
- scipy.integrate quadrature of the density on S^1 and S^2;
- Monte Carlo with samples drawn by scipy.stats.vonmises_fisher (Wood 1994) or by
  normalised Gaussians, compared within 5 standard errors of the MC mean (seeded);
- closed forms (I_{1/2}(x) = sqrt(2/(pi x)) sinh x).

Tolerance for the mpmath comparisons: |value - reference| <= 1e-10 * max(1, |reference|)
(relative 1e-10, with an absolute floor of 1e-10 where the log normaliser crosses 0).
Measured when this file was written: worst 2.2e-15 on the normaliser grid below.
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
from scipy import integrate, stats

from modgap.verify import vmf

RTOL = 1e-10
N_SE = 5.0  # Monte Carlo tolerance: 5 standard errors of the MC mean

GRID_M = (2, 3, 10, 64, 512, 1024)
GRID_KAPPA = (0.0, 1e-8, 1e-3, 1.0, 10.0, 100.0, 1e3, 1e4)

mp.mp.dps = 50


def _mp_besseli(nu, x):
    return mp.besseli(nu, x, maxterms=10**6)


def _ref_log_normalizer(m: int, kappa: float) -> float:
    """log C_m(kappa) at 50 digits; kappa = 0 via the surface area of S^{m-1}."""
    with mp.workdps(50):
        half = mp.mpf(m) / 2
        if kappa == 0:
            return float(mp.loggamma(half) - mp.log(2) - half * mp.log(mp.pi))
        k = mp.mpf(kappa)
        nu = half - 1
        return float(nu * mp.log(k) - half * mp.log(2 * mp.pi) - mp.log(_mp_besseli(nu, k)))


def _rel_err(value: float, ref: float) -> float:
    return abs(value - ref) / max(1.0, abs(ref))


def _unit(m: int, seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal(m)
    return v / np.linalg.norm(v)


# --------------------------------------------------------------------------- normaliser


def test_log_normalizer_vs_mpmath_grid():
    errs = []
    for m in GRID_M:
        for kappa in GRID_KAPPA:
            ref = _ref_log_normalizer(m, kappa)
            got = vmf.log_normalizer(m, kappa)
            assert isinstance(got, float)
            errs.append(_rel_err(got, ref))
            assert errs[-1] <= RTOL, (m, kappa, got, ref)
    assert max(errs) <= RTOL


def test_grid_exercises_every_finite_branch():
    used = {vmf.bessel_branch(m / 2 - 1, k) for m in GRID_M for k in GRID_KAPPA}
    assert {"zero", "ive", "series", "debye"} <= used


def test_log_normalizer_vectorised_matches_mpmath():
    kappas = np.array(GRID_KAPPA)
    for m in (3, 512):
        got = vmf.log_normalizer(m, kappas)
        assert isinstance(got, np.ndarray) and got.shape == kappas.shape
        ref = np.array([_ref_log_normalizer(m, k) for k in kappas])
        assert np.all(np.abs(got - ref) <= RTOL * np.maximum(1.0, np.abs(ref)))


def test_log_normalizer_continuous_at_zero():
    for m in (2, 3, 64, 1024):
        assert vmf.log_normalizer(m, 1e-300) == pytest.approx(
            _ref_log_normalizer(m, 0.0), rel=1e-14, abs=1e-14
        )


@pytest.mark.parametrize(
    ("nu", "x", "branch"),
    [
        (0.0, 0.0, "zero"),
        (3.0, 0.0, "zero"),
        (0.0, 1e-5, "ive"),
        (0.5, 50.0, "ive"),
        (31.0, 1e-8, "ive"),
        (511.0, 300.0, "ive"),
        (511.0, 1e-8, "series"),
        (255.0, 1.0, "series"),
        (2000.0, 80.0, "series"),
        (511.0, 100.0, "debye"),
        (2000.0, 900.0, "debye"),
        (20000.0, 2e4, "debye"),
        (0.0, 2e10, "hankel"),
        (1.5, 1e12, "hankel"),
        (40.0, 5e10, "hankel"),
    ],
)
def test_log_bessel_iv_each_branch_vs_mpmath(nu, x, branch):
    assert vmf.bessel_branch(nu, x) == branch
    got = vmf.log_bessel_iv(nu, x)
    if x == 0:
        assert got == (0.0 if nu == 0 else -math.inf)
        return
    ref = float(mp.log(_mp_besseli(mp.mpf(nu), mp.mpf(x))))
    assert _rel_err(got, ref) <= RTOL, (nu, x, got, ref)


def test_log_bessel_iv_half_order_closed_form():
    # I_{1/2}(x) = sqrt(2/(pi x)) sinh x: log = x + log((1 - e^{-2x}) / 2) + log sqrt(2/(pi x))
    x = np.array([1e-6, 0.3, 1.0, 30.0, 700.0, 5e3, 1e11])
    ref = x + np.log(-np.expm1(-2 * x) / 2) + 0.5 * np.log(2 / (np.pi * x))
    got = vmf.log_bessel_iv(0.5, x)
    assert np.allclose(got, ref, rtol=1e-12, atol=0)


def test_negative_control_wrong_order_normaliser_is_rejected():
    """Order m/2 instead of m/2 - 1 in the Bessel function must fail the mpmath check."""

    def wrong_log_normalizer(m: int, kappa: float) -> float:
        nu = m / 2 - 1
        return (
            nu * math.log(kappa) - m / 2 * math.log(2 * math.pi) - vmf.log_bessel_iv(nu + 1, kappa)
        )

    for m in GRID_M:
        for kappa in (1e-3, 1.0, 10.0, 100.0, 1e3, 1e4):
            ref = _ref_log_normalizer(m, kappa)
            # weakest case m = 2, kappa = 1e4: I_1/I_0 = 1 - 1/(2 kappa) + ..., error 5e-9
            assert _rel_err(wrong_log_normalizer(m, kappa), ref) > 10 * RTOL, (m, kappa)


# --------------------------------------------------------------------------- quadrature


@pytest.mark.parametrize("kappa", [0.0, 0.5, 5.0, 80.0])
def test_density_integrates_to_one_on_circle(kappa):
    log_c = vmf.log_normalizer(2, kappa)
    mu = 0.7  # angle of the centre; the integral must not depend on it
    val, err = integrate.quad(
        lambda t: math.exp(log_c + kappa * math.cos(t - mu)), 0.0, 2 * math.pi, limit=200
    )
    assert abs(val - 1.0) <= 1e-10 + err


@pytest.mark.parametrize("kappa", [0.0, 2.0, 25.0])
def test_density_integrates_to_one_on_s2(kappa):
    log_c = vmf.log_normalizer(3, kappa)
    c = _unit(3, 5)  # a generic centre: full 2-D quadrature over (theta, phi)

    def f(phi, theta):
        x = np.array(
            [math.sin(theta) * math.cos(phi), math.sin(theta) * math.sin(phi), math.cos(theta)]
        )
        return math.exp(log_c + kappa * float(c @ x)) * math.sin(theta)

    val, err = integrate.dblquad(f, 0.0, math.pi, 0.0, 2 * math.pi, epsabs=1e-11, epsrel=1e-11)
    assert abs(val - 1.0) <= 1e-8


# --------------------------------------------------------------------------- Monte Carlo


def _within_se(samples: np.ndarray, target: float) -> tuple[bool, float, float]:
    mean = float(np.mean(samples))
    se = float(np.std(samples, ddof=1) / math.sqrt(samples.size))
    return abs(mean - target) <= N_SE * se + 1e-14, mean, se


def _scipy_vmf(c: np.ndarray, kappa: float, n: int, seed: int) -> np.ndarray:
    return stats.vonmises_fisher(mu=c, kappa=kappa).rvs(n, random_state=seed)


@pytest.mark.parametrize(
    ("m", "kappa", "scale"),
    [(2, 3.0, 0.8), (3, 0.5, 1.5), (3, 20.0, 1.0), (10, 5.0, 1.2), (64, 40.0, 1.5)],
)
def test_log_mgf_vmf_vs_monte_carlo(m, kappa, scale):
    c = _unit(m, m)
    a = scale * _unit(m, 100 + m)
    y = _scipy_vmf(c, kappa, 40_000, seed=m)
    ok, mean, se = _within_se(np.exp(y @ a), math.exp(vmf.log_mgf_vmf(a, c, kappa)))
    assert ok, (mean, se)


def test_log_mgf_vmf_negative_control_fails_monte_carlo():
    """A wrong MGF (exp(kappa |a|)-style: log C_m(kappa) - log C_m(kappa + |a|)) is rejected."""
    m, kappa = 3, 2.0
    c = _unit(m, 1)
    a = 1.5 * _unit(m, 2)  # not parallel to c, so |kappa c + a| < kappa + |a|
    wrong = vmf.log_normalizer(m, kappa) - vmf.log_normalizer(m, kappa + np.linalg.norm(a))
    y = _scipy_vmf(c, kappa, 40_000, seed=3)
    ok, _, _ = _within_se(np.exp(y @ a), math.exp(wrong))
    assert not ok


def test_log_mgf_vmf_batch_matches_single_rows():
    m, kappa = 5, 3.0
    c = _unit(m, 7)
    a = np.random.default_rng(8).standard_normal((6, m))
    batch = vmf.log_mgf_vmf(a, c, kappa)
    assert batch.shape == (6,)
    single = np.array([vmf.log_mgf_vmf(row, c, kappa) for row in a])
    assert np.array_equal(batch, single)
    # and each row against mpmath: log C(kappa) - log C(|kappa c + a|)
    for row, got in zip(a, batch, strict=True):
        r = float(np.linalg.norm(kappa * c + row))
        ref = _ref_log_normalizer(m, kappa) - _ref_log_normalizer(m, r)
        assert abs(got - ref) <= 1e-12


@pytest.mark.parametrize(("m", "r"), [(2, 1.0), (3, 2.0), (10, 3.0), (64, 4.0)])
def test_log_mgf_uniform_vs_monte_carlo(m, r):
    rng = np.random.default_rng(1000 + m)
    g = rng.standard_normal((40_000, m))
    y = g / np.linalg.norm(g, axis=1, keepdims=True)
    a = r * _unit(m, m + 1)
    ok, mean, se = _within_se(np.exp(y @ a), math.exp(vmf.log_mgf_uniform(m, r)))
    assert ok, (mean, se)


def test_log_mgf_uniform_vs_mpmath_and_zero():
    assert vmf.log_mgf_uniform(512, 0.0) == 0.0
    for m, r in [(3, 1.0), (512, 100.0), (1024, 1e-3), (1024, 1e4)]:
        nu = mp.mpf(m) / 2 - 1
        R = mp.mpf(r)
        ref = float(mp.loggamma(nu + 1) + nu * mp.log(2 / R) + mp.log(_mp_besseli(nu, R)))
        assert _rel_err(vmf.log_mgf_uniform(m, r), ref) <= RTOL


def test_uniform_mgf_is_the_kappa_to_zero_limit_of_vmf_mgf():
    for m in (2, 3, 64, 512):
        c = _unit(m, 11)
        a = 2.5 * _unit(m, 12)
        uni = vmf.log_mgf_uniform(m, 2.5)
        assert vmf.log_mgf_vmf(a, c, 0.0) == pytest.approx(uni, rel=1e-13, abs=1e-13)
        # kappa -> 0: the error is O(kappa), the limit is approached linearly
        errs = [abs(vmf.log_mgf_vmf(a, c, k) - uni) for k in (1e-3, 1e-5, 1e-7)]
        assert errs[1] < 0.02 * errs[0] and errs[2] < 0.02 * errs[1] + 1e-13


# --------------------------------------------------------------------------- moments


def _mp_moments(m: int, kappa: float) -> tuple[float, float, float]:
    nu = mp.mpf(m) / 2 - 1
    k = mp.mpf(kappa)
    a = _mp_besseli(nu + 1, k) / _mp_besseli(nu, k)
    return float(a), float(1 - (m - 1) * a / k), float(a / k)


@pytest.mark.parametrize(
    ("m", "kappa"),
    [(2, 1e-6), (3, 0.3), (10, 10.0), (64, 1e-3), (512, 50.0), (1024, 100.0), (1024, 1e4),
     (5000, 1500.0), (3, 1e11)],
)  # fmt: skip
def test_moments_vs_mpmath(m, kappa):
    ref = _mp_moments(m, kappa)
    mo = vmf.moments(m, kappa)
    got = (mo.mean_cos, mo.second_cos, mo.second_orth)
    for g, r in zip(got, ref, strict=True):
        assert abs(g - r) <= RTOL * abs(r), (m, kappa, g, r)
    assert abs(vmf.mean_resultant_length(m, kappa) - ref[0]) <= RTOL * ref[0]


@pytest.mark.parametrize("m", [2, 3, 64, 1024])
def test_moments_at_kappa_zero(m):
    mo = vmf.moments(m, 0.0)
    assert mo.mean_cos == 0.0
    assert mo.second_cos == pytest.approx(1 / m, rel=1e-15)
    assert mo.second_orth == pytest.approx(1 / m, rel=1e-15)
    assert vmf.mean_resultant_length(m, 0.0) == 0.0


@pytest.mark.parametrize(
    ("m", "kappa"), [(2, 2.0), (3, 0.0), (3, 8.0), (10, 1.0), (10, 30.0), (64, 20.0)]
)
def test_moments_vs_monte_carlo(m, kappa):
    c = _unit(m, 20 + m)
    e = np.random.default_rng(21 + m).standard_normal(m)
    e -= (e @ c) * c
    e /= np.linalg.norm(e)
    if kappa == 0.0:
        g = np.random.default_rng(22).standard_normal((40_000, m))
        x = g / np.linalg.norm(g, axis=1, keepdims=True)
    else:
        x = _scipy_vmf(c, kappa, 40_000, seed=23 + m)
    t, s = x @ c, x @ e
    mo = vmf.moments(m, kappa)
    for samples, target in ((t, mo.mean_cos), (t**2, mo.second_cos), (s**2, mo.second_orth)):
        ok, mean, se = _within_se(samples, target)
        assert ok, (m, kappa, mean, se, target)
    ok, _, _ = _within_se(t, vmf.mean_resultant_length(m, kappa))
    assert ok


def test_moments_vectorised_and_sum_to_one():
    kappas = np.array([0.0, 1e-6, 0.5, 7.0, 300.0, 1e4])
    for m in (2, 3, 100):
        mo = vmf.moments(m, kappas)
        assert mo.mean_cos.shape == kappas.shape
        # E|x|^2 = E[t^2] + (m - 1) E[(x.e)^2] = 1
        assert np.allclose(mo.second_cos + (m - 1) * mo.second_orth, 1.0, rtol=0, atol=1e-13)
        assert np.all(np.diff(mo.mean_cos) > 0)
        assert np.array_equal(mo.mean_cos, vmf.mean_resultant_length(m, kappas))


# --------------------------------------------------------------------------- sampling


def test_sample_shape_seed_and_mean():
    c = _unit(4, 30)
    x = vmf.sample(c, 6.0, 20_000, seed=1)
    assert x.shape == (20_000, 4)
    assert np.allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-12)
    assert np.array_equal(x, vmf.sample(c, 6.0, 20_000, seed=1))
    ref = _mp_moments(4, 6.0)[0]
    ok, mean, se = _within_se(x @ c, ref)
    assert ok, (mean, se, ref)


def test_sample_kappa_zero_is_uniform():
    c = _unit(3, 31)
    x = vmf.sample(c, 0.0, 30_000, seed=2)
    assert x.shape == (30_000, 3)
    # on S^2 each coordinate of a uniform point is uniform on [-1, 1] (Archimedes)
    assert stats.kstest(x[:, 0], stats.uniform(loc=-1, scale=2).cdf).pvalue > 1e-3
    assert np.allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-12)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("bad", [-1.0, -1e-300, math.nan, math.inf, -math.inf])
def test_bad_kappa(bad):
    c = np.array([1.0, 0.0, 0.0])
    for call in (
        lambda: vmf.log_normalizer(3, bad),
        lambda: vmf.mean_resultant_length(3, bad),
        lambda: vmf.moments(3, bad),
        lambda: vmf.log_mgf_vmf([0.1, 0.0, 0.0], c, bad),
        lambda: vmf.sample(c, bad, 5, seed=0),
    ):
        with pytest.raises(ValueError, match="kappa"):
            call()
    with pytest.raises(ValueError, match="kappa"):
        vmf.log_normalizer(3, np.array([1.0, bad]))


def test_bad_kappa_type():
    with pytest.raises(TypeError, match="kappa"):
        vmf.log_normalizer(3, "one")
    with pytest.raises(TypeError, match="kappa"):
        vmf.log_mgf_vmf([0.0, 0.0], [1.0, 0.0], "one")


@pytest.mark.parametrize("bad", [1, 0, -3])
def test_bad_dimension(bad):
    for call in (
        lambda: vmf.log_normalizer(bad, 1.0),
        lambda: vmf.log_mgf_uniform(bad, 1.0),
        lambda: vmf.mean_resultant_length(bad, 1.0),
        lambda: vmf.moments(bad, 1.0),
    ):
        with pytest.raises(ValueError, match="m"):
            call()


def test_non_integer_dimension():
    with pytest.raises(TypeError, match="m"):
        vmf.log_normalizer(3.0, 1.0)
    with pytest.raises(TypeError, match="m"):
        vmf.moments(True, 1.0)


def test_c_not_unit_is_an_error_not_normalised():
    a = np.zeros(3)
    for c in ([1.0, 1.0, 0.0], [0.5, 0.0, 0.0], [1.0 + 1e-6, 0.0, 0.0]):
        with pytest.raises(ValueError, match="c must be a unit vector"):
            vmf.log_mgf_vmf(a, c, 1.0)
        with pytest.raises(ValueError, match="c must be a unit vector"):
            vmf.sample(c, 1.0, 3, seed=0)
    with pytest.raises(ValueError, match="c"):
        vmf.log_mgf_vmf(a, np.zeros(3), 1.0)
    with pytest.raises(ValueError, match="c"):
        vmf.sample([[1.0, 0.0]], 1.0, 3)
    with pytest.raises(ValueError, match="c"):
        vmf.sample([1.0], 1.0, 3)
    with pytest.raises(ValueError, match="c"):
        vmf.sample([math.nan, 1.0], 1.0, 3)


def test_a_shape_mismatch():
    c = np.array([1.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="a must have last dimension"):
        vmf.log_mgf_vmf(np.zeros(4), c, 1.0)
    with pytest.raises(ValueError, match="a must have last dimension"):
        vmf.log_mgf_vmf(np.zeros((5, 2)), c, 1.0)
    with pytest.raises(ValueError, match="a must have shape"):
        vmf.log_mgf_vmf(np.zeros((2, 2, 3)), c, 1.0)
    with pytest.raises(ValueError, match="a"):
        vmf.log_mgf_vmf([math.inf, 0.0, 0.0], c, 1.0)
    with pytest.raises(TypeError, match="a"):
        vmf.log_mgf_vmf(["x", "y", "z"], c, 1.0)


@pytest.mark.parametrize("bad", [0, -2])
def test_bad_sample_count(bad):
    with pytest.raises(ValueError, match="n"):
        vmf.sample([1.0, 0.0], 1.0, bad)


def test_bad_sample_count_and_seed_types():
    with pytest.raises(TypeError, match="n"):
        vmf.sample([1.0, 0.0], 1.0, 2.5)
    with pytest.raises(TypeError, match="seed"):
        vmf.sample([1.0, 0.0], 1.0, 3, seed="abc")


def test_bad_r_and_bessel_arguments():
    with pytest.raises(ValueError, match="r"):
        vmf.log_mgf_uniform(3, -0.1)
    with pytest.raises(ValueError, match="r"):
        vmf.log_mgf_uniform(3, math.nan)
    with pytest.raises(ValueError, match="nu"):
        vmf.log_bessel_iv(-0.5, 1.0)
    with pytest.raises(ValueError, match="x"):
        vmf.log_bessel_iv(1.0, -1.0)
    with pytest.raises(ValueError, match="x"):
        vmf.bessel_branch(1.0, math.inf)
